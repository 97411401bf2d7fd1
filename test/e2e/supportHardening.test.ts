import { randomUUID } from 'node:crypto';
import { CallResult, expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * Issue 15 for support (SPEC §1, §8): engineers are named by tenant and object id together,
 * diagnostics never tell a stranger that a support request exists, a customer tenant's snapshot
 * holds none of its partners' security groups, and a removed approval does not block asking again.
 */
describe('support hardening (issue 15)', () => {
  const { client } = useTestHost();

  const microsoftTenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  type Body = Record<string, unknown>;

  async function engineer(tenantId?: string) {
    const oid = randomUUID();
    const expertise = `Identity ${randomUUID().slice(0, 8)}`;
    expectOk(
      await client.call('PUT', `/sandbox/supportEngineers/${oid}`, {
        body: { displayName: `Engineer ${oid.slice(0, 4)}`, expertise: [expertise], ...(tenantId ? { tenantId } : {}) },
      }),
      201,
    );
    const token = await client.token({ tid: tenantId ?? microsoftTenantId, oid, roles: ['SupportEngineer'] });
    return { oid, expertise, token };
  }

  async function admin(tenants: Record<string, string>) {
    const email = `admin-${randomUUID().slice(0, 8)}@contoso.example`;
    const tokens: Record<string, string> = {};
    for (const [name, tid] of Object.entries(tenants)) {
      tokens[name] = await client.token({ tid, wids: [roles.serviceSupportAdministrator], email });
    }
    return tokens;
  }

  const fileRequest = (token: string, body: Body) => client.call('POST', '/v1.0/support/requests', { token, body });
  const askAccess = (token: string, supportRequestId: unknown, resourceTenantId: string) =>
    client.call('POST', '/v1.0/support/accessRequests', {
      token,
      body: { supportRequestId, resourceTenantId, justification: 'Sign-in failures for users of the resource tenant' },
    });
  const diagnostics = (token: string, requestId: unknown, tenantId: string): Promise<CallResult> =>
    client.call('GET', `/v1.0/support/requests/${String(requestId)}/diagnostics/${tenantId}`, { token });

  it('knows an engineer by tenant and object id: the same oid from another tenant is not them', async () => {
    const a = randomUUID();
    const eng = await engineer(microsoftTenantId);
    const tokens = await admin({ a });
    const filed = expectOk(
      await fileRequest(tokens.a, {
        title: 'Sign-ins fail',
        description: 'Since Monday.',
        category: eng.expertise,
        allowAdvancedDiagnostics: true,
      }),
      201,
    );
    expect(filed.body.assignedEngineer).toEqual({ id: eng.oid, displayName: expect.any(String) });
    expectOk(await diagnostics(eng.token, filed.body.id, a), 200);

    // Another tenant gives a user of its own the same object id and the SupportEngineer role.
    const impostor = await client.token({ tid: randomUUID(), oid: eng.oid, roles: ['SupportEngineer'] });
    expectGraphError(await diagnostics(impostor, filed.body.id, a), 404, 'ResourceNotFound');
    expectGraphError(await askAccess(impostor, filed.body.id, randomUUID()), 404, 'ResourceNotFound');
    expectGraphError(
      await client.call('POST', `/v1.0/support/requests/${String(filed.body.id)}/close`, { token: impostor }),
      404,
      'ResourceNotFound',
    );
    expectGraphError(
      await client.call('PUT', `/sandbox/supportEngineers/${eng.oid}`, {
        body: { displayName: 'x', expertise: ['y'], tenantId: 'not-a-tenant' },
      }),
      400,
      'badRequest',
    );
  });

  it('answers 404 to diagnostics of a support request the caller may not know exists, as for a missing one', async () => {
    const a = randomUUID();
    const eng = await engineer();
    const tokens = await admin({ a });
    const filed = expectOk(
      await fileRequest(tokens.a, {
        title: 't',
        description: 'd',
        category: eng.expertise,
        allowAdvancedDiagnostics: true,
      }),
      201,
    );
    const stranger = await client.token({ tid: randomUUID(), wids: [roles.globalAdministrator] });
    const missing = await diagnostics(stranger, randomUUID(), a);
    const other = await diagnostics(stranger, filed.body.id, a);
    expectGraphError(missing, 404, 'ResourceNotFound');
    expectGraphError(other, 404, 'ResourceNotFound');
  });

  it("leaves a partner's security groups out of a customer tenant's diagnostic snapshot", async () => {
    const { partner, partnerTenantId, customer, customerTenantId } = await client.tenants();
    const relationship = await client.activeRelationship(partner, customer, customerTenantId);
    const group = randomUUID();
    expectOk(
      await client.call('POST', `${relationshipsUrl}/${String(relationship.id)}/accessAssignments`, {
        token: partner,
        body: {
          accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
          accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
        },
      }),
      201,
    );
    const eng = await engineer();
    const inCustomer = await client.token({ tid: customerTenantId, wids: [roles.serviceSupportAdministrator] });
    const inPartner = await client.token({ tid: partnerTenantId, wids: [roles.serviceSupportAdministrator] });
    const filedByCustomer = expectOk(
      await fileRequest(inCustomer, {
        title: 't',
        description: 'd',
        category: eng.expertise,
        allowAdvancedDiagnostics: true,
      }),
      201,
    );
    const ofCustomer = expectOk(await diagnostics(eng.token, filedByCustomer.body.id, customerTenantId), 200);
    const listed = ofCustomer.body.delegatedAdminRelationships as Body[];
    expect(listed.find((item) => item.id === relationship.id)).toMatchObject({ tenantRole: 'customer' });
    expect(JSON.stringify(ofCustomer.body)).not.toContain(group);

    // The partner's own snapshot does show its groups.
    const filedByPartner = expectOk(
      await fileRequest(inPartner, {
        title: 't',
        description: 'd',
        category: eng.expertise,
        allowAdvancedDiagnostics: true,
      }),
      201,
    );
    const ofPartner = expectOk(await diagnostics(eng.token, filedByPartner.body.id, partnerTenantId), 200);
    expect(JSON.stringify(ofPartner.body.accessAssignments)).toContain(group);
  });

  it('lets the engineer ask again once an approval was removed; the support request tenant still sees it approved', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const eng = await engineer();
    const tokens = await admin({ a, b });
    const filed = expectOk(
      await fileRequest(tokens.a, {
        title: 't',
        description: 'd',
        category: eng.expertise,
        resourceTenantId: b,
        allowAdvancedDiagnostics: false,
      }),
      201,
    );
    const asked = expectOk(await askAccess(eng.token, filed.body.id, b), 201);
    expectOk(
      await client.call('POST', `/v1.0/support/accessRequests/${String(asked.body.id)}/approve`, {
        token: tokens.a,
        headers: { 'x-resource-tenant-authorization': `Bearer ${tokens.b}` },
      }),
      200,
    );
    expectGraphError(await askAccess(eng.token, filed.body.id, b), 409, 'conflict');
    const approvals = await client.call<{ value: Body[] }>('GET', '/v1.0/support/accessApprovals', { token: tokens.b });
    const approval = approvals.body.value.find((item) => item.accessRequestId === asked.body.id) as Body;
    expectOk(
      await client.call('POST', `/v1.0/support/accessApprovals/${String(approval.id)}/remove`, { token: tokens.b }),
      200,
    );
    expectGraphError(await diagnostics(eng.token, filed.body.id, b), 403, 'Authorization_RequestDenied');

    // The support request tenant is not told of the removal (SPEC §8.3) ...
    const first = await client.call('GET', `/v1.0/support/accessRequests/${String(asked.body.id)}`, {
      token: tokens.a,
    });
    expect(first.body.status).toBe('approved');
    // ... and the engineer may ask again.
    const again = expectOk(await askAccess(eng.token, filed.body.id, b), 201);
    expect(again.body).toMatchObject({ status: 'pending', resourceTenantId: b });
    expect(again.body.id).not.toBe(asked.body.id);
  });
});
