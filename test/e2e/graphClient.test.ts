import {
  AuthenticationHandler,
  AuthenticationProvider,
  Client as GraphClient,
  Middleware,
  MiddlewareFactory,
} from '@microsoft/microsoft-graph-client';
import type { DelegatedAdminRelationship, DelegatedAdminRelationshipRequest } from '@microsoft/microsoft-graph-types';
import { Client, roles, startTestHost, TestHost } from './support';

/**
 * The official Graph JS client, pointed at the local host by its base URL. The client's own
 * authentication middleware sends tokens only to https Graph hosts (and strips them otherwise),
 * so over the local host's plain http a one-line middleware sets the header instead.
 */
function bearerMiddleware(token: string): Middleware {
  let next: Middleware | undefined;
  return {
    execute: async (context) => {
      context.options = {
        ...context.options,
        headers: { ...context.options?.headers, Authorization: `Bearer ${token}` },
      };
      await next?.execute(context);
    },
    setNext: (middleware) => {
      next = middleware;
    },
  };
}

describe('Microsoft Graph JS client against the local host', () => {
  let host: TestHost;
  let partner: GraphClient;
  let customer: GraphClient;
  let customerTenantId: string;

  beforeAll(async () => {
    host = await startTestHost();
    const tenants = await new Client(host.url).tenants();
    customerTenantId = tenants.customerTenantId;
    const graphFor = (token: string): GraphClient =>
      GraphClient.initWithMiddleware({
        baseUrl: host.url,
        defaultVersion: 'v1.0',
        middleware: MiddlewareFactory.getDefaultMiddlewareChain({} as AuthenticationProvider).map((middleware) =>
          middleware instanceof AuthenticationHandler ? bearerMiddleware(token) : middleware,
        ),
      });
    partner = graphFor(tenants.partner);
    customer = graphFor(tenants.customer);
  });

  afterAll(() => host.close());

  const collection = '/tenantRelationships/delegatedAdminRelationships';

  it('creates, reads, lists with $filter and paging, patches with If-Match and locks for approval', async () => {
    const created: DelegatedAdminRelationship = await partner.api(collection).post({
      displayName: 'Graph client relationship',
      duration: 'P2Y',
      customer: { tenantId: customerTenantId, displayName: 'Contoso' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
      autoExtendDuration: 'P180D',
    });
    expect(created).toMatchObject({ status: 'created', duration: 'P730D', autoExtendDuration: 'P180D' });
    expect(created.id).toMatch(/^[0-9a-f-]{73}$/);

    const read: DelegatedAdminRelationship & { '@odata.etag': string } = await partner
      .api(`${collection}/${created.id}`)
      .get();
    expect(read.displayName).toBe('Graph client relationship');
    expect(read['@odata.etag']).toMatch(/^W\/"/);

    for (let i = 0; i < 4; i++) {
      await partner.api(collection).post({
        displayName: `Paged ${i}`,
        duration: 'P30D',
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.intuneAdministrator }] },
      });
    }
    const unsupported = await partner
      .api(collection)
      .filter("startswith(displayName,'Paged')")
      .get()
      .catch((error: { statusCode: number; code: string }) => error);
    expect(unsupported).toMatchObject({ statusCode: 400, code: 'badRequest' });

    const seen: string[] = [];
    let page = await partner.api(collection).filter("status eq 'created'").top(2).get();
    seen.push(...page.value.map((r: DelegatedAdminRelationship) => r.displayName));
    while (page['@odata.nextLink']) {
      // The client parses absolute URLs only when they are https; over http, hand it the path.
      page = await partner.api(String(page['@odata.nextLink']).replace(`${host.url}/v1.0`, '')).get();
      seen.push(...page.value.map((r: DelegatedAdminRelationship) => r.displayName));
    }
    expect(seen.sort()).toEqual(['Graph client relationship', 'Paged 0', 'Paged 1', 'Paged 2', 'Paged 3']);

    const patched: DelegatedAdminRelationship = await partner
      .api(`${collection}/${created.id}`)
      .header('If-Match', read['@odata.etag'])
      .patch({ displayName: 'Renamed by Graph client', autoExtendDuration: 'PT0S' });
    expect(patched).toMatchObject({ displayName: 'Renamed by Graph client', autoExtendDuration: 'PT0S' });

    const stale = await partner
      .api(`${collection}/${created.id}`)
      .header('If-Match', read['@odata.etag'])
      .patch({ displayName: 'Lost update' })
      .catch((error: { statusCode: number; code: string }) => error);
    expect(stale).toMatchObject({ statusCode: 412, code: 'preconditionFailed' });

    const lock: DelegatedAdminRelationshipRequest = await partner
      .api(`${collection}/${created.id}/requests`)
      .post({ action: 'lockForApproval' });
    expect(lock).toMatchObject({ action: 'lockForApproval', status: 'succeeded' });

    await customer.api(`${collection}/${created.id}/requests`).post({ action: 'approve' });
    const active: DelegatedAdminRelationship = await partner.api(`${collection}/${created.id}`).get();
    expect(active.status).toBe('active');
    const requests = await partner.api(`${collection}/${created.id}/requests`).get();
    expect(requests.value.map((r: DelegatedAdminRelationshipRequest) => r.action).sort()).toEqual([
      'approve',
      'lockForApproval',
    ]);
  });
});
