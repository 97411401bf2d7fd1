import { expectGraphError, expectOk, roles, useTestHost } from './support';

/** SPEC §14: every /v1.0 route is served under /beta by the same handlers, answering in the version called. */
describe('/beta', () => {
  const { client, host } = useTestHost();
  let partner: string;
  let customer: string;
  let customerTenantId: string;

  beforeAll(async () => {
    ({ partner, customer, customerTenantId } = await client.tenants());
  });

  const beta = '/beta/tenantRelationships/delegatedAdminRelationships';

  it('creates, pages, locks and reads under /beta, with /beta URLs in every annotation and header', async () => {
    const created = expectOk(
      await client.call('POST', beta, {
        token: partner,
        body: {
          displayName: `Beta ${Date.now()}`,
          duration: 'P730D',
          customer: { tenantId: customerTenantId },
          accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
        },
      }),
      201,
    );
    const id = String(created.body.id);
    expect(created.headers.get('location')).toBe(`${host.url}${beta}/${id}`);
    expect(created.body['@odata.context']).toBe(
      `${host.url}/beta/$metadata#tenantRelationships/delegatedAdminRelationships/$entity`,
    );

    // The same entity through /v1.0: one store, two versions.
    const viaV1 = expectOk(
      await client.call('GET', `/v1.0/tenantRelationships/delegatedAdminRelationships/${id}`, { token: partner }),
      200,
    );
    expect(viaV1.body['@odata.context']).toBe(
      `${host.url}/v1.0/$metadata#tenantRelationships/delegatedAdminRelationships/$entity`,
    );
    expect(viaV1.body['@odata.etag']).toBe(created.body['@odata.etag']);

    await client.createRelationship(partner);
    const page = expectOk(await client.call('GET', `${beta}?$top=1`, { token: partner }), 200);
    expect(String(page.body['@odata.nextLink'])).toMatch(
      new RegExp(`^${host.url}/beta/tenantRelationships/delegatedAdminRelationships\\?`),
    );
    const next = expectOk(await client.call('GET', String(page.body['@odata.nextLink']), { token: partner }), 200);
    expect((next.body.value as unknown[]).length).toBe(1);

    const locked = expectOk(
      await client.call('POST', `${beta}/${id}/requests`, { token: partner, body: { action: 'lockForApproval' } }),
      201,
    );
    expect(locked.headers.get('location')).toMatch(new RegExp(`^${host.url}${beta}/${id}/requests/`));
    expectOk(
      await client.call('POST', `${beta}/${id}/requests`, { token: customer, body: { action: 'approve' } }),
      201,
    );
    const read = expectOk(await client.call('GET', `${beta}/${id}`, { token: partner }), 200);
    expect(read.body.status).toBe('active');
  });

  it('answers 404 in the Graph envelope for a /beta path that does not exist', async () => {
    const result = await client.call('GET', '/beta/tenantRelationships/nothingHere', { token: partner });
    expectGraphError(result, 404, 'ResourceNotFound');
  });
});
