import { Duration } from 'luxon';
import { invalid } from './errors';

export const minRelationshipDays = 1;
/** "No permanent relationships": two years, P2Y = 730 days. */
export const maxRelationshipDays = 730;
export const autoExtendDays = 180;

export type AutoExtendDuration = 'PT0S' | 'P180D';

// Calendar units are normalised to fixed day counts so P2Y is exactly the P730D maximum.
const daysPerUnit = { years: 365, months: 30, weeks: 7, days: 1 } as const;

/** Parses an ISO 8601 date-only duration (years, months, weeks, days) into whole days, or undefined. */
export function durationToDays(value: string): number | undefined {
  if (typeof value !== 'string' || !/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(0+H)?(0+M)?(0+S)?)?$/i.test(value)) {
    return undefined;
  }
  if (/T$/i.test(value)) return undefined;
  const duration = Duration.fromISO(value.toUpperCase());
  if (!duration.isValid) return undefined;
  const { years, months, weeks, days } = duration.toObject();
  return (
    (years ?? 0) * daysPerUnit.years +
    (months ?? 0) * daysPerUnit.months +
    (weeks ?? 0) * daysPerUnit.weeks +
    (days ?? 0) * daysPerUnit.days
  );
}

/** A relationship duration, normalised to `P{n}D`. */
export function parseRelationshipDuration(value: unknown): string {
  const days = typeof value === 'string' ? durationToDays(value) : undefined;
  if (days === undefined || days < minRelationshipDays || days > maxRelationshipDays) {
    throw invalid(
      `Invalid value for 'duration': ${JSON.stringify(value)}. Use an ISO 8601 duration between P1D and P2Y (P730D); relationships cannot be permanent.`,
    );
  }
  return `P${days}D`;
}

export function relationshipDurationDays(duration: string): number {
  const days = durationToDays(duration);
  if (days === undefined) throw new Error(`Stored duration is invalid: ${duration}`);
  return days;
}

/** Graph accepts exactly PT0S, P0D (both: no auto-extension, stored as PT0S) and P180D. */
export function parseAutoExtendDuration(value: unknown): AutoExtendDuration {
  const normalized = typeof value === 'string' ? value.toUpperCase() : undefined;
  if (normalized === 'PT0S' || normalized === 'P0D') return 'PT0S';
  if (normalized === `P${autoExtendDays}D`) return 'P180D';
  throw invalid(
    `Invalid value for 'autoExtendDuration': ${JSON.stringify(value)}. Supported values are PT0S, P0D and P180D.`,
  );
}
