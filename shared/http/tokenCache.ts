import { JWTPayload } from 'jose';
import { DateTime } from 'luxon';

/**
 * Tokens already verified, so a client's token has its RS256 signature checked once rather than
 * on every request (the verification was about a fifth of the host's CPU time for a GET by id).
 * A token string always has the same signature, algorithm, issuer and audience, and those
 * settings are fixed for the process, so only the outcome of a successful verification is kept.
 * Lifetime is not: `exp` and `nbf` are checked again on every hit against the request's `now`
 * (which the sandbox clock may move), the way jose checks them; a hit outside its lifetime is
 * dropped and verified afresh, so every rejection still comes from the full verification.
 */
const maxEntries = 1000;
const verified = new Map<string, JWTPayload>();

function withinLifetime(payload: JWTPayload, now: DateTime, toleranceSeconds: number): boolean {
  const seconds = Math.floor(now.toMillis() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= seconds - toleranceSeconds) return false;
  return payload.nbf === undefined || (typeof payload.nbf === 'number' && payload.nbf <= seconds + toleranceSeconds);
}

/** The payload of `token`, from `verify` (the full verification) unless it passed it before. */
export async function verifyOnce(
  token: string,
  now: DateTime,
  toleranceSeconds: number,
  verify: () => Promise<JWTPayload>,
): Promise<JWTPayload> {
  const known = verified.get(token);
  if (known) {
    verified.delete(token);
    if (withinLifetime(known, now, toleranceSeconds)) {
      verified.set(token, known); // most recently used last
      return known;
    }
  }
  const payload = await verify();
  if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string);
  verified.set(token, payload);
  return payload;
}

/** Forgets every verified token (tests that change keys or configuration). */
export function clearVerifiedTokens(): void {
  verified.clear();
}
