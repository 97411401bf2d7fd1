import { DateTime } from 'luxon';

/**
 * Graph writes UTC timestamps with seven fractional digits (.NET ticks). JavaScript has
 * milliseconds, so the last four digits are always zero; the fixed width also keeps stored
 * timestamps lexicographically ordered, which the due-date indexes and $filter push-down rely on.
 */
export function toGraphDateTime(instant: DateTime): string {
  return instant.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'0000Z'");
}

export function fromGraphDateTime(value: string): DateTime {
  const parsed = DateTime.fromISO(value, { zone: 'utc' });
  if (!parsed.isValid) throw new Error(`Invalid stored timestamp: ${value}`);
  return parsed;
}
