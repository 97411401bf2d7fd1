import { randomUUID } from 'node:crypto';
import { CallResult, expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * Account-state gates (SPEC §5.3) on every path that creates or changes GDAP: one test per row of
 * the table. Everything is set up while the partner is active, then its state is changed through
 * the sandbox seed route and each path is tried.
 */
type Entity = Record<string, unknown>;

describe('partner account state gates', () => {
  const { client } = useTestHost();

  async function setStates(tenantId: string, programStates: Record<string, string>): Promise<void> {
    expectOk(
      await client.call('PUT', `/sandbox/partners/${tenantId}`, {
        body: { partnerTypes: Object.keys(programStates), programStates },
      }),
      200,
    );
  }

  /** A partner with a draft, a pending and an active relationship, made while it was active. */
  async function world() {
    const t = await client.tenants();
    const draft = expectOk(
      await client.createRelationship(t.partner, { customer: { tenantId: t.customerTenantId } }),
      201,
    ).body;
    const pendingId = String(
      expectOk(await client.createRelationship(t.partner, { customer: { tenantId: t.customerTenantId } }), 201).body.id,
    );
    expectOk(await client.request(t.partner, pendingId, 'lockForApproval'), 201);
    const active = await client.activeRelationship(t.partner, t.customer, t.customerTenantId);
    return { ...t, draft, pendingId, active };
  }

  const patch = (token: string, entity: Entity, body: Entity): Promise<CallResult> =>
    client.call('PATCH', `${relationshipsUrl}/${String(entity.id)}`, {
      token,
      body,
      headers: { 'if-match': String(entity['@odata.etag']) },
    });
  const remove = (token: string, entity: Entity): Promise<CallResult> =>
    client.call('DELETE', `${relationshipsUrl}/${String(entity.id)}`, {
      token,
      headers: { 'if-match': String(entity['@odata.etag']) },
    });
  const assign = (token: string, relationshipId: string): Promise<CallResult> =>
    client.call('POST', `${relationshipsUrl}/${relationshipId}/accessAssignments`, {
      token,
      body: {
        accessContainer: { accessContainerId: randomUUID(), accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
      },
    });
  const bulk = (token: string, ids: string[]): Promise<CallResult> =>
    client.call('POST', '/v1.0/tenantRelationships/bulkAutoExtend', {
      token,
      body: { relationshipIds: ids, autoExtendDuration: 'P180D' },
    });
  const createCustomer = (token: string, enableGDAPByDefault?: boolean): Promise<CallResult> =>
    client.call('POST', '/v1/customers', {
      token,
      body: {
        companyProfile: { companyName: 'Gate Co', domain: `g${randomUUID().slice(0, 8)}` },
        ...(enableGDAPByDefault === undefined ? {} : { enableGDAPByDefault }),
      },
    });
  const expectRefused = (result: CallResult, pattern: RegExp): void => {
    expectGraphError(result, 403, 'Authorization_RequestDenied');
    expect((result.body as { error: { message: string } }).error.message).toMatch(pattern);
  };

  it('any CSP program active: creates and updates', async () => {
    const w = await world();
    // The FAQ's example: restricted direct bill, active indirect reseller.
    await setStates(w.partnerTenantId, { directBill: 'restricted', indirectReseller: 'active' });
    expectOk(await client.createRelationship(w.partner), 201);
    expectOk(await client.request(w.partner, String(w.draft.id), 'lockForApproval'), 201);
    expectOk(await patch(w.partner, w.active, { autoExtendDuration: 'P180D' }), 200);
    expectOk(await assign(w.partner, String(w.active.id)), 201);
    expectOk(await createCustomer(w.partner), 201);
  });

  it('none active, some restricted: no new GDAP, existing ones and their assignments still change', async () => {
    const w = await world();
    await setStates(w.partnerTenantId, { directBill: 'restricted', indirectProvider: 'suspended' });
    const cannotCreate = /cannot create new GDAP relationships/;
    expectRefused(await client.createRelationship(w.partner), cannotCreate);
    expectRefused(await client.request(w.partner, String(w.draft.id), 'lockForApproval'), cannotCreate);
    expectRefused(await createCustomer(w.partner), cannotCreate);
    expect(expectOk(await createCustomer(w.partner, false), 201).body).not.toHaveProperty('defaultGdapRelationshipId');

    expectOk(await patch(w.partner, w.draft, { displayName: `Renamed ${randomUUID().slice(0, 8)}` }), 200);
    expectOk(await patch(w.partner, w.active, { autoExtendDuration: 'P180D' }), 200);
    expectOk(await assign(w.partner, String(w.active.id)), 201);
    expect(expectOk(await bulk(w.partner, [String(w.active.id)]), 200).body).toEqual({
      results: [{ id: w.active.id, status: 'succeeded' }],
    });
    const fresh = (await client.call('GET', `${relationshipsUrl}/${String(w.draft.id)}`, { token: w.partner })).body;
    expectOk(await remove(w.partner, fresh), 204);
  });

  it('all suspended: neither creates nor updates; terminate and customer actions still work', async () => {
    const w = await world();
    await setStates(w.partnerTenantId, { directBill: 'suspended', indirectReseller: 'suspended' });
    const suspended = /suspended.*can be neither created nor updated/;
    expectRefused(await client.createRelationship(w.partner), suspended);
    expectRefused(await client.request(w.partner, String(w.draft.id), 'lockForApproval'), suspended);
    expectRefused(await patch(w.partner, w.draft, { displayName: 'Nope' }), suspended);
    expectRefused(await patch(w.partner, w.active, { autoExtendDuration: 'P180D' }), suspended);
    expectRefused(await remove(w.partner, w.draft), suspended);
    expectRefused(await assign(w.partner, String(w.active.id)), suspended);
    expectRefused(await bulk(w.partner, [String(w.active.id)]), suspended);
    expectRefused(await createCustomer(w.partner), suspended);

    // The customer's own actions are never gated, and terminating only removes access.
    expectOk(await client.request(w.customer, w.pendingId, 'approve'), 201);
    expectOk(await client.request(w.partner, String(w.active.id), 'terminate'), 201);
    const ended = await client.call('GET', `${relationshipsUrl}/${String(w.active.id)}`, { token: w.partner });
    expect(ended.body).toMatchObject({ status: 'terminated' });
  });
});
