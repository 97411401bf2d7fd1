import { expectGraphError, expectOk, relationshipsUrl, useTestHost } from './support';

/** SPEC §14: what real clients send that Graph accepts. */
describe('Graph fidelity for real clients', () => {
  const { client } = useTestHost();
  let partner: string;
  let customer: string;
  let customerTenantId: string;

  beforeAll(async () => {
    ({ partner, customer, customerTenantId } = await client.tenants());
  });

  describe('If-Match on POST …/requests (optional)', () => {
    it('acts when it names the current ETag, and without one', async () => {
      const created = expectOk(
        await client.createRelationship(partner, { customer: { tenantId: customerTenantId } }),
        201,
      );
      const id = String(created.body.id);
      expectOk(
        await client.call('POST', `${relationshipsUrl}/${id}/requests`, {
          token: partner,
          body: { action: 'lockForApproval' },
          headers: { 'if-match': String(created.body['@odata.etag']) },
        }),
        201,
      );
      expectOk(await client.request(customer, id, 'approve'), 201);
    });

    it('answers 412 for a stale ETag, before the state rules, and changes nothing', async () => {
      const created = expectOk(await client.createRelationship(partner), 201);
      const id = String(created.body.id);
      const staleEtag = String(created.body['@odata.etag']);
      expectOk(await client.request(partner, id, 'lockForApproval'), 201);
      // A second lock is a wrong-state action (400), but the stale ETag is checked first.
      const result = await client.call('POST', `${relationshipsUrl}/${id}/requests`, {
        token: partner,
        body: { action: 'lockForApproval' },
        headers: { 'If-Match': staleEtag },
      });
      expectGraphError(result, 412, 'preconditionFailed');
      const requests = await client.call<{ value: unknown[] }>('GET', `${relationshipsUrl}/${id}/requests`, {
        token: partner,
      });
      expect(requests.body.value).toHaveLength(1);
    });

    it('answers 404, not 412, to a tenant that cannot see the relationship', async () => {
      const created = expectOk(await client.createRelationship(partner), 201);
      const stranger = await client.token({ tid: crypto.randomUUID(), roles: ['AdminAgent'] });
      const result = await client.call('POST', `${relationshipsUrl}/${created.body.id}/requests`, {
        token: stranger,
        body: { action: 'lockForApproval' },
        headers: { 'If-Match': 'W/"c3RhbGU="' },
      });
      expectGraphError(result, 404, 'ResourceNotFound');
    });
  });

  it("reads OData keywords in any case: CIPP's offboarding filter", async () => {
    const fresh = await client.tenants();
    const active = await client.activeRelationship(fresh.partner, fresh.customer, fresh.customerTenantId);
    await client.createRelationship(fresh.partner, { customer: { tenantId: fresh.customerTenantId } });
    const filter = `(status eq 'active') AND (customer/tenantId EQ '${fresh.customerTenantId}')`;
    const listed = expectOk(
      await client.call<{ value: { id: string }[] }>(
        'GET',
        `/beta/tenantRelationships/delegatedAdminRelationships?$filter=${encodeURIComponent(filter)}&$ORDERBY=createdDateTime DESC`,
        { token: fresh.partner },
      ),
      200,
    );
    expect(listed.body.value.map((item) => item.id)).toEqual([active.id]);
    const wrongProperty = await client.call(
      'GET',
      `${relationshipsUrl}?$filter=${encodeURIComponent("STATUS eq 'active'")}`,
      {
        token: partner,
      },
    );
    expectGraphError(wrongProperty, 400, 'badRequest');
  });

  describe('customer display names (SPEC §14)', () => {
    it('are never empty for a tenant the sandbox met, and PUT /sandbox/tenants/{id} overrides them', async () => {
      const fresh = await client.tenants();
      const created = expectOk(
        await client.createRelationship(fresh.partner, { customer: { tenantId: fresh.customerTenantId } }),
        201,
      );
      const defaultName = (created.body.customer as { displayName: string }).displayName;
      expect(defaultName).toMatch(new RegExp(`\\(${fresh.customerTenantId.slice(0, 6)}\\)$`));

      expectOk(
        await client.call('PUT', `/sandbox/tenants/${fresh.customerTenantId}`, {
          body: { displayName: 'Contoso Ltd' },
        }),
        200,
      );
      const renamed = expectOk(
        await client.createRelationship(fresh.partner, { customer: { tenantId: fresh.customerTenantId } }),
        201,
      );
      expect(renamed.body.customer).toEqual({ tenantId: fresh.customerTenantId, displayName: 'Contoso Ltd' });
    });

    it("records the approving tenant's name when the relationship named no customer", async () => {
      const fresh = await client.tenants();
      const created = expectOk(await client.createRelationship(fresh.partner), 201);
      const id = String(created.body.id);
      expectOk(await client.request(fresh.partner, id, 'lockForApproval'), 201);
      expectOk(await client.request(fresh.customer, id, 'approve'), 201);
      const read = expectOk(await client.call('GET', `${relationshipsUrl}/${id}`, { token: fresh.partner }), 200);
      expect((read.body.customer as { displayName: string }).displayName).not.toBe('');
    });
  });
});
