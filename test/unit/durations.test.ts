import { durationToDays, parseAutoExtendDuration, parseRelationshipDuration } from '../../shared/domain/durations';
import { DomainError } from '../../shared/domain/errors';

/** Runs `action` and returns the DomainError it throws (failing the test if it throws nothing else). */
function domainErrorOf(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

describe('durationToDays', () => {
  it.each([
    ['P1D', 1],
    ['P30D', 30],
    ['P730D', 730],
    ['P1W', 7],
    ['P2W', 14],
    ['P1M', 30],
    ['P6M', 180],
    ['P1Y', 365],
    ['P2Y', 730],
    ['P1Y6M', 545],
    ['P1Y1M1W1D', 365 + 30 + 7 + 1],
    ['P0D', 0],
    ['PT0S', 0],
    ['P1DT0H', 1],
    ['p90d', 90],
  ])('%s is %d days', (value, days) => {
    expect(durationToDays(value)).toBe(days);
  });

  it.each(['', 'P', 'PT', 'P1DT', 'PT1H', 'PT24H', 'PT1M', 'PT1S', 'P1.5D', 'P-1D', '-P1D', '1D', 'P1D ', 'banana'])(
    '%j is not a whole-day duration',
    (value) => {
      expect(durationToDays(value)).toBeUndefined();
    },
  );

  it('rejects non-string input without throwing', () => {
    expect(durationToDays(30 as unknown as string)).toBeUndefined();
    expect(durationToDays(null as unknown as string)).toBeUndefined();
  });
});

describe('parseRelationshipDuration', () => {
  it.each([
    ['P1D', 'P1D'],
    ['P90D', 'P90D'],
    ['P730D', 'P730D'],
    ['P2Y', 'P730D'],
    ['P1Y', 'P365D'],
    ['P1W', 'P7D'],
    ['P6M', 'P180D'],
    ['p2y', 'P730D'],
  ])('accepts %s and normalises it to %s', (value, normalised) => {
    expect(parseRelationshipDuration(value)).toBe(normalised);
  });

  it('accepts every whole number of days from P1D to P730D inclusive', () => {
    for (let days = 1; days <= 730; days++) {
      expect(parseRelationshipDuration(`P${days}D`)).toBe(`P${days}D`);
    }
  });

  it.each<[string, unknown]>([
    ['zero days', 'P0D'],
    ['one day over two years', 'P731D'],
    ['three years', 'P3Y'],
    ['two years and a day', 'P2Y1D'],
    ['an hour', 'PT1H'],
    ['24 hours (time units are not days)', 'PT24H'],
    ['a bare P', 'P'],
    ['a bare PT', 'PT'],
    ['an empty string', ''],
    ['a non-duration', 'banana'],
    ['a number', 30],
    ['null', null],
    ['undefined', undefined],
    ['an object', { days: 30 }],
  ])('rejects %s as invalid, naming duration', (_label, value) => {
    const error = domainErrorOf(() => parseRelationshipDuration(value));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain("'duration'");
  });
});

describe('parseAutoExtendDuration', () => {
  it.each([
    ['PT0S', 'PT0S'],
    ['P0D', 'PT0S'],
    ['P180D', 'P180D'],
  ])('maps %s to %s', (value, expected) => {
    expect(parseAutoExtendDuration(value)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['P90D', 'P90D'],
    ['P1D', 'P1D'],
    ['P181D', 'P181D'],
    ['PT1H', 'PT1H'],
    ['x', 'x'],
    ['empty', ''],
    ['a number', 180],
    ['null', null],
  ])('rejects %s as invalid, naming autoExtendDuration', (_label, value) => {
    const error = domainErrorOf(() => parseAutoExtendDuration(value));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain("'autoExtendDuration'");
  });
});
