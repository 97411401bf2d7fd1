import { registeredHttp } from '../../shared/registrations';
import { request as httpRequest } from 'node:http';
import {
  Client,
  expectGraphError,
  relationshipsUrl,
  roles,
  startIsolatedTestHost,
  startTestHost,
  TestHost,
} from './support';

/**
 * Ids that can never exist (issue 15): a route value holding a character storage keys refuse
 * (`/`, `\`, `#`, `?`), a lone surrogate or plain nonsense is answered at once with a 4xx in
 * Graph's envelope, for every registered route and method; never a 500 after storage retries.
 */
describe('hostile input is refused at once, in the Graph error envelope (issue 15)', () => {
  let host: TestHost;
  let client: Client;
  let token: string;
  /** Values that do name something, so the bad value is met after them (a real relationship's children). */
  let good: Record<string, string>;

  beforeAll(async () => {
    host = await startTestHost();
    client = new Client(host.url);
    const tenants = await client.tenants();
    token = await client.token({
      tid: tenants.partnerTenantId,
      roles: ['AdminAgent', 'ServiceOperator', 'SupportEngineer'],
      wids: ['62e90394-69f5-4237-9190-012177145e10'],
    });
    const active = await client.activeRelationship(tenants.partner, tenants.customer, tenants.customerTenantId);
    good = { id: String(active.id), customerTenantId: tenants.customerTenantId, job: 'purgeEnded' };
  });
  afterAll(() => host.close());

  const badValues = ['a%2Fb', 'a%5Cb', 'a%23b', 'a%3Fb', '%ED%A0%80', 'not-an-id'];

  /** Each route once with every value bad, and once per value with only that one bad (others good where known). */
  function paths(route: string, bad: string): string[] {
    const valuePattern = /\{\*?(\w+)[^}]*\}/g;
    const count = [...route.matchAll(valuePattern)].length;
    const fill = (badIndex: number | undefined): string => {
      let index = -1;
      return `/${route.replace(valuePattern, (_, name: string) => {
        index++;
        const isBad = badIndex === undefined || index === badIndex;
        return isBad || !(name in good) ? bad : good[name];
      })}`;
    };
    return [fill(undefined), ...Array.from({ length: count }, (_, index) => fill(index))];
  }

  it.each(badValues)('%s in every route value is a quick 4xx', async (bad) => {
    const failures: string[] = [];
    for (const registration of registeredHttp()) {
      // The portal's pages answer HTML for any path under it (a single-page app), by design.
      if (!registration.route.includes('{') || /^(portal\/|\{root)/.test(registration.route)) continue;
      for (const path of new Set(paths(registration.route, bad)))
        for (const method of registration.methods) {
          const started = Date.now();
          const result = await client.call(method, path, {
            token,
            ...(['POST', 'PUT', 'PATCH'].includes(method) ? { body: {} } : {}),
            headers: { 'if-match': '*' },
          });
          const tookMs = Date.now() - started;
          if (result.status >= 500 || tookMs > 2000)
            failures.push(`${method} ${path} → ${result.status} in ${tookMs} ms`);
        }
    }
    expect(failures).toEqual([]);
  });

  describe('bodies and request targets', () => {
    const create = (body: string) =>
      client.call('POST', relationshipsUrl, { token, rawBody: body, headers: { 'content-type': 'application/json' } });

    it('refuses JSON nested deeper than 64 levels with 400, however deep', async () => {
      for (const depth of [65, 8000, 30_000]) {
        const result = await create(`{"displayName":${'['.repeat(depth)}${']'.repeat(depth)}}`);
        expectGraphError(result, 400, 'badRequest');
        expect((result.body as { error: { message: string } }).error.message).toMatch(/64 levels/);
      }
    });

    it('refuses a lone surrogate with 400 naming the property, in values and in names', async () => {
      const valid = {
        duration: 'P30D',
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
      };
      const inValue = await create(JSON.stringify(valid).replace('{', '{"displayName":"bad \\ud800 name",'));
      expectGraphError(inValue, 400, 'badRequest');
      expect((inValue.body as { error: { message: string } }).error.message).toMatch(/'displayName'/);
      const inName = await create(
        JSON.stringify({ ...valid, displayName: 'ok' }).replace('"duration"', '"\\udc00x":1,"duration"'),
      );
      expectGraphError(inName, 400, 'badRequest');
      const nested = await create(
        JSON.stringify({ ...valid, displayName: 'ok', customer: { tenantId: 'x' } }).replace('"x"', '"\\ud83d"'),
      );
      expectGraphError(nested, 400, 'badRequest');
      expect((nested.body as { error: { message: string } }).error.message).toMatch(/'customer.tenantId'/);
    });

    /** A raw request, since fetch normalizes request targets. */
    function raw(target: string): Promise<{ status: number; body: string }> {
      const { hostname, port } = new URL(host.url);
      return new Promise((resolve, reject) => {
        const sent = httpRequest(
          { hostname, port, path: target, method: 'GET', headers: { authorization: `Bearer ${token}` } },
          (response) => {
            let body = '';
            response.on('data', (chunk) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        sent.on('error', reject);
        sent.end();
      });
    }

    it('treats a request target starting with // as a path, never as another host', async () => {
      const answer = await raw('//evil.example/v1.0/tenantRelationships/delegatedAdminRelationships');
      expect(answer.status).toBe(404);
      expect(answer.body).not.toContain('evil.example/v1.0/$metadata');
    });

    it('answers 400 to malformed percent-escapes in the path', async () => {
      for (const target of [`${relationshipsUrl}/%E0%A4%A`, `${relationshipsUrl}/%ZZ`, `${relationshipsUrl}/abc%`]) {
        const answer = await raw(target);
        expect({ target, status: answer.status }).toEqual({ target, status: 400 });
        expect(JSON.parse(answer.body).error.code).toBe('badRequest');
      }
    });
  });

  it('outside sandbox mode, needs PUBLIC_BASE_URL before it writes an absolute URL from a Host header', async () => {
    const saved = { sandbox: process.env.SANDBOX_MODE, base: process.env.PUBLIC_BASE_URL };
    process.env.SANDBOX_MODE = 'false';
    delete process.env.PUBLIC_BASE_URL;
    const unconfigured = await startIsolatedTestHost();
    process.env.PUBLIC_BASE_URL = 'https://gdap.example.com';
    const configured = await startIsolatedTestHost();
    process.env.SANDBOX_MODE = saved.sandbox;
    if (saved.base === undefined) delete process.env.PUBLIC_BASE_URL;
    else process.env.PUBLIC_BASE_URL = saved.base;
    try {
      const refused = await new Client(unconfigured.url).call('GET', relationshipsUrl);
      expectGraphError(refused, 500, 'internalServerError');
      expect((refused.body as { error: { message: string } }).error.message).toMatch(/PUBLIC_BASE_URL/);
      // Configured, the request goes on to authentication as usual.
      expectGraphError(
        await new Client(configured.url).call('GET', relationshipsUrl),
        401,
        'InvalidAuthenticationToken',
      );
    } finally {
      await unconfigured.close();
      await configured.close();
    }
  });
});
