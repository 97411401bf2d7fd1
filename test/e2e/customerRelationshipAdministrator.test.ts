import { randomUUID } from 'node:crypto';
import { expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * The customer's Customer Delegated Admin Relationship Administrator (SPEC §13): accepts, views and
 * terminates GDAP relationships with its tenant like the customer's Global Administrator, but
 * cannot remove roles.
 */
type Entity = Record<string, unknown>;

describe('Customer Delegated Admin Relationship Administrator', () => {
  const { client } = useTestHost();

  async function setUp() {
    const { partner, customerTenantId, customer: globalAdministrator } = await client.tenants();
    const relationshipAdministrator = await client.token({
      tid: customerTenantId,
      wids: [roles.customerDelegatedAdminRelationshipAdministrator],
    });
    return { partner, customerTenantId, globalAdministrator, relationshipAdministrator };
  }

  async function lockedRelationship(partner: string, customerTenantId: string): Promise<string> {
    const created = expectOk(
      await client.createRelationship(partner, {
        customer: { tenantId: customerTenantId },
        accessDetails: {
          unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }, { roleDefinitionId: roles.globalReader }],
        },
      }),
      201,
    );
    const id = String(created.body.id);
    expectOk(await client.request(partner, id, 'lockForApproval'), 201);
    return id;
  }

  const ids = (body: Entity): string[] => (body.value as Entity[]).map((item) => String(item.id));

  it('approves, reads and terminates a relationship with its tenant', async () => {
    const { partner, customerTenantId, relationshipAdministrator } = await setUp();
    const id = await lockedRelationship(partner, customerTenantId);

    const pending = await client.call('GET', `${relationshipsUrl}/${id}`, { token: relationshipAdministrator });
    expect(expectOk(pending, 200).body.status).toBe('approvalPending');
    expectOk(await client.request(relationshipAdministrator, id, 'approve'), 201);
    const active = expectOk(await client.call('GET', `${relationshipsUrl}/${id}`, { token: partner }), 200).body;
    expect(active).toMatchObject({ status: 'active', customer: { tenantId: customerTenantId } });

    const listed = await client.call('GET', relationshipsUrl, { token: relationshipAdministrator });
    expect(ids(expectOk(listed, 200).body)).toEqual([id]);
    const requests = await client.call('GET', `${relationshipsUrl}/${id}/requests`, {
      token: relationshipAdministrator,
    });
    expect((expectOk(requests, 200).body.value as Entity[]).map((request) => request.action).sort()).toEqual([
      'approve',
      'lockForApproval',
    ]);
    expectOk(
      await client.call('GET', `${relationshipsUrl}/${id}/operations`, { token: relationshipAdministrator }),
      200,
    );

    expectOk(await client.request(relationshipAdministrator, id, 'terminate'), 201);
    const ended = await client.call('GET', `${relationshipsUrl}/${id}`, { token: relationshipAdministrator });
    expect(expectOk(ended, 200).body.status).toBe('terminated');
  });

  it('rejects an invitation', async () => {
    const { partner, customerTenantId, relationshipAdministrator } = await setUp();
    const id = await lockedRelationship(partner, customerTenantId);
    expectOk(await client.request(relationshipAdministrator, id, 'reject'), 201);
    const rejected = await client.call('GET', `${relationshipsUrl}/${id}`, { token: partner });
    expect(expectOk(rejected, 200).body.status).toBe('terminated');
  });

  it("cannot remove roles, which the customer's Global Administrator can", async () => {
    const { partner, customerTenantId, globalAdministrator, relationshipAdministrator } = await setUp();
    const id = await lockedRelationship(partner, customerTenantId);
    expectOk(await client.request(relationshipAdministrator, id, 'approve'), 201);
    const current = await client.call('GET', `${relationshipsUrl}/${id}`, { token: relationshipAdministrator });
    const etag = String(expectOk(current, 200).body['@odata.etag']);
    const removeGlobalReader = {
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    };

    const refused = await client.call('PATCH', `${relationshipsUrl}/${id}`, {
      token: relationshipAdministrator,
      headers: { 'if-match': etag },
      body: removeGlobalReader,
    });
    expectGraphError(refused, 403, 'Authorization_RequestDenied');
    const unchanged = expectOk(await client.call('GET', `${relationshipsUrl}/${id}`, { token: partner }), 200).body;
    expect(unchanged['@odata.etag']).toBe(etag);

    const removed = await client.call('PATCH', `${relationshipsUrl}/${id}`, {
      token: globalAdministrator,
      headers: { 'if-match': etag },
      body: removeGlobalReader,
    });
    expectOk(removed, 202);
  });

  it("sees only its own tenant's relationships, and not its tenant's partner side", async () => {
    const { partner, customerTenantId, relationshipAdministrator } = await setUp();
    const mine = await lockedRelationship(partner, customerTenantId);
    const othersId = await lockedRelationship(partner, randomUUID());
    // The same tenant acting as a partner: its drafts are for its AdminAgents, not for this role.
    const ownAdminAgent = await client.token({ tid: customerTenantId, roles: ['AdminAgent'] });
    const ownDraft = String(expectOk(await client.createRelationship(ownAdminAgent), 201).body.id);

    const listed = await client.call('GET', relationshipsUrl, { token: relationshipAdministrator });
    expect(ids(expectOk(listed, 200).body)).toEqual([mine]);
    expectGraphError(
      await client.call('GET', `${relationshipsUrl}/${othersId}`, { token: relationshipAdministrator }),
      404,
      'ResourceNotFound',
    );
    // Its own tenant's resource: refused, not hidden (SPEC §1).
    expectGraphError(
      await client.call('GET', `${relationshipsUrl}/${ownDraft}`, { token: relationshipAdministrator }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await client.request(relationshipAdministrator, othersId, 'approve'), 404, 'ResourceNotFound');
  });

  it('is a permission other customer roles do not have', async () => {
    const { partner, customerTenantId } = await setUp();
    const id = await lockedRelationship(partner, customerTenantId);
    const reader = await client.token({ tid: customerTenantId, wids: [roles.globalReader] });
    expectGraphError(await client.call('GET', relationshipsUrl, { token: reader }), 403, 'Authorization_RequestDenied');
    expectGraphError(
      await client.call('GET', `${relationshipsUrl}/${id}`, { token: reader }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await client.request(reader, id, 'approve'), 403, 'Authorization_RequestDenied');
  });
});
