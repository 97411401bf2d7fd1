import { DateTime } from 'luxon';
import { autoExtendDays } from './durations';
import { DueEntry, jobIds } from './jobs';
import { Relationship } from './relationships';
import { globalAdministratorRoleId } from './roles';
import { fromGraphDateTime, toGraphDateTime } from './time';

/**
 * The time rules of SPEC §4 as pure decisions: each takes a relationship and `now` and says what
 * is due. Timers and the sandbox jobs route run them; nothing here reads a clock or storage.
 */
export const approvalWindowDays = 90;
export const purgeAfterDays = 365;
export const expiryWarningDays = [30, 7, 1] as const;

/** Auto-extension needs P180D and no Global Administrator role (SPEC §2). */
export function willAutoExtend(relationship: Relationship): boolean {
  return relationship.autoExtendDuration === 'P180D' && !relationship.roleIds.includes(globalAdministratorRoleId);
}

const plusDays = (timestamp: string, days: number): string =>
  toGraphDateTime(fromGraphDateTime(timestamp).plus({ days }));

/**
 * The due entries a relationship in its new state needs. Written before the state change itself,
 * so a crash can leave an entry with nothing to do, never a relationship that no job will visit.
 */
export function dueEntriesFor(previous: Relationship | undefined, next: Relationship): DueEntry[] {
  const id = next.id;
  const entries: DueEntry[] = [];
  const statusChanged = previous?.status !== next.status;
  if (next.status === 'approvalPending' && statusChanged && next.lockedDateTime) {
    entries.push({
      job: jobIds.expirePendingRequests,
      dueAt: plusDays(next.lockedDateTime, approvalWindowDays),
      subjectId: id,
    });
  }
  if (next.status === 'active' && next.endDateTime && (statusChanged || previous?.endDateTime !== next.endDateTime)) {
    entries.push({ job: jobIds.processEndDates, dueAt: next.endDateTime, subjectId: id });
    const warning = nextExpiryWarning(next);
    if (warning) entries.push(warning);
  }
  if ((next.status === 'expired' || next.status === 'terminated') && statusChanged && next.endDateTime) {
    entries.push({ job: jobIds.purgeEnded, dueAt: plusDays(next.endDateTime, purgeAfterDays), subjectId: id });
  }
  return entries;
}

/**
 * The expiry warning that follows the one `afterDays` before the end (the first when omitted).
 * Warnings are chained: only the next one is scheduled, and the job schedules the one after it
 * when it handles it, so an activation stores one warning entry instead of three.
 */
export function nextExpiryWarning(relationship: Relationship, afterDays?: number): DueEntry | undefined {
  if (!relationship.endDateTime) return undefined;
  const activated = relationship.activatedDateTime ?? relationship.lastModifiedDateTime;
  for (const days of expiryWarningDays) {
    if (afterDays !== undefined && days >= afterDays) continue;
    const dueAt = plusDays(relationship.endDateTime, -days);
    // A warning earlier than the relationship's own start would only be noise.
    if (dueAt > activated) return { job: jobIds.sendExpiryWarnings, dueAt, subjectId: relationship.id, days };
  }
  return undefined;
}

/** 90 days after lockForApproval without an answer, the request expires (it ended at that moment). */
export function expireIfApprovalLapsed(relationship: Relationship, now: DateTime): Relationship | undefined {
  if (relationship.status !== 'approvalPending' || !relationship.lockedDateTime) return undefined;
  const lapsesAt = fromGraphDateTime(relationship.lockedDateTime).plus({ days: approvalWindowDays });
  if (lapsesAt > now) return undefined;
  return {
    ...relationship,
    status: 'expired',
    endDateTime: toGraphDateTime(lapsesAt),
    lastModifiedDateTime: toGraphDateTime(now),
  };
}

/**
 * At endDateTime an active relationship auto-extends by 180 days (as many times as needed to
 * pass `now`, should the job have been down) or expires, having ended at its end date.
 */
export function processEndDate(relationship: Relationship, now: DateTime): Relationship | undefined {
  if (relationship.status !== 'active' || !relationship.endDateTime) return undefined;
  let end = fromGraphDateTime(relationship.endDateTime);
  if (end > now) return undefined;
  const lastModifiedDateTime = toGraphDateTime(now);
  if (!willAutoExtend(relationship)) return { ...relationship, status: 'expired', lastModifiedDateTime };
  while (end <= now) end = end.plus({ days: autoExtendDays });
  return { ...relationship, endDateTime: toGraphDateTime(end), lastModifiedDateTime };
}

/** A warning is due when the relationship still ends at the warned-about date and will not extend. */
export function expiryWarningDue(relationship: Relationship, entry: DueEntry, now: DateTime): boolean {
  return (
    isCurrentExpiryWarning(relationship, entry) &&
    !willAutoExtend(relationship) &&
    fromGraphDateTime(entry.dueAt) <= now
  );
}

/** Whether a warning entry belongs to the relationship's current end (an extension starts a new chain). */
export function isCurrentExpiryWarning(relationship: Relationship, entry: DueEntry): boolean {
  if (relationship.status !== 'active' || !relationship.endDateTime || entry.days === undefined) return false;
  return plusDays(relationship.endDateTime, -entry.days) === entry.dueAt;
}

/** Expired and terminated relationships are purged, and their names freed, 365 days after they ended. */
export function purgeDue(relationship: Relationship, now: DateTime): boolean {
  if ((relationship.status !== 'expired' && relationship.status !== 'terminated') || !relationship.endDateTime) {
    return false;
  }
  return fromGraphDateTime(relationship.endDateTime).plus({ days: purgeAfterDays }) <= now;
}
