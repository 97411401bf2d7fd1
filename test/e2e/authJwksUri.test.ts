import { exportJWK, generateKeyPair, JWTPayload, KeyLike, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { CallResult, Client, expectGraphError, relationshipsUrl, roles, startTestHost, TestHost } from './support';

/**
 * Keys from a JWKS URL (AUTH_JWKS_URI), as an identity provider publishes them. The JWKS is served
 * by a tiny local HTTP server started before the host, because configuration is read once per file.
 */

const issuer = 'https://login.example.test/jwks-uri/v2.0';
const audience = 'api://gdap-service-jwks-uri-tests';
const kid = 'published-key';

describe('bearer token validation (AUTH_JWKS_URI)', () => {
  let jwksServer: Server;
  let jwksRequests = 0;
  let host: TestHost;
  let client: Client;
  let signingKey: KeyLike;
  let attackerKey: KeyLike;

  function sign(claims: JWTPayload, key: KeyLike, keyId = kid): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keyId })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('1h')
      .sign(key);
  }

  const create = (token: string): Promise<CallResult> =>
    client.call('POST', relationshipsUrl, {
      token,
      body: {
        displayName: `JWKS URI ${randomUUID().slice(0, 8)}`,
        duration: 'P30D',
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
      },
    });

  beforeAll(async () => {
    const signing = await generateKeyPair('RS256');
    signingKey = signing.privateKey;
    attackerKey = (await generateKeyPair('RS256')).privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(signing.publicKey)), kid, use: 'sig', alg: 'RS256' }] });

    jwksServer = createServer((request, response) => {
      if (request.url !== '/discovery/v2.0/keys') {
        response.writeHead(404).end();
        return;
      }
      jwksRequests++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;

    delete process.env.AUTH_JWKS;
    process.env.AUTH_JWKS_URI = `http://127.0.0.1:${port}/discovery/v2.0/keys`;
    process.env.AUTH_ISSUER = issuer;
    process.env.AUTH_AUDIENCE = audience;
    host = await startTestHost();
    client = new Client(host.url);
  });

  afterAll(async () => {
    await host?.close();
    jwksServer.closeAllConnections();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  it('accepts a token signed with the published key, fetching the JWKS from the URL', async () => {
    const tenantId = randomUUID();
    const token = await sign({ tid: tenantId, oid: randomUUID(), roles: ['AdminAgent'] }, signingKey);
    const created = await create(token);
    expect(created.status).toBe(201);
    expect(jwksRequests).toBeGreaterThanOrEqual(1);
    const read = await client.call('GET', `${relationshipsUrl}/${String(created.body.id)}`, { token });
    expect(read.status).toBe(200);
  });

  it('rejects a token forged with another key under the published kid, and an unknown kid', async () => {
    const victimTenantId = randomUUID();
    const claims = { tid: victimTenantId, oid: randomUUID(), roles: ['AdminAgent'] };
    const forged = await create(await sign(claims, attackerKey));
    expectGraphError(forged, 401, 'InvalidAuthenticationToken');
    expect((forged.body as unknown as { error: { message: string } }).error.message).toMatch(/signature/i);

    const unknownKid = await create(await sign(claims, attackerKey, 'attacker-key'));
    expectGraphError(unknownKid, 401, 'InvalidAuthenticationToken');

    // Nothing was created for the tenant the forged tokens claimed.
    const list = await client.call<{ value: unknown[] }>('GET', relationshipsUrl, {
      token: await sign(claims, signingKey),
    });
    expect(list.status).toBe(200);
    expect(list.body.value).toEqual([]);
  });

  it('POST /sandbox/tokens answers 400 when AUTH_JWKS_URI is configured', async () => {
    const result = await client.call('POST', '/sandbox/tokens', { body: { tid: randomUUID() } });
    expectGraphError(result, 400, 'badRequest');
  });
});
