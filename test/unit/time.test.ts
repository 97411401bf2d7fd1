import { DateTime } from 'luxon';
import { fromGraphDateTime, graphDateTimeMillis, toGraphDateTime } from '../../shared/domain/time';

/**
 * Stored timestamps are formatted and parsed through `Date` on the common path and through luxon
 * otherwise: both must give exactly what luxon alone gave, or stored keys and orderings would change.
 */
const luxonFormat = (instant: DateTime): string => instant.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'0000Z'");
const luxonParse = (value: string): DateTime => DateTime.fromISO(value, { zone: 'utc' });

describe('Graph timestamps', () => {
  const instants = [
    DateTime.fromISO('2026-12-01T10:11:12.345Z', { zone: 'utc' }),
    DateTime.fromISO('2024-02-29T23:59:59.999+05:30', { setZone: true }),
    DateTime.fromMillis(0, { zone: 'utc' }),
    DateTime.fromISO('0001-01-01T00:00:00.000Z', { zone: 'utc' }),
    DateTime.fromISO('9999-12-31T23:59:59.999Z', { zone: 'utc' }),
    ...Array.from({ length: 200 }, (_, i) => DateTime.fromMillis(1_700_000_000_000 + i * 86_399_937, { zone: 'utc' })),
  ];

  it('formats every instant as luxon does, in any zone', () => {
    for (const instant of instants) expect(toGraphDateTime(instant)).toBe(luxonFormat(instant));
    expect(toGraphDateTime(DateTime.fromISO('2026-06-01T12:00:00.007+02:00', { setZone: true }))).toBe(
      '2026-06-01T10:00:00.0070000Z',
    );
  });

  it('formats years outside 0000–9999 through luxon', () => {
    const far = DateTime.fromISO('+012026-01-01T00:00:00.000Z', { zone: 'utc' });
    expect(toGraphDateTime(far)).toBe(luxonFormat(far));
  });

  it('parses stored timestamps to the instant luxon reads, every millisecond of a second', () => {
    for (let ms = 0; ms < 1000; ms++) {
      const value = `2026-12-01T10:11:12.${String(ms).padStart(3, '0')}0000Z`;
      expect(fromGraphDateTime(value).toMillis()).toBe(luxonParse(value).toMillis());
      expect(graphDateTimeMillis(value)).toBe(luxonParse(value).toMillis());
    }
    for (const instant of instants) {
      const parsed = fromGraphDateTime(toGraphDateTime(instant));
      expect(parsed.toMillis()).toBe(instant.toMillis());
      expect(parsed.zoneName).toBe('UTC');
    }
  });

  it('reads other ISO shapes (offsets, no fraction, 24:00) through luxon', () => {
    for (const value of ['2026-12-01T10:11:12+02:00', '2026-12-01T10:11:12Z', '2026-12-01T24:00:00.0000000Z']) {
      expect(fromGraphDateTime(value).toMillis()).toBe(luxonParse(value).toMillis());
      expect(graphDateTimeMillis(value)).toBe(luxonParse(value).toMillis());
    }
  });

  it('refuses impossible dates rather than rolling them over', () => {
    for (const value of ['2026-02-30T00:00:00.0000000Z', '2026-13-01T00:00:00.0000000Z', 'yesterday']) {
      expect(() => fromGraphDateTime(value)).toThrow(/Invalid stored timestamp/);
      expect(() => graphDateTimeMillis(value)).toThrow(/Invalid stored timestamp/);
    }
  });
});
