import { exportJWK, exportSPKI, generateKeyPair, JWK, JWTPayload, KeyLike, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { CallResult, Client, expectGraphError, relationshipsUrl, startTestHost, TestHost } from './support';
import { roles } from '../fixtures';

/**
 * Token validation (SPEC §1) with keys configured inline (AUTH_JWKS), as in production: tokens are
 * signed here, by "the identity provider", and the service only holds the public keys. The
 * configuration is read once per test file, on first use, so it is set before the host starts.
 */

const issuer = 'https://login.example.test/issuer/v2.0';
const audience = 'api://gdap-service-tests';
const kid = 'test-key-1';
const rotatedKid = 'test-key-2';

const minutes = (n: number): number => n * 60;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

interface Keys {
  privateKey: KeyLike;
  publicKey: KeyLike;
}

interface SignOptions {
  key?: KeyLike | Uint8Array;
  alg?: string;
  /** Protected header kid; `null` leaves it out. */
  kid?: string | null;
  iss?: string | null;
  aud?: string | string[] | null;
  /** Seconds relative to now; `null` leaves the claim out. */
  iat?: number | null;
  nbf?: number | null;
  exp?: number | null;
}

describe('bearer token validation (AUTH_JWKS)', () => {
  let host: TestHost;
  let client: Client;
  let signing: Keys;
  let rotated: Keys;
  let attacker: Keys;
  /** Every rejected token names this tenant: nothing may ever be created in it. */
  const victimTenantId = randomUUID();

  function sign(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
    const now = nowSeconds();
    const header: { alg: string; typ: string; kid?: string } = { alg: options.alg ?? 'RS256', typ: 'JWT' };
    const headerKid = options.kid === undefined ? kid : options.kid;
    if (headerKid !== null) header.kid = headerKid;
    const jwt = new SignJWT(claims).setProtectedHeader(header);
    const iss = options.iss === undefined ? issuer : options.iss;
    const aud = options.aud === undefined ? audience : options.aud;
    const iat = options.iat === undefined ? 0 : options.iat;
    const nbf = options.nbf === undefined ? 0 : options.nbf;
    const exp = options.exp === undefined ? minutes(60) : options.exp;
    if (iss !== null) jwt.setIssuer(iss);
    if (aud !== null) jwt.setAudience(aud);
    if (iat !== null) jwt.setIssuedAt(now + iat);
    if (nbf !== null) jwt.setNotBefore(now + nbf);
    if (exp !== null) jwt.setExpirationTime(now + exp);
    return jwt.sign(options.key ?? signing.privateKey);
  }

  const agentClaims = (tid: string = victimTenantId): JWTPayload => ({ tid, oid: randomUUID(), roles: ['AdminAgent'] });

  const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

  function unsigned(header: Record<string, unknown>, claims: JWTPayload = agentClaims()): string {
    const now = nowSeconds();
    return `${base64url(header)}.${base64url({ iss: issuer, aud: audience, iat: now, nbf: now, exp: now + 3600, ...claims })}.`;
  }

  const create = (headers: Record<string, string>): Promise<CallResult> =>
    client.call('POST', relationshipsUrl, {
      headers,
      body: {
        displayName: `Auth ${randomUUID().slice(0, 8)}`,
        duration: 'P30D',
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
      },
    });

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  function expectUnauthorized(result: CallResult, mention?: RegExp): void {
    expectGraphError(result, 401, 'InvalidAuthenticationToken');
    const { error } = result.body as { error: { message: string; innerError: Record<string, string> } };
    expect(error.innerError.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    if (mention) expect(error.message).toMatch(mention);
  }

  beforeAll(async () => {
    signing = await generateKeyPair('RS256');
    rotated = await generateKeyPair('RS256');
    attacker = await generateKeyPair('RS256');
    const publicJwk = async (keys: Keys, keyId: string): Promise<JWK> => ({
      ...(await exportJWK(keys.publicKey)),
      kid: keyId,
      use: 'sig',
      alg: 'RS256',
    });
    process.env.AUTH_JWKS = JSON.stringify({
      keys: [await publicJwk(signing, kid), await publicJwk(rotated, rotatedKid)],
    });
    process.env.AUTH_ISSUER = issuer;
    process.env.AUTH_AUDIENCE = audience;
    delete process.env.AUTH_JWKS_URI;
    host = await startTestHost();
    client = new Client(host.url);
  });

  afterAll(async () => {
    // Nothing was ever created in the tenant every rejected token claimed.
    const list = await client.call<{ value: unknown[] }>('GET', relationshipsUrl, {
      token: await sign(agentClaims(victimTenantId)),
    });
    expect(list.status).toBe(200);
    expect(list.body.value).toEqual([]);
    await host.close();
  });

  describe('401 InvalidAuthenticationToken', () => {
    it('no Authorization header', async () => {
      expectUnauthorized(await create({}));
      expectUnauthorized(await client.call('GET', relationshipsUrl));
    });

    it.each([
      ['Basic', () => `Basic ${Buffer.from('user:password').toString('base64')}`],
      ['Basic carrying a valid token', async () => `Basic ${await sign(agentClaims())}`],
      ['a bare token', async () => sign(agentClaims())],
      ['Bearer without a token', () => 'Bearer'],
      ['Bearer with a blank token', () => 'Bearer    '],
      ['Bearer with two tokens', async () => `Bearer ${await sign(agentClaims())} ${await sign(agentClaims())}`],
      ['MAC', async () => `MAC ${await sign(agentClaims())}`],
    ])('non-Bearer or empty scheme: %s', async (_name, header) => {
      expectUnauthorized(await create({ authorization: await header() }));
    });

    it.each([
      ['a word', 'garbage'],
      ['three dots', 'a.b.c'],
      ['empty segments', '..'],
      ['base64 junk', `${Buffer.from('{"alg":"RS256"').toString('base64url')}.e30.AAAA`],
      ['JSON in base64 but no signature', `${base64url({ alg: 'RS256', kid })}.${base64url(agentClaims())}`],
    ])('garbage token: %s', async (_name, token) => {
      expectUnauthorized(await create(bearer(token)));
    });

    it('a truncated or altered signature', async () => {
      const token = await sign(agentClaims());
      expectUnauthorized(await create(bearer(token.slice(0, -4))));
      const [header, , signature] = token.split('.');
      const tampered = `${header}.${base64url({ ...agentClaims(), iss: issuer, aud: audience, exp: nowSeconds() + 3600 })}.${signature}`;
      expectUnauthorized(await create(bearer(tampered)), /signature/i);
    });

    it('forged: signed by another key under a known kid', async () => {
      expectUnauthorized(await create(bearer(await sign(agentClaims(), { key: attacker.privateKey }))), /signature/i);
      expectUnauthorized(
        await create(bearer(await sign(agentClaims(), { key: attacker.privateKey, kid: rotatedKid }))),
        /signature/i,
      );
      // Each key only verifies its own kid.
      expectUnauthorized(await create(bearer(await sign(agentClaims(), { kid: rotatedKid }))));
    });

    it('unknown kid', async () => {
      expectUnauthorized(
        await create(bearer(await sign(agentClaims(), { key: attacker.privateKey, kid: 'attacker-key' }))),
        /unknown key/i,
      );
      expectUnauthorized(await create(bearer(await sign(agentClaims(), { kid: 'not-a-known-kid' }))), /unknown key/i);
    });

    it('alg none (unsigned)', async () => {
      expectUnauthorized(await create(bearer(unsigned({ alg: 'none', typ: 'JWT' }))));
      expectUnauthorized(await create(bearer(unsigned({ alg: 'none', typ: 'JWT', kid }))));
      expectUnauthorized(await create(bearer(unsigned({ alg: 'None', typ: 'JWT', kid }))));
      // A known header with the signature stripped.
      const [header, payload] = (await sign(agentClaims())).split('.');
      expectUnauthorized(await create(bearer(`${header}.${payload}.`)));
    });

    it('algorithm confusion: HS256 with the public key as the secret', async () => {
      const pem = await exportSPKI(signing.publicKey);
      const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      const jwk = await exportJWK(signing.publicKey);
      for (const secret of [
        new TextEncoder().encode(pem),
        new Uint8Array(der),
        new TextEncoder().encode(JSON.stringify(jwk)),
      ]) {
        for (const alg of ['HS256', 'HS384', 'HS512']) {
          const token = await sign(agentClaims(), { key: secret, alg });
          expectUnauthorized(await create(bearer(token)), /RS256/);
        }
      }
    });

    it('another RSA algorithm with the right key', async () => {
      for (const alg of ['RS384', 'RS512', 'PS256']) {
        expectUnauthorized(await create(bearer(await sign(agentClaims(), { alg }))));
      }
    });

    it('expired 10 minutes ago (beyond the 5 minute skew)', async () => {
      const token = await sign(agentClaims(), { iat: -minutes(70), nbf: -minutes(70), exp: -minutes(10) });
      expectUnauthorized(await create(bearer(token)), /expired/i);
    });

    it('expired 6 minutes ago (just beyond the skew)', async () => {
      const token = await sign(agentClaims(), { iat: -minutes(66), nbf: -minutes(66), exp: -minutes(6) });
      expectUnauthorized(await create(bearer(token)), /expired/i);
    });

    it('not valid for another 10 minutes', async () => {
      const token = await sign(agentClaims(), { nbf: minutes(10), exp: minutes(70) });
      expectUnauthorized(await create(bearer(token)), /not yet valid/i);
    });

    it('without an expiry', async () => {
      expectUnauthorized(await create(bearer(await sign(agentClaims(), { exp: null }))));
    });

    it.each([
      ['another audience', { aud: 'api://someone-else' }],
      ['the sandbox audience', { aud: 'https://graph.microsoft.com' }],
      ['no audience', { aud: null }],
    ])('wrong audience: %s', async (_name, options) => {
      expectUnauthorized(await create(bearer(await sign(agentClaims(), options))));
    });

    it.each([
      ['another issuer', { iss: 'https://login.attacker.test/v2.0' }],
      ['the issuer with a suffix', { iss: `${issuer}/` }],
      ['the sandbox issuer', { iss: 'https://sts.sandbox.gdap.local/' }],
      ['no issuer', { iss: null }],
    ])('wrong issuer: %s', async (_name, options) => {
      expectUnauthorized(await create(bearer(await sign(agentClaims(), options))));
    });

    it.each([
      ['missing tid', { oid: randomUUID(), roles: ['AdminAgent'] }],
      ['empty tid', { tid: '', oid: randomUUID(), roles: ['AdminAgent'] }],
      ['non-GUID tid', { tid: 'contoso.onmicrosoft.com', oid: randomUUID(), roles: ['AdminAgent'] }],
      ['numeric tid', { tid: 42, oid: randomUUID(), roles: ['AdminAgent'] }],
      ['tid list', { tid: [victimTenantId], oid: randomUUID(), roles: ['AdminAgent'] }],
      ['missing oid', { tid: victimTenantId, roles: ['AdminAgent'] }],
      ['non-GUID oid', { tid: victimTenantId, oid: 'alice', roles: ['AdminAgent'] }],
    ])('bad identity claims: %s', async (_name, claims) => {
      expectUnauthorized(await create(bearer(await sign(claims as JWTPayload))), /tid/);
    });
  });

  describe('accepted', () => {
    it('a valid token creates (201) and reads back', async () => {
      const tenantId = randomUUID();
      const token = await sign(agentClaims(tenantId));
      const created = await create(bearer(token));
      expect(created.status).toBe(201);
      const read = await client.call('GET', `${relationshipsUrl}/${String(created.body.id)}`, { token });
      expect(read.status).toBe(200);
      // The relationship belongs to the token's tenant: its id ends with the partner tenant id.
      expect(String(read.body.id).endsWith(tenantId)).toBe(true);
    });

    it('a token signed by the second (rotated) key of the JWKS', async () => {
      const token = await sign(agentClaims(randomUUID()), { key: rotated.privateKey, kid: rotatedKid });
      expect((await create(bearer(token))).status).toBe(201);
    });

    it('expired 2 minutes ago is still accepted (5 minute skew)', async () => {
      const token = await sign(agentClaims(randomUUID()), { iat: -minutes(62), nbf: -minutes(62), exp: -minutes(2) });
      expect((await create(bearer(token))).status).toBe(201);
    });

    it('valid from 2 minutes from now is already accepted (5 minute skew)', async () => {
      const token = await sign(agentClaims(randomUUID()), { nbf: minutes(2), exp: minutes(60) });
      expect((await create(bearer(token))).status).toBe(201);
    });

    it('the scheme name is case-insensitive', async () => {
      const token = await sign(agentClaims(randomUUID()));
      expect((await create({ authorization: `bearer ${token}` })).status).toBe(201);
    });

    it('an upper-case tid is the same tenant', async () => {
      const tenantId = randomUUID();
      const created = await create(bearer(await sign(agentClaims(tenantId.toUpperCase()))));
      expect(created.status).toBe(201);
      const read = await client.call('GET', `${relationshipsUrl}/${String(created.body.id)}`, {
        token: await sign(agentClaims(tenantId)),
      });
      expect(read.status).toBe(200);
    });

    it('a valid token without the AdminAgent role is authenticated but not authorised (403, not 401)', async () => {
      const token = await sign({ tid: randomUUID(), oid: randomUUID() });
      expectGraphError(await create(bearer(token)), 403, 'Authorization_RequestDenied');
    });
  });

  it('POST /sandbox/tokens answers 400 when AUTH_JWKS is configured', async () => {
    const result = await client.call('POST', '/sandbox/tokens', { body: { tid: randomUUID(), roles: ['AdminAgent'] } });
    expectGraphError(result, 400, 'badRequest');
    expect((result.body as unknown as { error: { message: string } }).error.message).toMatch(/AUTH_JWKS/);
    expect(result.body).not.toHaveProperty('access_token');
  });
});
