import { DateTime } from 'luxon';

/**
 * Graph writes UTC timestamps with seven fractional digits (.NET ticks). JavaScript has
 * milliseconds, so the last four digits are always zero; the fixed width also keeps stored
 * timestamps lexicographically ordered, which the due-date indexes and $filter push-down rely on.
 *
 * These run several times per write (every timestamp, every event's row key), so the common case
 * goes through `Date`, which formats and parses this shape in well under a microsecond, instead of
 * luxon's `toFormat` and `fromISO` (about 8 and 15 µs each); anything else takes luxon.
 */
const minFastMs = Date.parse('0000-01-01T00:00:00.000Z');
const maxFastMs = Date.parse('9999-12-31T23:59:59.999Z');

export function toGraphDateTime(instant: DateTime): string {
  const ms = instant.toMillis();
  // Four-digit years only: `toISOString` writes others as ±YYYYYY, luxon's `yyyy` as they are.
  if (ms >= minFastMs && ms <= maxFastMs) return `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
  return instant.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'0000Z'");
}

/** `yyyy-MM-ddTHH:mm:ss.fffffffZ` (seven digits, as stored) or the same with three. */
const storedShape = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:\d{4})?Z$/;

function storedShapeMillis(value: string): number | undefined {
  if (!storedShape.test(value)) return undefined;
  const ms = Date.parse(`${value.slice(0, 23)}Z`);
  // Date.parse rolls impossible dates over (Feb 30 → Mar 2): only a round trip proves the text valid.
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value.slice(0, 23)) ? ms : undefined;
}

/** The instant of a timestamp in milliseconds (what row keys need), without building a DateTime. */
export function graphDateTimeMillis(value: string): number {
  return storedShapeMillis(value) ?? fromGraphDateTime(value).toMillis();
}

export function fromGraphDateTime(value: string): DateTime {
  const ms = storedShapeMillis(value);
  if (ms !== undefined) return DateTime.fromMillis(ms, { zone: 'utc' });
  const parsed = DateTime.fromISO(value, { zone: 'utc' });
  if (!parsed.isValid) throw new Error(`Invalid stored timestamp: ${value}`);
  return parsed;
}
