import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { Client, expectOk, relationshipsUrl, startIsolatedTestHost, startTestHost, TestHost } from './support';

/**
 * The stored test clock (SPEC §11) with tokens from a "real" identity provider: keys in AUTH_JWKS,
 * lifetimes on real time. Configuration is read once per test file, so it is set before any host.
 */
const issuer = 'https://login.example.test/clock/v2.0';
const audience = 'api://gdap-service-clock-tests';
const kid = 'clock-key';

type ClockView = { now: string; pinned: boolean; running: boolean };

describe('the stored sandbox clock with real tokens', () => {
  let signingKey: KeyLike;
  let host: TestHost;
  let client: Client;

  const token = (claims: Record<string, unknown>): Promise<string> =>
    new SignJWT({ oid: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('1h')
      .sign(signingKey);

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    process.env.AUTH_ISSUER = issuer;
    process.env.AUTH_AUDIENCE = audience;
    process.env.AUTH_JWKS = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256' }] });
    host = await startTestHost();
    client = new Client(host.url);
  });

  afterEach(async () => {
    await client.call('DELETE', '/sandbox/clock');
  });

  afterAll(() => host.close());

  it('moved two years ahead, a real token still works and requests and jobs use the moved time', async () => {
    const partner = await token({ tid: randomUUID(), roles: ['AdminAgent'] });
    const twoYearsOn = new Date(Date.now() + 2 * 365 * 86_400_000).toISOString();
    expectOk(await client.call('PUT', '/sandbox/clock', { body: { now: twoYearsOn } }), 200);

    const created = expectOk(await client.createRelationship(partner), 201);
    expect(Date.parse(String(created.body.createdDateTime))).toBe(Date.parse(twoYearsOn));
    const job = expectOk(await client.call('POST', '/sandbox/jobs/processEndDates'), 200);
    expect(Date.parse(String(job.body.ranAt))).toBe(Date.parse(twoYearsOn));
    expectOk(await client.call('GET', `${relationshipsUrl}/${created.body.id}`, { token: partner }), 200);
  });

  it('is shared by two instances on one storage account within a second, and survives a restart', async () => {
    const second = await startIsolatedTestHost();
    const other = new Client(second.url);
    try {
      // The second instance has read (and cached) the real-time clock.
      expect((await other.call<ClockView>('GET', '/sandbox/clock')).body.pinned).toBe(false);

      const set = '2030-06-01T12:00:00.0000000Z';
      const setAt = Date.now();
      expectOk(await client.call('PUT', '/sandbox/clock', { body: { now: set } }), 200);
      let seenAfterMs = Number.POSITIVE_INFINITY;
      while (Date.now() - setAt < 3000) {
        if ((await other.call<ClockView>('GET', '/sandbox/clock')).body.now === set) {
          seenAfterMs = Date.now() - setAt;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // At most a second of caching, plus the time a request takes on a busy machine.
      expect(seenAfterMs).toBeLessThan(1500);

      // What the second instance writes is stamped with the shared clock.
      const partner = await token({ tid: randomUUID(), roles: ['AdminAgent'] });
      const created = expectOk(await other.createRelationship(partner), 201);
      expect(created.body.createdDateTime).toBe(set);
    } finally {
      await second.close();
    }

    // A restarted instance reads the clock from storage.
    const restarted = await startIsolatedTestHost();
    try {
      const view = (await new Client(restarted.url).call<ClockView>('GET', '/sandbox/clock')).body;
      expect(view).toEqual({ now: '2030-06-01T12:00:00.0000000Z', pinned: true, running: false });
    } finally {
      await restarted.close();
    }
  });
});
