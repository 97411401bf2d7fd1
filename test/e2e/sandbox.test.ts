import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import { CallResult, expectGraphError, relationshipsUrl, useTestHost } from './support';

/** The sandbox helpers of SPEC §11 (default test configuration: SANDBOX_MODE=true, no JWKS). */

// A type alias (not an interface) so results also fit expectGraphError's CallResult.
type ClockView = { now: string; pinned: boolean; running: boolean };

const graphDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;

describe('sandbox', () => {
  const { client } = useTestHost();

  afterEach(async () => {
    // Back to real time whatever a test did.
    expect((await client.call('PUT', '/sandbox/clock', { body: { now: null } })).status).toBe(200);
  });

  const getClock = (): Promise<CallResult<ClockView>> => client.call<ClockView>('GET', '/sandbox/clock');
  const setClock = (body: unknown): Promise<CallResult<ClockView>> =>
    client.call<ClockView>('PUT', '/sandbox/clock', { body });

  describe('clock', () => {
    it('GET/PUT round trip, and {"now": null} returns to real time', async () => {
      const real = await getClock();
      expect(real.status).toBe(200);
      expect(real.body.pinned).toBe(false);
      expect(real.body.now).toMatch(graphDateTime);
      expect(Math.abs(Date.parse(real.body.now) - Date.now())).toBeLessThan(60_000);

      const set = await setClock({ now: '2031-02-03T04:05:06Z' });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ now: '2031-02-03T04:05:06.0000000Z', pinned: true, running: false });
      // A pinned clock stands still.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await getClock()).body).toEqual({ now: '2031-02-03T04:05:06.0000000Z', pinned: true, running: false });

      // Offsets are converted to UTC; fractions are kept.
      expect((await setClock({ now: '2031-02-03T06:05:06.123+02:00' })).body).toEqual({
        now: '2031-02-03T04:05:06.1230000Z',
        pinned: true,
        running: false,
      });

      const back = await setClock({ now: null });
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ pinned: false, running: true });
      expect(Math.abs(Date.parse(back.body.now) - Date.now())).toBeLessThan(60_000);
      expect((await getClock()).body.pinned).toBe(false);
    });

    it('runs at real speed from a chosen instant with "running": true', async () => {
      const set = await setClock({ now: '2031-02-03T04:05:06Z', running: true });
      expect(set.body).toMatchObject({ pinned: true, running: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const later = Date.parse((await getClock()).body.now);
      expect(later - Date.parse('2031-02-03T04:05:06Z')).toBeGreaterThanOrEqual(50);
      expect(later - Date.parse('2031-02-03T04:05:06Z')).toBeLessThan(30_000);
    });

    it('advances by a duration, keeping whether it runs; DELETE returns to real time', async () => {
      await setClock({ now: '2031-02-03T04:05:06Z' });
      const advanced = await client.call<ClockView>('POST', '/sandbox/clock/advance', { body: { by: 'P1DT2H' } });
      expect(advanced.body).toEqual({ now: '2031-02-04T06:05:06.0000000Z', pinned: true, running: false });
      for (const by of ['-P1D', 'PT0S', 'tomorrow', '']) {
        expectGraphError(await client.call('POST', '/sandbox/clock/advance', { body: { by } }), 400, 'badRequest');
      }
      expect((await getClock()).body.now).toBe('2031-02-04T06:05:06.0000000Z');

      const reset = await client.call<ClockView>('DELETE', '/sandbox/clock');
      expect(reset.status).toBe(200);
      expect(reset.body).toMatchObject({ pinned: false, running: true });
      // From real time, advancing gives a running clock that far ahead.
      const ahead = await client.call<ClockView>('POST', '/sandbox/clock/advance', { body: { by: 'P30D' } });
      expect(ahead.body).toMatchObject({ pinned: true, running: true });
      expect(Date.parse(ahead.body.now) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    });

    it('the pinned clock is the service clock: entities are stamped with it', async () => {
      await setClock({ now: '2032-05-06T07:08:09Z' });
      const tenantId = randomUUID();
      const token = await client.token({ tid: tenantId, roles: ['AdminAgent'] });
      const created = await client.createRelationship(token);
      expect(created.status).toBe(201);
      expect(created.body.createdDateTime).toBe('2032-05-06T07:08:09.0000000Z');
      expect(created.body.lastModifiedDateTime).toBe('2032-05-06T07:08:09.0000000Z');
    });

    it.each([
      ['not a date', { now: 'banana' }],
      ['an impossible date', { now: '2031-13-01T00:00:00Z' }],
      ['an empty string', { now: '' }],
      ['a number', { now: 1_900_000_000_000 }],
      ['no now', {}],
      ['an extra property', { now: '2031-01-01T00:00:00Z', speed: 2 }],
      ['an array', [{ now: '2031-01-01T00:00:00Z' }]],
      ['running not a boolean', { now: '2031-01-01T00:00:00Z', running: 'yes' }],
      ['running with real time', { now: null, running: false }],
    ])('invalid clock value (%s) → 400, clock unchanged', async (_name, body) => {
      await setClock({ now: '2033-01-01T00:00:00Z' });
      expectGraphError(await setClock(body), 400, 'badRequest');
      expect((await getClock()).body).toEqual({ now: '2033-01-01T00:00:00.0000000Z', pinned: true, running: false });
    });

    it('malformed JSON → 400 and a non-JSON body → 415, clock unchanged', async () => {
      await setClock({ now: '2033-01-01T00:00:00Z' });
      expectGraphError(
        await client.call('PUT', '/sandbox/clock', {
          rawBody: '{"now": "2031-01-01',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'badRequest',
      );
      expectGraphError(
        await client.call('PUT', '/sandbox/clock', {
          rawBody: '{"now": "2031-01-01T00:00:00Z"}',
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'unsupportedMediaType',
      );
      expect((await getClock()).body).toEqual({ now: '2033-01-01T00:00:00.0000000Z', pinned: true, running: false });
    });
  });

  describe('tokens', () => {
    it('mints a one-hour token on real time, whatever the sandbox clock says', async () => {
      await setClock({ now: '2031-01-01T00:00:00Z' });
      const tid = randomUUID();
      const oid = randomUUID();
      const before = Math.floor(Date.now() / 1000);
      const minted = await client.call<Record<string, unknown>>('POST', '/sandbox/tokens', {
        body: { tid, oid, roles: ['AdminAgent'], email: 'agent@example.test' },
      });
      expect(minted.status).toBe(200);
      const claims = decodeJwt(String(minted.body.access_token));
      expect(claims).toMatchObject({ tid, oid, roles: ['AdminAgent'] });
      expect(claims.iat).toBeGreaterThanOrEqual(before);
      expect(claims.iat).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      expect(claims.exp).toBe((claims.iat as number) + 3600);
      expect(minted.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, expires_on: claims.exp });
    });

    it.each([
      ['two years ahead', 2 * 365 * 86_400_000],
      ['two hours back', -2 * 3600_000],
    ])('a minted token keeps working with the clock %s, and the service uses the moved time', async (_name, offset) => {
      const token = await client.token({ tid: randomUUID(), roles: ['AdminAgent'] });
      const moved = new Date(Date.now() + offset).toISOString();
      await setClock({ now: moved });
      expect((await client.call('GET', relationshipsUrl, { token })).status).toBe(200);
      const created = await client.createRelationship(token);
      expect(created.status).toBe(201);
      expect(Date.parse(String(created.body.createdDateTime))).toBe(Date.parse(moved));
    });

    it.each([
      ['non-GUID tid', { tid: 'contoso' }],
      ['missing tid', { roles: ['AdminAgent'] }],
      ['non-GUID oid', { tid: randomUUID(), oid: 'alice' }],
      ['non-GUID wids', { tid: randomUUID(), wids: ['Global Administrator'] }],
      ['unknown claim', { tid: randomUUID(), admin: true }],
      ['roles not a list', { tid: randomUUID(), roles: 'AdminAgent' }],
    ])('/sandbox/tokens with %s → 400', async (_name, body) => {
      const result = await client.call('POST', '/sandbox/tokens', { body });
      expectGraphError(result, 400, 'badRequest');
      expect(result.body).not.toHaveProperty('access_token');
    });
  });

  describe('jobs', () => {
    it('lists the maintenance jobs (possibly none)', async () => {
      const jobs = await client.call<{ value: { id: string; schedule: string }[] }>('GET', '/sandbox/jobs');
      expect(jobs.status).toBe(200);
      expect(Array.isArray(jobs.body.value)).toBe(true);
      for (const job of jobs.body.value) {
        expect(job).toEqual({ id: expect.any(String), schedule: expect.any(String) });
        expect(job.id).not.toBe('');
      }
    });

    it('an unknown job → 404', async () => {
      const result = await client.call('POST', `/sandbox/jobs/no-such-job-${randomUUID().slice(0, 8)}`);
      expectGraphError(result, 404, 'ResourceNotFound');
      expect((result.body as { error: { message: string } }).error.message).toMatch(/no-such-job/);
    });
  });
});
