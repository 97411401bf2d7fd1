import { HttpRequest } from '@azure/functions';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors as joseErrors, JWTPayload, jwtVerify } from 'jose';
import { DateTime } from 'luxon';
import { config } from '../config';
import { isGuid } from '../domain/ids';
import { internal, unauthorized } from '../domain/errors';
import { appRoles, Principal } from '../domain/principal';
import { devPublicJwks, sandboxSigningAvailable } from './sandboxKeys';
import { verifyOnce } from './tokenCache';

type KeySet = ReturnType<typeof createLocalJWKSet>;

/** Tokens may be up to five minutes early or late (SPEC §1). */
const clockSkewSeconds = 300;
let keySet: Promise<KeySet> | undefined;

function loadKeySet(): Promise<KeySet> {
  keySet ??= (async (): Promise<KeySet> => {
    const { auth } = config();
    if (auth.jwks) return createLocalJWKSet(JSON.parse(auth.jwks));
    if (auth.jwksUri) return createRemoteJWKSet(new URL(auth.jwksUri));
    if (sandboxSigningAvailable()) return createLocalJWKSet(await devPublicJwks());
    throw new Error('No token signing keys configured: set AUTH_JWKS or AUTH_JWKS_URI.');
  })();
  return keySet;
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringListClaim(payload: JWTPayload, name: string): string[] {
  const value = payload[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The access token has expired.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return 'The access token is not yet valid.';
    return `The access token's '${error.claim}' claim is not accepted by this service.`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The access token must be signed with RS256.';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'The access token was signed with an unknown key.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The access token signature is invalid.';
  return 'The access token is malformed or invalid.';
}

/** Validates the bearer token (RS256, issuer, audience, lifetime) and returns the caller. */
export async function authenticate(request: HttpRequest): Promise<Principal> {
  const header = request.headers.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized('Access token is empty: send an Authorization: Bearer <token> header.');
  return verifyToken(match[1]);
}

/**
 * The issuer a token must name. A multi-tenant app registration receives tokens from every
 * customer's and partner's tenant, each with its own issuer: `AUTH_ISSUER` may then hold
 * `{tenantid}`, which stands for the token's own `tid` (the signature, checked with it, makes the
 * claim trustworthy; a token naming another tenant's issuer than its `tid` is refused).
 */
function expectedIssuer(token: string): string {
  const template = config().auth.issuer;
  if (!/\{tenantid\}/i.test(template)) return template;
  let tid: unknown;
  try {
    tid = decodeJwt(token).tid;
  } catch {
    tid = undefined;
  }
  // A token without a usable tid fails the issuer check (no issuer has this shape).
  return template.replace(/\{tenantid\}/gi, isGuid(tid) ? tid.toLowerCase() : '{missing tid}');
}

/**
 * Platform app roles count only in their home tenant (SPEC §1): any tenant that consents to the
 * app can give its own users every app role, so `ServiceOperator` is honoured only when the
 * token's tenant is OPERATOR_TENANT_ID and `SupportEngineer` only when it is SUPPORT_TENANT_ID.
 * Unset, they are never honoured outside sandbox mode, and honoured from any tenant in it.
 */
function honouredAppRoles(roles: string[], tenantId: string): string[] {
  const { operatorTenantId, supportTenantId, sandboxMode } = config();
  const homes: Record<string, string | undefined> = {
    [appRoles.serviceOperator]: operatorTenantId,
    [appRoles.supportEngineer]: supportTenantId,
  };
  return roles.filter((role) => {
    if (!(role in homes)) return true;
    const home = homes[role];
    return home === undefined ? sandboxMode : home === tenantId;
  });
}

/**
 * Validates one raw JWT (also used for second tokens such as X-Resource-Tenant-Authorization).
 * Lifetimes are checked against real time, never the sandbox clock (SPEC §11): a token from a
 * real identity provider keeps working whatever the test clock says.
 */
export async function verifyToken(token: string): Promise<Principal> {
  const now = DateTime.utc();
  let keys: KeySet;
  try {
    keys = await loadKeySet();
  } catch (error) {
    throw internal(error instanceof Error ? error.message : 'Token validation is not configured.');
  }
  let payload: JWTPayload;
  try {
    payload = await verifyOnce(token, now, clockSkewSeconds, async () => {
      const verified = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer: expectedIssuer(token),
        audience: config().auth.audience,
        clockTolerance: clockSkewSeconds,
        currentDate: now.toJSDate(),
        requiredClaims: ['exp'],
      });
      return verified.payload;
    });
  } catch (error) {
    throw unauthorized(describe(error));
  }
  const tenantId = stringClaim(payload, 'tid');
  const objectId = stringClaim(payload, 'oid');
  if (!isGuid(tenantId) || !isGuid(objectId)) {
    throw unauthorized("The access token must carry 'tid' and 'oid' claims holding GUIDs.");
  }
  return {
    tenantId: tenantId.toLowerCase(),
    objectId: objectId.toLowerCase(),
    directoryRoleIds: stringListClaim(payload, 'wids').map((id) => id.toLowerCase()),
    appRoles: honouredAppRoles(stringListClaim(payload, 'roles'), tenantId.toLowerCase()),
    groups: stringListClaim(payload, 'groups').map((id) => id.toLowerCase()),
    appId: stringClaim(payload, 'appid') ?? stringClaim(payload, 'azp'),
    email: stringClaim(payload, 'email')?.toLowerCase(),
    isGuest: payload.acct === 1,
  };
}
