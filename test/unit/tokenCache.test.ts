import { JWTPayload } from 'jose';
import { DateTime } from 'luxon';
import { clearVerifiedTokens, verifyOnce } from '../../shared/http/tokenCache';

const issuedAt = DateTime.fromISO('2026-03-01T00:00:00Z', { zone: 'utc' });
const payload: JWTPayload = {
  tid: '11111111-1111-1111-1111-111111111111',
  nbf: issuedAt.toSeconds(),
  exp: issuedAt.plus({ hours: 1 }).toSeconds(),
};
const tolerance = 300;

describe('verified token cache', () => {
  beforeEach(() => clearVerifiedTokens());

  it('verifies a token once while it is within its lifetime', async () => {
    const verify = jest.fn(async () => payload);
    for (let i = 0; i < 3; i++) {
      await expect(verifyOnce('token-a', issuedAt.plus({ minutes: 10 * i }), tolerance, verify)).resolves.toBe(payload);
    }
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('verifies afresh, and so rejects, once the clock has passed exp (skew allowed)', async () => {
    await verifyOnce('token-a', issuedAt, tolerance, async () => payload);
    const expired = new Error('expired');
    const verify = jest.fn(async (): Promise<JWTPayload> => {
      throw expired;
    });
    // Within the five minutes of skew it is still served from the cache.
    await expect(verifyOnce('token-a', issuedAt.plus({ hours: 1, minutes: 4 }), tolerance, verify)).resolves.toBe(
      payload,
    );
    await expect(verifyOnce('token-a', issuedAt.plus({ hours: 1, minutes: 5 }), tolerance, verify)).rejects.toBe(
      expired,
    );
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('verifies afresh when the clock is moved back before nbf', async () => {
    await verifyOnce('token-a', issuedAt, tolerance, async () => payload);
    const verify = jest.fn(async (): Promise<JWTPayload> => {
      throw new Error('not yet valid');
    });
    await expect(verifyOnce('token-a', issuedAt.minus({ minutes: 6 }), tolerance, verify)).rejects.toThrow(
      'not yet valid',
    );
  });

  it('never caches a failed verification', async () => {
    const verify = jest.fn(async (): Promise<JWTPayload> => {
      throw new Error('bad signature');
    });
    await expect(verifyOnce('token-b', issuedAt, tolerance, verify)).rejects.toThrow('bad signature');
    await expect(verifyOnce('token-b', issuedAt, tolerance, verify)).rejects.toThrow('bad signature');
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('keeps a bounded number of tokens, dropping the least recently used', async () => {
    const verify = jest.fn(async () => payload);
    for (let i = 0; i < 1001; i++) await verifyOnce(`token-${i}`, issuedAt, tolerance, verify);
    expect(verify).toHaveBeenCalledTimes(1001);
    await verifyOnce('token-1000', issuedAt, tolerance, verify);
    expect(verify).toHaveBeenCalledTimes(1001);
    await verifyOnce('token-0', issuedAt, tolerance, verify);
    expect(verify).toHaveBeenCalledTimes(1002);
  });
});
