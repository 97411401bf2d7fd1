import { randomUUID } from 'node:crypto';
import { CallOptions, CallResult, expectGraphError, relationshipsUrl, roles, useTestHost } from './support';

/**
 * Bad input over HTTP, as a client would send it: every refusal has the right status and a Graph
 * error envelope, and leaves storage exactly as it was (no relationship, no name reservation, no
 * request row, the same ETag).
 */

type Json = Record<string, unknown>;
interface GraphErrorBody {
  error: { code: string; message: string; innerError: Record<string, string> };
}

/** A Graph error envelope with the given status and code whose message mentions every `mentions`. */
function expectError(result: CallResult, status: number, code: string, mentions: readonly string[] = []): void {
  expectGraphError(result, status, code);
  const { error } = result.body as unknown as GraphErrorBody;
  expect(error.innerError.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  for (const mention of mentions) expect(error.message).toContain(mention);
  // Never an internal detail.
  expect(error.message).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

function validBody(overrides: Json = {}): Json {
  return {
    displayName: `Bad input ${randomUUID().slice(0, 8)}`,
    duration: 'P730D',
    accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    ...overrides,
  };
}

const customRoleId = randomUUID();
const oversizeText = 'a'.repeat(64 * 1024 + 1);

describe('bad input is refused with a Graph error and changes nothing', () => {
  const { client, host } = useTestHost();
  let partner: string;
  let customer: string;
  let customerTenantId: string;
  let otherPartner: string;

  beforeAll(async () => {
    ({ partner, customer, customerTenantId } = await client.tenants());
    otherPartner = await client.token({ tid: randomUUID(), roles: ['AdminAgent'] });
  });

  /** Every relationship the partner sees, following @odata.nextLink. */
  async function listAll(token: string, query = ''): Promise<Json[]> {
    const items: Json[] = [];
    let url: string | undefined = `${relationshipsUrl}?$top=300${query}`;
    while (url) {
      const page: CallResult<{ value: Json[]; '@odata.nextLink'?: string }> = await client.call('GET', url, { token });
      expect(page.status).toBe(200);
      items.push(...page.body.value);
      url = page.body['@odata.nextLink'];
    }
    return items;
  }

  const idsOf = (items: readonly Json[]): string[] => items.map((item) => String(item.id)).sort();

  interface Snapshot {
    etag: string | null;
    body: Json;
  }

  async function snapshot(id: string, token = partner): Promise<Snapshot> {
    const read = await client.call('GET', `${relationshipsUrl}/${id}`, { token });
    expect(read.status).toBe(200);
    return { etag: read.headers.get('etag'), body: read.body };
  }

  async function expectUnchanged(id: string, before: Snapshot): Promise<void> {
    const after = await snapshot(id);
    expect(after.etag).toBe(before.etag);
    expect(after.body).toEqual(before.body);
  }

  async function createOk(overrides: Json = {}, token = partner): Promise<Json> {
    const created = await client.call('POST', relationshipsUrl, { token, body: validBody(overrides) });
    expect(created.status).toBe(201);
    return created.body;
  }

  /** Fetch with a body fetch would otherwise label (Uint8Array: no Content-Type) or a stream (no Content-Length). */
  async function rawFetch(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: Uint8Array | ReadableStream<Uint8Array>,
  ): Promise<CallResult> {
    const init = { method, headers, body, duplex: 'half' } as RequestInit;
    const response = await fetch(`${host.url}${url}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Json) : {} };
  }

  function chunkedBody(text: string): ReadableStream<Uint8Array> {
    const bytes = new TextEncoder().encode(text);
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + 8192));
        offset += 8192;
      },
    });
  }

  describe('POST delegatedAdminRelationships', () => {
    /** Posts, expects the error, and checks the partner's collection did not change. */
    async function expectRejectedCreate(
      options: CallOptions,
      status: number,
      code: string,
      mentions: readonly string[] = [],
    ): Promise<void> {
      const before = idsOf(await listAll(partner));
      const result = await client.call('POST', relationshipsUrl, { token: partner, ...options });
      expectError(result, status, code, mentions);
      expect(result.headers.get('location')).toBeNull();
      expect(idsOf(await listAll(partner))).toEqual(before);
    }

    it.each([
      ['truncated JSON', '{"displayName": "x",'],
      ['single quotes', "{'displayName': 'x'}"],
      ['trailing comma', '{"displayName": "x", "duration": "P1D",}'],
      ['bare word', 'banana'],
      ['empty body', ''],
      ['whitespace body', '   '],
    ])('malformed JSON (%s) → 400', async (_name, rawBody) => {
      await expectRejectedCreate({ rawBody, headers: { 'content-type': 'application/json' } }, 400, 'badRequest');
    });

    it.each([['[]'], ['null'], ['"a string"'], ['42'], ['true']])(
      'a JSON body that is not an object (%s) → 400',
      async (rawBody) => {
        await expectRejectedCreate({ rawBody, headers: { 'content-type': 'application/json' } }, 400, 'badRequest');
      },
    );

    it.each([['text/plain'], ['application/xml'], ['application/x-www-form-urlencoded'], ['application/jsonx']])(
      'content type %s → 415',
      async (contentType) => {
        await expectRejectedCreate(
          { rawBody: JSON.stringify(validBody()), headers: { 'content-type': contentType } },
          415,
          'unsupportedMediaType',
        );
      },
    );

    it('a body without any Content-Type → 415', async () => {
      const before = idsOf(await listAll(partner));
      const result = await rawFetch(
        'POST',
        relationshipsUrl,
        { authorization: `Bearer ${partner}` },
        new TextEncoder().encode(JSON.stringify(validBody())),
      );
      expectError(result, 415, 'unsupportedMediaType', ['application/json']);
      expect(idsOf(await listAll(partner))).toEqual(before);
    });

    it('accepts the JSON media type with parameters and in any case (positive control)', async () => {
      for (const contentType of ['application/json; charset=utf-8', 'Application/JSON']) {
        const result = await client.call('POST', relationshipsUrl, {
          token: partner,
          rawBody: JSON.stringify(validBody()),
          headers: { 'content-type': contentType },
        });
        expect(result.status).toBe(201);
      }
    });

    it('a body over 64 KiB → 413', async () => {
      await expectRejectedCreate({ body: validBody({ displayName: oversizeText }) }, 413, 'payloadTooLarge', [
        '64 KiB',
      ]);
      // Checked before the media type: a large non-JSON body is still "too large".
      await expectRejectedCreate(
        { rawBody: oversizeText, headers: { 'content-type': 'text/plain' } },
        413,
        'payloadTooLarge',
      );
      // Multi-byte characters count in bytes: 33,000 × 'é' is 66,000 bytes.
      await expectRejectedCreate({ body: validBody({ displayName: 'é'.repeat(33_000) }) }, 413, 'payloadTooLarge');
    });

    it('a body over 64 KiB sent chunked (no Content-Length) → 413', async () => {
      const before = idsOf(await listAll(partner));
      const result = await rawFetch(
        'POST',
        relationshipsUrl,
        { authorization: `Bearer ${partner}`, 'content-type': 'application/json' },
        chunkedBody(JSON.stringify(validBody({ displayName: oversizeText }))),
      );
      expectError(result, 413, 'payloadTooLarge');
      expect(idsOf(await listAll(partner))).toEqual(before);
    });

    it.each([
      ['top-level', { partner: { tenantId: randomUUID() } }, 'partner'],
      ['top-level, misspelt', { displayname: 'x' }, 'displayname'],
      ['in customer', { customer: { tenantId: randomUUID(), country: 'FR' } }, 'country'],
      [
        'in accessDetails',
        { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }], x: 1 } },
        'x',
      ],
      [
        'in a role',
        { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator, scope: '/' }] } },
        'scope',
      ],
    ])('unknown property (%s) → 400 naming it', async (_where, overrides, name) => {
      await expectRejectedCreate({ body: validBody(overrides) }, 400, 'badRequest', [`${name}'`]);
    });

    it.each([
      ['status', 'active'],
      ['id', `${randomUUID()}-${randomUUID()}`],
      ['createdDateTime', '2020-01-01T00:00:00Z'],
      ['lastModifiedDateTime', '2020-01-01T00:00:00Z'],
      ['activatedDateTime', '2020-01-01T00:00:00Z'],
      ['endDateTime', '2099-01-01T00:00:00Z'],
    ])('read-only property %s → 400 naming it', async (name, value) => {
      await expectRejectedCreate({ body: validBody({ [name]: value }) }, 400, 'badRequest', [`'${name}'`, 'read-only']);
    });

    it.each([['contoso'], [''], ['00000000-0000-0000-0000-00000000000g'], [`{${randomUUID()}}`], [`${randomUUID()} `]])(
      'customer.tenantId %j is not a GUID → 400',
      async (tenantId) => {
        await expectRejectedCreate({ body: validBody({ customer: { tenantId } }) }, 400, 'badRequest', [
          'customer.tenantId',
        ]);
      },
    );

    it.each([['not-a-guid'], [''], ['62e90394-69f5-4237-9190-012177145e1']])(
      'roleDefinitionId %j is not a GUID → 400',
      async (roleDefinitionId) => {
        await expectRejectedCreate(
          { body: validBody({ accessDetails: { unifiedRoles: [{ roleDefinitionId }] } }) },
          400,
          'badRequest',
          ['roleDefinitionId'],
        );
      },
    );

    it.each([
      ['P0D'],
      ['P731D'],
      ['P3Y'],
      ['P25M'],
      ['PT1H'],
      ['PT0S'],
      ['banana'],
      [''],
      ['P'],
      ['P1DT'],
      ['-P1D'],
      ['P1.5D'],
    ])('duration %j → 400', async (duration) => {
      await expectRejectedCreate({ body: validBody({ duration }) }, 400, 'badRequest', ["'duration'"]);
    });

    it('duration of the wrong type → 400', async () => {
      await expectRejectedCreate({ body: validBody({ duration: 730 }) }, 400, 'badRequest', ['duration']);
      await expectRejectedCreate({ body: validBody({ duration: null }) }, 400, 'badRequest', ['duration']);
    });

    it.each([
      ['P2Y', 'P730D'],
      ['P1W', 'P7D'],
      ['P1Y', 'P365D'],
      ['P1M', 'P30D'],
      ['P1D', 'P1D'],
      ['P730D', 'P730D'],
      ['p90d', 'P90D'],
    ])('duration %s is accepted and stored as %s', async (duration, normalised) => {
      const created = await createOk({ duration });
      expect(created.duration).toBe(normalised);
      expect((await snapshot(String(created.id))).body.duration).toBe(normalised);
    });

    it.each([['P90D'], ['P181D'], ['P179D'], ['P1Y'], ['PT1H'], ['banana'], [''], ['P730D']])(
      'autoExtendDuration %j → 400',
      async (autoExtendDuration) => {
        await expectRejectedCreate({ body: validBody({ autoExtendDuration }) }, 400, 'badRequest', [
          'autoExtendDuration',
        ]);
      },
    );

    it.each([
      [undefined, 'PT0S'],
      ['PT0S', 'PT0S'],
      ['P0D', 'PT0S'],
      ['P180D', 'P180D'],
    ])('autoExtendDuration %j is stored as %s', async (autoExtendDuration, stored) => {
      const created = await createOk(autoExtendDuration === undefined ? {} : { autoExtendDuration });
      expect(created.autoExtendDuration).toBe(stored);
      expect((await snapshot(String(created.id))).body.autoExtendDuration).toBe(stored);
    });

    it('Global Administrator with P180D → 400 saying why', async () => {
      for (const unifiedRoles of [
        [{ roleDefinitionId: roles.globalAdministrator }],
        [
          { roleDefinitionId: roles.exchangeAdministrator },
          { roleDefinitionId: roles.globalAdministrator.toUpperCase() },
        ],
      ]) {
        await expectRejectedCreate(
          { body: validBody({ autoExtendDuration: 'P180D', accessDetails: { unifiedRoles } }) },
          400,
          'badRequest',
          ['Global Administrator', 'auto-extended'],
        );
      }
      // The same roles without auto-extension are fine.
      const created = await createOk({
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }] },
      });
      expect(created.autoExtendDuration).toBe('PT0S');
    });

    it('an unknown (custom) role id → 400 naming it', async () => {
      await expectRejectedCreate(
        {
          body: validBody({
            accessDetails: {
              unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }, { roleDefinitionId: customRoleId }],
            },
          }),
        },
        400,
        'badRequest',
        [customRoleId],
      );
    });

    it('a duplicate role → 400, also when only its case differs', async () => {
      for (const second of [roles.exchangeAdministrator, roles.exchangeAdministrator.toUpperCase()]) {
        await expectRejectedCreate(
          {
            body: validBody({
              accessDetails: {
                unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }, { roleDefinitionId: second }],
              },
            }),
          },
          400,
          'badRequest',
          ['unifiedRoles'],
        );
      }
    });

    it('no roles, or missing accessDetails → 400', async () => {
      await expectRejectedCreate({ body: validBody({ accessDetails: { unifiedRoles: [] } }) }, 400, 'badRequest', [
        'unifiedRoles',
      ]);
      await expectRejectedCreate({ body: validBody({ accessDetails: undefined }) }, 400, 'badRequest', [
        'accessDetails',
      ]);
    });

    it.each([['displayName'], ['duration'], ['accessDetails']])('missing required %s → 400 naming it', async (name) => {
      const body = validBody();
      delete body[name];
      await expectRejectedCreate({ body }, 400, 'badRequest', [`'${name}'`]);
    });

    it.each([
      ['empty', ''],
      ['blank', '   '],
      ['51 characters', 'n'.repeat(51)],
    ])('displayName %s → 400', async (_name, displayName) => {
      await expectRejectedCreate({ body: validBody({ displayName }) }, 400, 'badRequest', ['displayName']);
    });

    it('displayName of 50 characters is accepted unchanged', async () => {
      const displayName = `${randomUUID()}${'z'.repeat(14)}`;
      expect(displayName).toHaveLength(50);
      const created = await createOk({ displayName });
      expect(created.displayName).toBe(displayName);
      expect((await snapshot(String(created.id))).body.displayName).toBe(displayName);
    });

    it('a rejected create does not reserve its display name', async () => {
      const displayName = `Reserved? ${randomUUID().slice(0, 8)}`;
      await expectRejectedCreate({ body: validBody({ displayName, duration: 'P731D' }) }, 400, 'badRequest');
      await expectRejectedCreate(
        { body: validBody({ displayName, accessDetails: { unifiedRoles: [{ roleDefinitionId: customRoleId }] } }) },
        400,
        'badRequest',
      );
      const created = await createOk({ displayName });
      expect(created.displayName).toBe(displayName);
    });

    it('OData annotations in the body are metadata, not unknown properties (positive control)', async () => {
      const created = await createOk({ '@odata.type': '#microsoft.graph.delegatedAdminRelationship' });
      expect(created.status).toBe('created');
    });
  });

  describe('PATCH and DELETE', () => {
    let id: string;
    let url: string;
    let before: Snapshot;

    beforeEach(async () => {
      const created = await createOk({ customer: { tenantId: customerTenantId }, duration: 'P90D' });
      id = String(created.id);
      url = `${relationshipsUrl}/${id}`;
      before = await snapshot(id);
      expect(before.etag).toMatch(/^W\/"/);
      expect(before.body['@odata.etag']).toBe(before.etag);
    });

    it('PATCH without If-Match → 400, entity unchanged', async () => {
      const result = await client.call('PATCH', url, { token: partner, body: { displayName: 'No If-Match' } });
      expectError(result, 400, 'badRequest', ['If-Match']);
      await expectUnchanged(id, before);
    });

    it('PATCH with an empty If-Match → 400, entity unchanged', async () => {
      const result = await client.call('PATCH', url, {
        token: partner,
        body: { displayName: 'Empty If-Match' },
        headers: { 'if-match': '' },
      });
      expectError(result, 400, 'badRequest', ['If-Match']);
      await expectUnchanged(id, before);
    });

    it('DELETE without If-Match → 400, entity still there', async () => {
      const result = await client.call('DELETE', url, { token: partner });
      expectError(result, 400, 'badRequest', ['If-Match']);
      await expectUnchanged(id, before);
    });

    it('PATCH with a stale ETag → 412, entity unchanged', async () => {
      const first = await client.call('PATCH', url, {
        token: partner,
        body: { displayName: `First ${randomUUID().slice(0, 8)}` },
        headers: { 'if-match': String(before.etag) },
      });
      expect(first.status).toBe(200);
      expect(first.headers.get('etag')).not.toBe(before.etag);
      const current = await snapshot(id);

      for (const body of [{ displayName: `Lost ${randomUUID().slice(0, 8)}` }, { duration: 'P30D' }, {}]) {
        const stale = await client.call('PATCH', url, {
          token: partner,
          body,
          headers: { 'if-match': String(before.etag) },
        });
        expectError(stale, 412, 'preconditionFailed');
        await expectUnchanged(id, current);
      }
      // The name a stale rename tried to take was not reserved either: another relationship can use it.
      const lostName = `Lost name ${randomUUID().slice(0, 8)}`;
      const stale = await client.call('PATCH', url, {
        token: partner,
        body: { displayName: lostName },
        headers: { 'if-match': String(before.etag) },
      });
      expectError(stale, 412, 'preconditionFailed');
      expect((await createOk({ displayName: lostName })).displayName).toBe(lostName);
    });

    it('DELETE with a stale ETag → 412, entity still there', async () => {
      const first = await client.call('PATCH', url, {
        token: partner,
        body: { autoExtendDuration: 'P180D' },
        headers: { 'if-match': String(before.etag) },
      });
      expect(first.status).toBe(200);
      const current = await snapshot(id);
      const result = await client.call('DELETE', url, { token: partner, headers: { 'if-match': String(before.etag) } });
      expectError(result, 412, 'preconditionFailed');
      await expectUnchanged(id, current);
    });

    const apiEtag = (storageEtag: string): string => `W/"${Buffer.from(storageEtag).toString('base64')}"`;

    it.each([
      ['W/"bm9wZQ=="'],
      ['"bm9wZQ=="'],
      ['W/"garbage!"'],
      ['not an etag'],
      ['W/""'],
      [apiEtag(`W/"datetime'2020-01-01T00%3A00%3A00.0000000Z'"`)],
      [apiEtag(`W/"datetime'garbage'"`)],
      [apiEtag(`W/"datetime'2020-01-01T00%3A00%3A00.0000000Z'" or 1`)],
      [apiEtag('*')],
    ])('an ETag the service never issued (%s) → 412 on PATCH and DELETE', async (etag) => {
      const patch = await client.call('PATCH', url, {
        token: partner,
        body: { displayName: 'Forged ETag' },
        headers: { 'if-match': etag },
      });
      expectError(patch, 412, 'preconditionFailed');
      const remove = await client.call('DELETE', url, { token: partner, headers: { 'if-match': etag } });
      expectError(remove, 412, 'preconditionFailed');
      await expectUnchanged(id, before);
    });

    it('PATCH with bad bodies → 400/413/415 and the entity unchanged', async () => {
      const ifMatch = { 'if-match': String(before.etag) };
      const cases: [string, CallOptions, number, string, string[]][] = [
        [
          'malformed JSON',
          { rawBody: '{"displayName":', headers: { 'content-type': 'application/json' } },
          400,
          'badRequest',
          [],
        ],
        ['not an object', { rawBody: '["x"]', headers: { 'content-type': 'application/json' } }, 400, 'badRequest', []],
        [
          'text/plain',
          { rawBody: '{"displayName":"x"}', headers: { 'content-type': 'text/plain' } },
          415,
          'unsupportedMediaType',
          [],
        ],
        ['oversize', { body: { displayName: oversizeText } }, 413, 'payloadTooLarge', []],
        ['unknown property', { body: { displayName: 'x', colour: 'red' } }, 400, 'badRequest', ["'colour'"]],
        ['read-only status', { body: { status: 'active' } }, 400, 'badRequest', ["'status'", 'read-only']],
        ['read-only id', { body: { id: `${randomUUID()}-${randomUUID()}` } }, 400, 'badRequest', ["'id'", 'read-only']],
        [
          'read-only endDateTime',
          { body: { endDateTime: '2099-01-01T00:00:00Z' } },
          400,
          'badRequest',
          ["'endDateTime'"],
        ],
        ['duration P731D', { body: { duration: 'P731D' } }, 400, 'badRequest', ["'duration'"]],
        ['duration PT1H', { body: { duration: 'PT1H' } }, 400, 'badRequest', ["'duration'"]],
        [
          'autoExtendDuration P90D',
          { body: { autoExtendDuration: 'P90D' } },
          400,
          'badRequest',
          ['autoExtendDuration'],
        ],
        ['displayName of 51', { body: { displayName: 'n'.repeat(51) } }, 400, 'badRequest', ['displayName']],
        ['displayName empty', { body: { displayName: '' } }, 400, 'badRequest', ['displayName']],
        [
          'customer.tenantId',
          { body: { customer: { tenantId: 'contoso' } } },
          400,
          'badRequest',
          ['customer.tenantId'],
        ],
        [
          'custom role',
          { body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: customRoleId }] } } },
          400,
          'badRequest',
          [customRoleId],
        ],
        [
          'duplicate role',
          {
            body: {
              accessDetails: {
                unifiedRoles: [
                  { roleDefinitionId: roles.intuneAdministrator },
                  { roleDefinitionId: roles.intuneAdministrator },
                ],
              },
            },
          },
          400,
          'badRequest',
          [],
        ],
        [
          'Global Administrator with P180D',
          {
            body: {
              autoExtendDuration: 'P180D',
              accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }] },
            },
          },
          400,
          'badRequest',
          ['Global Administrator'],
        ],
      ];
      for (const [name, options, status, code, mentions] of cases) {
        const result = await client.call('PATCH', url, {
          token: partner,
          ...options,
          headers: { ...options.headers, ...ifMatch },
        });
        try {
          expectError(result, status, code, mentions);
          await expectUnchanged(id, before);
        } catch (error) {
          throw new Error(`case '${name}': ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    });

    it('adding Global Administrator to a relationship that auto-extends → 400 saying why, unchanged', async () => {
      const patched = await client.call('PATCH', url, {
        token: partner,
        body: { autoExtendDuration: 'P180D' },
        headers: { 'if-match': String(before.etag) },
      });
      expect(patched.status).toBe(200);
      const current = await snapshot(id);
      const result = await client.call('PATCH', url, {
        token: partner,
        body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }] } },
        headers: { 'if-match': String(current.etag) },
      });
      expectError(result, 400, 'badRequest', ['Global Administrator']);
      await expectUnchanged(id, current);
    });

    it("another partner's PATCH or DELETE → 404, entity unchanged", async () => {
      const patch = await client.call('PATCH', url, {
        token: otherPartner,
        body: { displayName: 'Hijacked' },
        headers: { 'if-match': String(before.etag) },
      });
      expectError(patch, 404, 'ResourceNotFound');
      const remove = await client.call('DELETE', url, { token: otherPartner, headers: { 'if-match': '*' } });
      expectError(remove, 404, 'ResourceNotFound');
      await expectUnchanged(id, before);
    });

    it('PATCH of a locked relationship → 400 naming its status, unchanged', async () => {
      expect((await client.request(partner, id, 'lockForApproval')).status).toBe(201);
      const locked = await snapshot(id);
      const result = await client.call('PATCH', url, {
        token: partner,
        body: { displayName: 'Too late' },
        headers: { 'if-match': String(locked.etag) },
      });
      expectError(result, 400, 'badRequest', ['approvalPending']);
      const remove = await client.call('DELETE', url, { token: partner, headers: { 'if-match': String(locked.etag) } });
      expectError(remove, 400, 'badRequest', ['approvalPending']);
      await expectUnchanged(id, locked);
    });
  });

  describe('collection query options', () => {
    const injectedName = "x' or RowKey ne '";
    let ownIds: string[];
    let foreignIds: string[];

    beforeAll(async () => {
      // Names that look like query text, in this partner's tenant and in another partner's.
      const own = [
        await createOk({ displayName: injectedName }),
        await createOk({ displayName: "a' or '1'='1" }),
        await createOk({ displayName: `Plain ${randomUUID().slice(0, 8)}` }),
      ];
      const foreign = [
        await createOk({ displayName: injectedName }, otherPartner),
        await createOk({ displayName: "a' or '1'='1" }, otherPartner),
        await createOk({ displayName: `Foreign ${randomUUID().slice(0, 8)}` }, otherPartner),
      ];
      ownIds = own.map((r) => String(r.id));
      foreignIds = foreign.map((r) => String(r.id));
    });

    const query = (options: Record<string, string>): string =>
      `${relationshipsUrl}?${new URLSearchParams(options).toString()}`;

    it.each([
      ['$filter', "status eq 'active' or PartitionKey ne ''", ['PartitionKey']],
      ['$filter', "PartitionKey ne ''", ['PartitionKey']],
      ['$filter', "RowKey ge 'rel|'", ['RowKey']],
      ['$filter', "status eq 'x') or (1 eq 1", []],
      ['$filter', "status eq 'x'') or (1 eq 1", []],
      ['$filter', "displayName eq 'a' or '1'='1'", []],
      ['$filter', "status eq 'active'' or PartitionKey ne '''", ['status']],
      ['$filter', "customer/tenantId eq '00000000-0000-0000-0000-000000000000'' or PartitionKey ne '''", ['GUID']],
      ['$filter', "colour eq 'red'", ['colour']],
      ['$filter', "status eq 'sleeping'", ['sleeping']],
      ['$filter', "startswith(displayName,'a')", []],
      ['$filter', "status eq 'active'; DROP TABLE Relationships", []],
      ['$filter', "status eq 'active' or", []],
      ['$filter', "STATUS eq 'active'", ['STATUS']],
      ['$filter', '', []],
      ['$filter', `${'('.repeat(40)}status eq 'active'${')'.repeat(40)}`, ['nested']],
      ['$filter', `displayName eq '${'a'.repeat(2001)}'`, ['2000']],
      ['$top', '301', ['300']],
      ['$top', '0', []],
      ['$top', '-1', []],
      ['$top', 'abc', []],
      ['$top', '1.5', []],
      ['$expand', 'x', ['$expand']],
      ['$search', 'x', ['$search']],
      ['$skip', '1', ['$skip']],
      ['$orderby', 'PartitionKey', ['PartitionKey']],
      ['$orderby', 'displayName sideways', []],
      ['$select', 'RowKey', ['RowKey']],
      ['$count', 'yes', []],
      ['$skipToken', 'not a token', ['$skipToken']],
      ['$skipToken', '!!!!', ['$skipToken']],
      ['$skipToken', Buffer.from('{"offset":-1}').toString('base64url'), ['$skipToken']],
      ['$skipToken', Buffer.from('[1,2]').toString('base64url'), ['$skipToken']],
    ])('%s=%s → 400', async (option, value, mentions) => {
      const result = await client.call('GET', query({ [option]: value }), { token: partner });
      expectError(result, 400, 'badRequest', mentions);
    });

    it('the same option twice → 400', async () => {
      const result = await client.call('GET', `${relationshipsUrl}?$top=1&$top=2`, { token: partner });
      expectError(result, 400, 'badRequest', ['$top']);
    });

    it('an injection string inside a valid literal matches that literal only, never foreign rows', async () => {
      const literal = injectedName.replace(/'/g, "''");
      const eq = await listAll(partner, `&$filter=${encodeURIComponent(`displayName eq '${literal}'`)}`);
      expect(idsOf(eq)).toEqual([ownIds[0]]);
      expect(eq[0].displayName).toBe(injectedName);

      const ne = idsOf(await listAll(partner, `&$filter=${encodeURIComponent(`displayName ne '${literal}'`)}`));
      expect(ne).toEqual(expect.arrayContaining([ownIds[1], ownIds[2]]));
      expect(ne).not.toContain(ownIds[0]);

      // `'a'' or ''1''=''1'` is one literal, the text a' or '1'='1: only the relationship so named matches.
      const classic = await listAll(partner, `&$filter=${encodeURIComponent("displayName eq 'a'' or ''1''=''1'")}`);
      expect(idsOf(classic)).toEqual([ownIds[1]]);
      const almost = await listAll(partner, `&$filter=${encodeURIComponent("displayName eq 'a'' or ''1''=''1'''")}`);
      expect(almost).toEqual([]);

      for (const filter of [
        `displayName eq '${literal}'`,
        `displayName ne '${literal}'`,
        `displayName eq '${literal}' or status eq 'created'`,
        `customer/displayName eq '${literal}' or status ne 'active'`,
        "status eq 'created' or status ne 'created'",
        'createdDateTime ge 2000-01-01T00:00:00Z or endDateTime eq null',
        "autoExtendDuration eq 'PT0S' or autoExtendDuration ne 'PT0S'",
      ]) {
        const ids = idsOf(await listAll(partner, `&$filter=${encodeURIComponent(filter)}`));
        for (const foreign of foreignIds) expect(ids).not.toContain(foreign);
      }
      // And the other partner still sees its own, untouched.
      expect(idsOf(await listAll(otherPartner))).toEqual(expect.arrayContaining(foreignIds));
    });

    it('a hand-made $skipToken cannot reach outside the partition', async () => {
      for (const after of ["rel|' or PartitionKey ne '", '', '\u0000', 'rel|']) {
        const token = Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
        const result = await client.call<{ value: Json[] }>('GET', query({ $skipToken: token, $top: '300' }), {
          token: partner,
        });
        expect(result.status).toBe(200);
        for (const foreign of foreignIds) expect(idsOf(result.body.value)).not.toContain(foreign);
      }
    });
  });

  describe('requests', () => {
    let id: string;

    beforeEach(async () => {
      id = String((await createOk({ customer: { tenantId: customerTenantId } })).id);
    });

    async function requestActions(): Promise<string[]> {
      const list = await client.call<{ value: Json[] }>('GET', `${relationshipsUrl}/${id}/requests`, {
        token: partner,
      });
      expect(list.status).toBe(200);
      return list.body.value.map((r) => String(r.action)).sort();
    }

    it.each([
      ['unknown action', { action: 'activate' }, ['activate']],
      ['wrong case', { action: 'LockForApproval' }, ['LockForApproval']],
      ['missing action', {}, ["'action'"]],
      ['extra property', { action: 'lockForApproval', reason: 'x' }, ["'reason'"]],
      ['read-only status', { action: 'lockForApproval', status: 'succeeded' }, ["'status'"]],
      ['action of the wrong type', { action: 1 }, ['action']],
    ])('POST /requests with %s → 400, nothing recorded', async (_name, body, mentions) => {
      const before = await snapshot(id);
      const result = await client.call('POST', `${relationshipsUrl}/${id}/requests`, { token: partner, body });
      expectError(result, 400, 'badRequest', mentions);
      expect(await requestActions()).toEqual([]);
      await expectUnchanged(id, before);
    });

    it('POST /requests with a bad body → 400/415, nothing recorded', async () => {
      const before = await snapshot(id);
      const url = `${relationshipsUrl}/${id}/requests`;
      expectError(
        await client.call('POST', url, {
          token: partner,
          rawBody: '{"action":',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'badRequest',
      );
      expectError(
        await client.call('POST', url, {
          token: partner,
          rawBody: '{"action":"lockForApproval"}',
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'unsupportedMediaType',
      );
      expect(await requestActions()).toEqual([]);
      await expectUnchanged(id, before);
    });

    it('partner terminate from approvalPending → 400 naming the current status, nothing changes', async () => {
      expect((await client.request(partner, id, 'lockForApproval')).status).toBe(201);
      const locked = await snapshot(id);
      expect(locked.body.status).toBe('approvalPending');

      const result = await client.request(partner, id, 'terminate');
      expectError(result, 400, 'badRequest', ['approvalPending']);
      await expectUnchanged(id, locked);
      expect(await requestActions()).toEqual(['lockForApproval']);

      // Locking again is refused the same way.
      expectError(await client.request(partner, id, 'lockForApproval'), 400, 'badRequest', ['approvalPending']);
      await expectUnchanged(id, locked);
      expect(await requestActions()).toEqual(['lockForApproval']);
    });

    it('the customer cannot approve a draft it cannot see → 404, nothing changes', async () => {
      const before = await snapshot(id);
      expectError(await client.request(customer, id, 'approve'), 404, 'ResourceNotFound');
      await expectUnchanged(id, before);
      expect(await requestActions()).toEqual([]);
    });
  });

  describe('routes', () => {
    it.each([
      ['GET', '/v1.0/nothingHere'],
      ['GET', '/v1.0/tenantRelationships/delegatedAdminRelationshipz'],
      ['GET', `${relationshipsUrl}/x/y/z/w`],
      ['POST', '/v1.0/tenantRelationships/unknown'],
      // (GET / opens the portal in sandbox mode: test/e2e/portal.test.ts.)
    ])('%s %s → 404', async (method, url) => {
      const result = await client.call(method, url, { token: partner, body: method === 'POST' ? {} : undefined });
      expectError(result, 404, 'ResourceNotFound');
    });

    it.each([['not-an-id'], [`${randomUUID()}-${randomUUID()}`], [randomUUID()], ["x' or RowKey ne '"]])(
      'a relationship id that does not exist (%s) → 404',
      async (id) => {
        const result = await client.call('GET', `${relationshipsUrl}/${encodeURIComponent(id)}`, { token: partner });
        expectError(result, 404, 'ResourceNotFound');
        const requests = await client.request(partner, encodeURIComponent(id), 'lockForApproval');
        expectError(requests, 404, 'ResourceNotFound');
      },
    );
  });
});
