import { expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** SPEC §14 JSON batching, through the same routes and handlers as plain requests. */
describe('$batch', () => {
  const { client, host } = useTestHost();
  let partner: string;
  let customer: string;
  let customerTenantId: string;

  beforeAll(async () => {
    ({ partner, customer, customerTenantId } = await client.tenants());
  });

  const relationshipBody = (displayName: string): Record<string, unknown> => ({
    displayName,
    duration: 'P730D',
    customer: { tenantId: customerTenantId },
    accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
  });

  async function batch(
    version: 'v1.0' | 'beta',
    requests: unknown[],
    token = partner,
  ): Promise<Map<string, BatchResponse>> {
    const result = expectOk(
      await client.call<{ responses: BatchResponse[] }>('POST', `/${version}/$batch`, { token, body: { requests } }),
      200,
    );
    expect(result.body.responses).toHaveLength(requests.length);
    return new Map(result.body.responses.map((response) => [response.id, response]));
  }

  it('runs items through the ordinary routes, with or without a leading slash, in the batch version', async () => {
    const name = `Batch ${Date.now()}`;
    const responses = await batch('beta', [
      {
        id: '1',
        method: 'POST',
        url: '/tenantRelationships/delegatedAdminRelationships',
        headers: { 'Content-Type': 'application/json' },
        body: relationshipBody(name),
      },
      {
        id: '2',
        method: 'GET',
        url: `tenantRelationships/delegatedAdminRelationships?$filter=displayName eq '${name}'`,
        dependsOn: ['1'],
      },
    ]);
    const created = responses.get('1') as BatchResponse;
    expect(created.status).toBe(201);
    expect(created.headers.Location).toBe(
      `${host.url}/beta/tenantRelationships/delegatedAdminRelationships/${created.body?.id}`,
    );
    expect(created.headers.ETag).toBe(created.body?.['@odata.etag']);
    const listed = responses.get('2') as BatchResponse;
    expect(listed.status).toBe(200);
    expect(listed.body?.['@odata.context']).toBe(
      `${host.url}/beta/$metadata#tenantRelationships/delegatedAdminRelationships`,
    );
    expect((listed.body?.value as { id: string }[]).map((item) => item.id)).toEqual([created.body?.id]);

    // Stored once, readable through the plain API.
    expectOk(await client.call('GET', `${relationshipsUrl}/${created.body?.id}`, { token: partner }), 200);
  });

  it('applies per-item If-Match (stale → 412) with header names in any case', async () => {
    const created = expectOk(await client.createRelationship(partner), 201);
    const id = String(created.body.id);
    const etag = String(created.body['@odata.etag']);
    const responses = await batch('v1.0', [
      {
        id: 'rename',
        method: 'PATCH',
        url: `/tenantRelationships/delegatedAdminRelationships/${id}`,
        headers: { 'IF-MATCH': etag, 'content-TYPE': 'application/json' },
        body: { displayName: `Renamed ${Date.now()}` },
      },
      {
        id: 'again',
        method: 'PATCH',
        url: `/tenantRelationships/delegatedAdminRelationships/${id}`,
        headers: { 'If-Match': etag, 'Content-Type': 'application/json' },
        body: { displayName: `Renamed twice ${Date.now()}` },
        dependsOn: ['RENAME'],
      },
    ]);
    expect(responses.get('rename')?.status).toBe(200);
    expect(responses.get('again')?.status).toBe(412);
    expect(responses.get('again')?.body?.error?.code).toBe('preconditionFailed');
  });

  it('answers 424 without running an item whose dependency failed, and other items are unaffected', async () => {
    const name = `Never ${Date.now()}`;
    const responses = await batch('v1.0', [
      { id: 'a', method: 'GET', url: '/tenantRelationships/delegatedAdminRelationships/does-not-exist' },
      {
        id: 'b',
        method: 'POST',
        url: '/tenantRelationships/delegatedAdminRelationships',
        headers: { 'content-type': 'application/json' },
        body: relationshipBody(name),
        dependsOn: ['a'],
      },
      { id: 'c', method: 'GET', url: '/tenantRelationships/delegatedAdminRelationships?$top=1' },
    ]);
    expect(responses.get('a')?.status).toBe(404);
    expect(responses.get('b')?.status).toBe(424);
    expect(responses.get('b')?.body?.error?.code).toBe('failedDependency');
    expect(responses.get('c')?.status).toBe(200);
    const list = await client.call<{ value: unknown[] }>(
      'GET',
      `${relationshipsUrl}?$filter=displayName eq '${name}'`,
      { token: partner },
    );
    expect(list.body.value).toHaveLength(0);
  });

  it('uses the batch token for every item, whatever an item says', async () => {
    const created = expectOk(await client.createRelationship(partner), 201);
    const responses = await batch('v1.0', [
      {
        id: '1',
        method: 'GET',
        url: `/tenantRelationships/delegatedAdminRelationships/${created.body.id}`,
        headers: { authorization: `Bearer ${customer}` },
      },
    ]);
    expect(responses.get('1')?.status).toBe(200);
    // The customer's batch cannot see the partner's draft, even naming the partner's token.
    const asCustomer = await batch(
      'v1.0',
      [
        {
          id: '1',
          method: 'GET',
          url: `/tenantRelationships/delegatedAdminRelationships/${created.body.id}`,
          headers: { Authorization: `Bearer ${partner}` },
        },
      ],
      customer,
    );
    expect(asCustomer.get('1')?.status).toBe(404);
  });

  it('refuses items that leave the version root, nest a batch or send a body without a JSON content type', async () => {
    const urls = [
      'https://evil.example/v1.0/tenantRelationships/delegatedAdminRelationships',
      '//evil.example/tenantRelationships',
      '/v1.0/tenantRelationships/delegatedAdminRelationships',
      'beta/tenantRelationships/delegatedAdminRelationships',
      '../v1/dapRelationships',
      'tenantRelationships/%2e%2e/%2e%2e/v1/dapRelationships',
      '$batch',
    ];
    const responses = await batch('v1.0', [
      ...urls.map((url, index) => ({ id: `u${index}`, method: 'GET', url })),
      {
        id: 'body',
        method: 'POST',
        url: '/tenantRelationships/delegatedAdminRelationships',
        body: relationshipBody(`No type ${Date.now()}`),
      },
      { id: 'method', method: 'TRACE', url: '/tenantRelationships/delegatedAdminRelationships' },
    ]);
    for (const [id, response] of responses) {
      expect({ id, status: response.status, code: response.body?.error?.code }).toEqual({
        id,
        status: 400,
        code: 'badRequest',
      });
    }
  });

  it('refuses a malformed batch as a whole', async () => {
    const item = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      method: 'GET',
      url: '/tenantRelationships/delegatedAdminRelationships',
      ...extra,
    });
    const bodies: unknown[] = [
      { requests: Array.from({ length: 21 }, (_, index) => item(String(index))) },
      { requests: [item('a'), item('A')] },
      { requests: [item('a', { dependsOn: ['missing'] })] },
      { requests: [item('a', { dependsOn: ['b'] }), item('b', { dependsOn: ['a'] })] },
      { requests: [{ ...item('a'), id: 1 }] },
      { requests: [] },
      { value: [] },
      [],
    ];
    for (const body of bodies) {
      const result = await client.call('POST', '/v1.0/$batch', { token: partner, body });
      expectGraphError(result, 400, 'badRequest');
    }
    const unauthenticated = await client.call('POST', '/v1.0/$batch', { body: { requests: [item('a')] } });
    expectGraphError(unauthenticated, 401, 'InvalidAuthenticationToken');
  });

  it('runs twenty independent creates in one batch, each stored once', async () => {
    const stamp = Date.now();
    const responses = await batch(
      'v1.0',
      Array.from({ length: 20 }, (_, index) => ({
        id: String(index),
        method: 'POST',
        url: 'tenantRelationships/delegatedAdminRelationships',
        headers: { 'content-type': 'application/json' },
        body: relationshipBody(`Many ${stamp} ${index}`),
      })),
    );
    expect([...responses.values()].map((response) => response.status)).toEqual(Array(20).fill(201));
    const ids = new Set([...responses.values()].map((response) => response.body?.id));
    expect(ids.size).toBe(20);
  });
});
