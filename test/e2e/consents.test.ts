import { randomUUID } from 'node:crypto';
import { CallResult, expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/** Application consents (SPEC §7): every documented refusal, and adding scopes by DELETE then POST. */
const graph = '00000003-0000-0000-c000-000000000000';
const exchangeOnline = '00000002-0000-0ff1-ce00-000000000000';
const applicationAdministrator = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3';
const unsupportedToken = /^Unsupported token\. Unable to initialize the authorization context/;

describe('application consents', () => {
  const { client, host } = useTestHost();

  const message = (result: CallResult): string => (result.body as { error: { message: string } }).error.message;

  /**
   * A partner with an active GDAP relationship to a customer, whose group `consenters` holds
   * Application Administrator and group `mailers` Exchange Administrator only.
   */
  async function world() {
    const t = await client.tenants();
    const relationship = await client.activeRelationship(t.partner, t.customer, t.customerTenantId, {
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: applicationAdministrator },
          { roleDefinitionId: roles.exchangeAdministrator },
        ],
      },
    });
    const consenters = randomUUID();
    const mailers = randomUUID();
    for (const [group, role] of [
      [consenters, applicationAdministrator],
      [mailers, roles.exchangeAdministrator],
    ]) {
      expectOk(
        await client.call('POST', `${relationshipsUrl}/${String(relationship.id)}/accessAssignments`, {
          token: t.partner,
          body: {
            accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
            accessDetails: { unifiedRoles: [{ roleDefinitionId: role }] },
          },
        }),
        201,
      );
    }
    const appId = randomUUID();
    const user = (groups: string[], appid = appId) =>
      client.token({ tid: t.partnerTenantId, roles: ['HelpdeskAgent'], groups, appid });
    return { ...t, appId, consenter: await user([consenters]), mailer: await user([mailers]), user };
  }

  const url = (customerTenantId: string, applicationId?: string): string =>
    `/v1/customers/${customerTenantId}/applicationconsents${applicationId ? `/${applicationId}` : ''}`;

  const consentBody = (appId: string, overrides: Record<string, unknown> = {}) => ({
    applicationId: appId,
    displayName: 'Contoso partner tool',
    applicationGrants: [{ enterpriseApplicationId: graph, scope: 'profile' }],
    ...overrides,
  });

  it('consents with GDAP Application Administrator, and adds scopes by DELETE then POST', async () => {
    const w = await world();
    const created = expectOk(
      await client.call('POST', url(w.customerTenantId), { token: w.consenter, body: consentBody(w.appId) }),
      201,
    );
    expect(created.headers.get('location')).toBe(`${host.url}${url(w.customerTenantId, w.appId)}`);
    expect(created.body).toMatchObject({
      customerTenantId: w.customerTenantId,
      applicationId: w.appId,
      displayName: 'Contoso partner tool',
      applicationGrants: [{ enterpriseApplicationId: graph, scope: 'profile' }],
    });

    // Adding a scope to the consented resource: POST again is a conflict...
    const again = await client.call('POST', url(w.customerTenantId), {
      token: w.consenter,
      body: consentBody(w.appId, {
        applicationGrants: [{ enterpriseApplicationId: graph, scope: 'profile, User.Read' }],
      }),
    });
    expectGraphError(again, 409, 'conflict');
    expect(message(again)).toMatch(/DELETE the application's consent, then POST it again/);
    expect(message(again)).toContain('Permission entry already exists');

    // ...so DELETE, then POST with every scope.
    expectOk(await client.call('DELETE', url(w.customerTenantId, w.appId), { token: w.consenter }), 204);
    expectGraphError(
      await client.call('GET', url(w.customerTenantId, w.appId), { token: w.consenter }),
      404,
      'ResourceNotFound',
    );
    expectOk(
      await client.call('POST', url(w.customerTenantId), {
        token: w.consenter,
        body: consentBody(w.appId, {
          applicationGrants: [{ enterpriseApplicationId: graph, scope: 'profile, User.Read' }],
        }),
      }),
      201,
    );
    // A second resource is its own POST.
    expectOk(
      await client.call('POST', url(w.customerTenantId), {
        token: w.consenter,
        body: consentBody(w.appId, {
          applicationGrants: [{ enterpriseApplicationId: exchangeOnline, scope: 'Exchange.Manage' }],
        }),
      }),
      201,
    );
    const read = expectOk(await client.call('GET', url(w.customerTenantId, w.appId), { token: w.consenter }), 200);
    expect(read.body.applicationGrants).toEqual([
      { enterpriseApplicationId: graph, scope: 'profile, User.Read' },
      { enterpriseApplicationId: exchangeOnline, scope: 'Exchange.Manage' },
    ]);
    const list = expectOk(await client.call('GET', url(w.customerTenantId), { token: w.consenter }), 200);
    expect(list.body).toMatchObject({ totalCount: 1, items: [{ applicationId: w.appId }] });
  });

  it('refuses more than one resource per call', async () => {
    const w = await world();
    const result = await client.call('POST', url(w.customerTenantId), {
      token: w.consenter,
      body: consentBody(w.appId, {
        applicationGrants: [
          { enterpriseApplicationId: graph, scope: 'profile' },
          { enterpriseApplicationId: exchangeOnline, scope: 'Exchange.Manage' },
        ],
      }),
    });
    expectGraphError(result, 400, 'badRequest');
    expect(message(result)).toMatch(/exactly one resource per request.*one call per resource/);
  });

  it('refuses a resource name instead of its id', async () => {
    const w = await world();
    const result = await client.call('POST', url(w.customerTenantId), {
      token: w.consenter,
      body: consentBody(w.appId, {
        applicationGrants: [{ enterpriseApplicationId: 'graph.microsoft.com', scope: 'profile' }],
      }),
    });
    expectGraphError(result, 400, 'badRequest');
    expect(message(result)).toMatch(
      /Request_UnsupportedQuery.*not a resource id.*00000003-0000-0000-c000-000000000000/,
    );
  });

  it('refuses scopes not separated by a comma and a space', async () => {
    const w = await world();
    const result = await client.call('POST', url(w.customerTenantId), {
      token: w.consenter,
      body: consentBody(w.appId, {
        applicationGrants: [{ enterpriseApplicationId: graph, scope: 'profile User.Read' }],
      }),
    });
    expectGraphError(result, 400, 'badRequest');
    expect(message(result)).toMatch(/comma and a space/);
  });

  it('answers "Unsupported token" when the application is not the token\'s', async () => {
    const w = await world();
    const otherApp = await client.call('POST', url(w.customerTenantId), {
      token: w.consenter,
      body: consentBody(randomUUID()),
    });
    expectGraphError(otherApp, 400, 'badRequest');
    expect(message(otherApp)).toMatch(unsupportedToken);
  });

  it('answers "Unsupported token" without DAP (AdminAgent) or GDAP with an application role', async () => {
    const w = await world();
    // GDAP, but the user's group only holds Exchange Administrator.
    const mailer = await client.call('POST', url(w.customerTenantId), { token: w.mailer, body: consentBody(w.appId) });
    expectGraphError(mailer, 400, 'badRequest');
    expect(message(mailer)).toMatch(unsupportedToken);
    expect(message(mailer)).toMatch(
      /Global Administrator, Application Administrator or Cloud Application Administrator/,
    );
    // No group at all.
    const nobody = await client.call('POST', url(w.customerTenantId), {
      token: await w.user([]),
      body: consentBody(w.appId),
    });
    expect(message(nobody)).toMatch(unsupportedToken);
    // Reads and deletions are refused too.
    expectGraphError(
      await client.call('GET', url(w.customerTenantId), { token: w.mailer }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(
      await client.call('DELETE', url(w.customerTenantId, w.appId), { token: w.mailer }),
      403,
      'Authorization_RequestDenied',
    );
  });

  it('lets an AdminAgent consent through DAP', async () => {
    const partnerTenantId = randomUUID();
    const customerTenantId = randomUUID();
    const appId = randomUUID();
    expectOk(await client.call('PUT', `/sandbox/dap/${partnerTenantId}/${customerTenantId}`), 200);
    const adminAgent = await client.token({ tid: partnerTenantId, roles: ['AdminAgent'], appid: appId });
    expectOk(await client.call('POST', url(customerTenantId), { token: adminAgent, body: consentBody(appId) }), 201);
    const helpdesk = await client.token({ tid: partnerTenantId, roles: ['HelpdeskAgent'], appid: appId });
    const refused = await client.call('POST', url(customerTenantId), { token: helpdesk, body: consentBody(appId) });
    expect(message(refused)).toMatch(unsupportedToken);
    expectGraphError(
      await client.call('DELETE', url(customerTenantId, randomUUID()), { token: adminAgent }),
      404,
      'ResourceNotFound',
    );
  });
});
