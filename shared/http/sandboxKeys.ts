import { exportJWK, generateKeyPair, JWK, KeyLike, SignJWT } from 'jose';
import { DateTime } from 'luxon';
import { config } from '../config';

/**
 * The sandbox's development signing key (SPEC §11): generated once per process, used only when
 * SANDBOX_MODE is on and no AUTH_JWKS / AUTH_JWKS_URI is configured.
 */
interface DevKey {
  privateKey: KeyLike;
  publicJwk: JWK;
}

const devKeyId = 'sandbox-dev-key';
let devKey: Promise<DevKey> | undefined;

function loadDevKey(): Promise<DevKey> {
  devKey ??= (async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const publicJwk = { ...(await exportJWK(publicKey)), kid: devKeyId, alg: 'RS256', use: 'sig' };
    return { privateKey, publicJwk };
  })();
  return devKey;
}

export async function devPublicJwks(): Promise<{ keys: JWK[] }> {
  return { keys: [(await loadDevKey()).publicJwk] };
}

export function sandboxSigningAvailable(): boolean {
  const { sandboxMode, auth } = config();
  return sandboxMode && !auth.jwks && !auth.jwksUri;
}

export const sandboxTokenLifetimeSeconds = 3600;

/** Signs a token for the given claims, valid for an hour from `now` (real time: token lifetimes never follow the sandbox clock). */
export async function mintSandboxToken(claims: Record<string, unknown>, now: DateTime): Promise<string> {
  const { privateKey } = await loadDevKey();
  const issuedAt = Math.floor(now.toSeconds());
  return new SignJWT({ ver: '2.0', ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: devKeyId })
    .setIssuer(config().auth.issuer)
    .setAudience(config().auth.audience)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + sandboxTokenLifetimeSeconds)
    .sign(privateKey);
}
