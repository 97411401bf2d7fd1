import { randomUUID } from 'node:crypto';
import { CallResult, expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * GDAP relationship lifecycle and rules (SPEC §1–§3.1, §10, §11), over HTTP only, against the
 * in-process host on Azurite. Every test uses fresh tenant GUIDs, so lists are exact.
 */

type Entity = Record<string, unknown>;
interface Collection extends Record<string, unknown> {
  value: Entity[];
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
  '@odata.context'?: string;
}

const graphTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
const guid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const relationshipIdPattern = new RegExp(`^${guid}-${guid}$`);
const relationshipType = '#microsoft.graph.delegatedAdminRelationship';
const requestType = '#microsoft.graph.delegatedAdminRelationshipRequest';
const dayMs = 24 * 60 * 60 * 1000;

describe('delegatedAdminRelationships', () => {
  const { client, host } = useTestHost();

  // ----- small HTTP helpers -------------------------------------------------------------------

  const url = (id: string): string => `${relationshipsUrl}/${id}`;
  const get = (token: string, id: string): Promise<CallResult> => client.call('GET', url(id), { token });
  const patch = (token: string, id: string, etag: string | undefined, body: unknown): Promise<CallResult> =>
    client.call('PATCH', url(id), { token, body, headers: etag === undefined ? {} : { 'if-match': etag } });
  const remove = (token: string, id: string, etag: string | undefined): Promise<CallResult> =>
    client.call('DELETE', url(id), { token, headers: etag === undefined ? {} : { 'if-match': etag } });
  const list = (token: string, query = ''): Promise<CallResult<Collection>> =>
    client.call<Collection>('GET', `${relationshipsUrl}${query}`, { token });
  const requests = (token: string, id: string): Promise<CallResult<Collection>> =>
    client.call<Collection>('GET', `${url(id)}/requests`, { token });
  const q = (options: Record<string, string>): string => `?${new URLSearchParams(options).toString()}`;
  const names = (result: CallResult<Collection>): string[] =>
    result.body.value.map((item) => String(item.displayName)).sort();

  /** Follows @odata.nextLink to the end, returning every page. */
  async function allPages(token: string, query: string): Promise<Entity[][]> {
    const pages: Entity[][] = [];
    let next: string | undefined = `${relationshipsUrl}${query}`;
    while (next) {
      const page: CallResult<Collection> = expectOk(await client.call<Collection>('GET', next, { token }), 200);
      pages.push(page.body.value);
      next = page.body['@odata.nextLink'];
      if (pages.length > 50) throw new Error('nextLink never ends');
    }
    return pages;
  }

  async function create(token: string, overrides: Record<string, unknown> = {}): Promise<Entity> {
    return expectOk(await client.createRelationship(token, overrides), 201).body;
  }

  async function lock(token: string, id: string): Promise<CallResult> {
    return expectOk(await client.request(token, id, 'lockForApproval'), 201);
  }

  /** A relationship in approvalPending (named customer unless `customer: null` is passed). */
  async function pending(partner: string, customerTenantId: string, overrides: Record<string, unknown> = {}) {
    const created = await create(partner, { customer: { tenantId: customerTenantId }, ...overrides });
    await lock(partner, String(created.id));
    return String(created.id);
  }

  async function tokenFor(tid: string, claims: { roles?: string[]; wids?: string[] } = {}): Promise<string> {
    return client.token({ tid, ...claims });
  }

  async function setClock(now: string | null): Promise<void> {
    expectOk(await client.call('PUT', '/sandbox/clock', { body: { now } }), 200);
  }

  // ----- create and read ----------------------------------------------------------------------

  it('creates a relationship with Graph shape, Location and ETag headers, and reads it back', async () => {
    const { partner, partnerTenantId, customerTenantId } = await client.tenants();
    const created = await client.createRelationship(partner, {
      displayName: 'Contoso admin',
      duration: 'P2Y',
      customer: { tenantId: customerTenantId.toUpperCase(), displayName: 'Contoso' },
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: roles.exchangeAdministrator },
          { roleDefinitionId: roles.intuneAdministrator },
        ],
      },
    });
    expect(created.status).toBe(201);
    const body = created.body;
    const id = String(body.id);
    expect(id).toHaveLength(73);
    expect(id).toMatch(relationshipIdPattern);
    expect(created.headers.get('location')).toBe(`${host.url}${relationshipsUrl}/${id}`);
    expect(created.headers.get('etag')).toMatch(/^W\/".+"$/);
    expect(body['@odata.etag']).toBe(created.headers.get('etag'));
    expect(body['@odata.type']).toBe(relationshipType);
    expect(String(body['@odata.context'])).toBe(
      `${host.url}/v1.0/$metadata#tenantRelationships/delegatedAdminRelationships/$entity`,
    );
    expect(created.headers.get('request-id')).toMatch(new RegExp(`^${guid}$`));
    expect(body).toMatchObject({
      displayName: 'Contoso admin',
      duration: 'P730D',
      autoExtendDuration: 'PT0S',
      status: 'created',
      // customer.displayName is read-only: the name the service knows (the sandbox's default) wins.
      customer: { tenantId: customerTenantId, displayName: expect.stringMatching(/^\S.* \([0-9a-f]{6}\)$/) },
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: roles.exchangeAdministrator },
          { roleDefinitionId: roles.intuneAdministrator },
        ],
      },
      activatedDateTime: null,
      endDateTime: null,
    });
    expect(body.createdDateTime).toMatch(graphTimestamp);
    expect(body.lastModifiedDateTime).toBe(body.createdDateTime);
    expect(body).not.toHaveProperty('partnerTenantId');
    expect(id.endsWith(partnerTenantId)).toBe(true);

    // The Location URL is the entity, and a GET returns the same version.
    const read = expectOk(await client.call('GET', String(created.headers.get('location')), { token: partner }), 200);
    expect(read.body).toEqual(body);
    expect(read.headers.get('etag')).toBe(body['@odata.etag']);
    const selected = expectOk(await client.call('GET', `${url(id)}?$select=status`, { token: partner }), 200);
    expect(Object.keys(selected.body).filter((key) => !key.startsWith('@odata.'))).toEqual(['id', 'status']);

    // Duration forms are normalised to days; bad values are refused.
    expect((await create(partner, { duration: 'P1W' })).duration).toBe('P7D');
    expect((await create(partner, { duration: 'P1D', autoExtendDuration: 'P0D' })).autoExtendDuration).toBe('PT0S');
    expectGraphError(await client.createRelationship(partner, { duration: 'P731D' }), 400, 'badRequest');
    expectGraphError(await client.createRelationship(partner, { duration: 'P0D' }), 400, 'badRequest');
    expectGraphError(await client.createRelationship(partner, { status: 'active' }), 400, 'badRequest');
    expectGraphError(await client.createRelationship(partner, { displayName: 'x'.repeat(51) }), 400, 'badRequest');
    expectGraphError(
      await client.createRelationship(partner, {
        accessDetails: { unifiedRoles: [{ roleDefinitionId: randomUUID() }] },
      }),
      400,
      'badRequest',
    );
    expectGraphError(await get(partner, `${randomUUID()}-${partnerTenantId}`), 404, 'ResourceNotFound');
  });

  // ----- collections --------------------------------------------------------------------------

  it('lists with $filter, $orderby, $top paging, $count and $select', async () => {
    const partnerTenantId = randomUUID();
    const customerA = randomUUID();
    const customerB = randomUUID();
    const partner = await tokenFor(partnerTenantId, { roles: ['AdminAgent'] });
    const customerAdmin = await tokenFor(customerA, { wids: [roles.globalAdministrator] });

    // Pinned, well-separated creation times (within the tokens' hour) make date ranges exact.
    const base = Date.now() + 60_000;
    const at = (minute: number): string => new Date(base + minute * 60_000).toISOString();
    const specs = [
      { displayName: 'alpha', customer: customerA, autoExtendDuration: 'P180D' },
      { displayName: 'Bravo', customer: customerA },
      { displayName: 'charlie', customer: customerB, autoExtendDuration: 'P180D' },
      { displayName: 'Delta', customer: null },
      { displayName: 'echo', customer: customerB },
      { displayName: 'Foxtrot', customer: null, autoExtendDuration: 'P180D' },
      { displayName: 'golf', customer: customerA },
    ];
    const created: Entity[] = [];
    try {
      for (const [index, spec] of specs.entries()) {
        await setClock(at(index));
        created.push(
          await create(partner, {
            displayName: spec.displayName,
            duration: 'P90D',
            ...(spec.customer ? { customer: { tenantId: spec.customer } } : {}),
            ...(spec.autoExtendDuration ? { autoExtendDuration: spec.autoExtendDuration } : {}),
          }),
        );
      }
      // Bravo and golf go to approvalPending; golf is approved at minute 10 and becomes active.
      await setClock(at(8));
      await lock(partner, String(created[1].id));
      await lock(partner, String(created[6].id));
      await setClock(at(10));
      expectOk(await client.request(customerAdmin, String(created[6].id), 'approve'), 201);
    } finally {
      await setClock(null);
    }
    created.forEach((item, index) => expect(item.createdDateTime).toBe(`${at(index).slice(0, 23)}0000Z`));
    const all = specs.map((spec) => spec.displayName).sort();

    const filter = async (expression: string): Promise<string[]> =>
      names(expectOk(await list(partner, q({ $filter: expression })), 200));

    expect(names(expectOk(await list(partner), 200))).toEqual(all);
    // Each item carries its current ETag, and the whole entity as GET by id gives it.
    const golfId = String(created[6].id);
    const golfAlone = expectOk(await get(partner, golfId), 200);
    const golfListed = expectOk(await list(partner, q({ $filter: "status eq 'active'" })), 200).body.value[0];
    expect(golfListed['@odata.etag']).toBe(golfAlone.headers.get('etag'));
    expect(golfListed['@odata.etag']).toBe(golfAlone.body['@odata.etag']);
    const golfEntity = { ...golfAlone.body };
    delete golfEntity['@odata.context'];
    expect(golfListed).toEqual(golfEntity);
    expect(await filter("status eq 'approvalPending'")).toEqual(['Bravo']);
    expect(await filter("status eq 'active'")).toEqual(['golf']);
    expect(await filter("status eq 'created'")).toEqual(['Delta', 'Foxtrot', 'alpha', 'charlie', 'echo']);
    expect(await filter("status ne 'created'")).toEqual(['Bravo', 'golf']);
    expect(await filter("displayName eq 'ALPHA'")).toEqual(['alpha']);
    expect(await filter("displayName eq 'foxTROT' or displayName eq 'bravo'")).toEqual(['Bravo', 'Foxtrot']);
    expect(await filter("displayName eq 'alph'")).toEqual([]);
    expect(await filter(`customer/tenantId eq ${customerA}`)).toEqual(['Bravo', 'alpha', 'golf']);
    expect(await filter(`customer/tenantId eq '${customerB.toUpperCase()}'`)).toEqual(['charlie', 'echo']);
    expect(await filter('customer/tenantId eq null')).toEqual(['Delta', 'Foxtrot']);
    expect(await filter(`createdDateTime ge ${at(2)} and createdDateTime lt ${at(5)}`)).toEqual([
      'Delta',
      'charlie',
      'echo',
    ]);
    expect(await filter(`createdDateTime gt ${at(5)}`)).toEqual(['golf']);
    expect(await filter(`createdDateTime le ${String(created[1].createdDateTime)}`)).toEqual(['Bravo', 'alpha']);
    const activationEnd = new Date(Date.parse(at(10)) + 90 * dayMs).toISOString();
    expect(await filter(`endDateTime eq ${activationEnd}`)).toEqual(['golf']);
    expect(await filter(`endDateTime gt ${at(10)}`)).toEqual(['golf']);
    expect(await filter(`endDateTime lt ${activationEnd}`)).toEqual([]);
    expect(await filter('endDateTime eq null')).toHaveLength(6);
    expect(await filter("autoExtendDuration eq 'P180D'")).toEqual(['Foxtrot', 'alpha', 'charlie']);
    expect(await filter("autoExtendDuration eq duration'PT0S'")).toEqual(['Bravo', 'Delta', 'echo', 'golf']);
    expect(await filter(`(status eq 'created' or status eq 'active') and customer/tenantId eq ${customerA}`)).toEqual([
      'alpha',
      'golf',
    ]);
    expect(await filter(`not (customer/tenantId eq ${customerA}) and autoExtendDuration eq 'PT0S'`)).toEqual([
      'Delta',
      'echo',
    ]);

    // $orderby displayName desc: case-insensitive order.
    const ordered = expectOk(await list(partner, q({ $orderby: 'displayName desc' })), 200);
    expect(ordered.body.value.map((item) => item.displayName)).toEqual([
      'golf',
      'Foxtrot',
      'echo',
      'Delta',
      'charlie',
      'Bravo',
      'alpha',
    ]);

    // $top + nextLink: every relationship exactly once, with or without an $orderby.
    const pages = await allPages(partner, q({ $top: '2' }));
    expect(pages.map((page) => page.length)).toEqual([2, 2, 2, 1]);
    const ids = pages.flat().map((item) => String(item.id));
    expect(new Set(ids).size).toBe(7);
    expect([...ids].sort()).toEqual(created.map((item) => String(item.id)).sort());
    const orderedPages = await allPages(partner, q({ $top: '3', $orderby: 'createdDateTime desc' }));
    expect(orderedPages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(orderedPages.flat().map((item) => item.id)).toEqual([...created].reverse().map((item) => item.id));
    const filteredPages = await allPages(partner, q({ $top: '1', $filter: "status eq 'created'" }));
    expect(filteredPages).toHaveLength(5);
    expect(new Set(filteredPages.flat().map((item) => item.id)).size).toBe(5);

    // $count counts the whole filtered collection, not the page.
    const counted = expectOk(await list(partner, q({ $count: 'true', $top: '2' })), 200);
    expect(counted.body['@odata.count']).toBe(7);
    expect(counted.body.value).toHaveLength(2);
    expect(counted.body['@odata.nextLink']).toBeDefined();
    const countedFiltered = expectOk(await list(partner, q({ $count: 'true', $filter: "status eq 'created'" })), 200);
    expect(countedFiltered.body['@odata.count']).toBe(5);
    expect(expectOk(await list(partner), 200).body).not.toHaveProperty('@odata.count');

    // $select keeps only the chosen properties, id and annotations.
    const selected = expectOk(await list(partner, q({ $select: 'displayName,status' })), 200);
    expect(selected.body.value).toHaveLength(7);
    for (const item of selected.body.value) {
      expect(Object.keys(item).sort()).toEqual(['@odata.etag', '@odata.type', 'displayName', 'id', 'status']);
      expect(item['@odata.type']).toBe(relationshipType);
    }
    expect(selected.body['@odata.context']).toBe(
      `${host.url}/v1.0/$metadata#tenantRelationships/delegatedAdminRelationships`,
    );

    // Unsupported options and values are refused.
    expectGraphError(await list(partner, q({ $skip: '2' })), 400, 'badRequest');
    expectGraphError(await list(partner, q({ $top: '301' })), 400, 'badRequest');
    expectGraphError(await list(partner, q({ $filter: "status eq 'bogus'" })), 400, 'badRequest');
    expectGraphError(await list(partner, q({ $filter: "startswith(displayName,'a')" })), 400, 'badRequest');
    expectGraphError(await list(partner, q({ $select: 'partnerTenantId' })), 400, 'badRequest');
    expectGraphError(await list(partner, q({ $skiptoken: 'not-a-token' })), 400, 'badRequest');
  });

  // ----- editing and deleting drafts ----------------------------------------------------------

  it('patches a draft (200, whole entity, new ETag) and deletes it (204, name free at once)', async () => {
    const { partner } = await client.tenants();
    const name = `Draft ${randomUUID()}`.slice(0, 40);
    const created = await create(partner, { displayName: name, duration: 'P30D' });
    const id = String(created.id);
    const etag = String(created['@odata.etag']);

    expectGraphError(await patch(partner, id, undefined, { duration: 'P60D' }), 400, 'badRequest');
    expectGraphError(await patch(partner, id, 'W/"c3RhbGU="', { duration: 'P60D' }), 412, 'preconditionFailed');
    expectGraphError(await patch(partner, id, etag, { id: 'x' }), 400, 'badRequest');
    expectGraphError(await patch(partner, id, etag, { unknownProperty: 1 }), 400, 'badRequest');

    const renamed = `${name} v2`;
    const patched = expectOk(
      await patch(partner, id, etag, { displayName: renamed, duration: 'P2M', autoExtendDuration: 'P180D' }),
      200,
    );
    expect(patched.body).toMatchObject({
      '@odata.type': relationshipType,
      id,
      displayName: renamed,
      duration: 'P60D',
      autoExtendDuration: 'P180D',
      status: 'created',
      createdDateTime: created.createdDateTime,
      accessDetails: created.accessDetails,
      customer: null,
      activatedDateTime: null,
      endDateTime: null,
    });
    expect(patched.body.lastModifiedDateTime).toMatch(graphTimestamp);
    expect(patched.body['@odata.etag']).not.toBe(etag);
    expect(patched.headers.get('etag')).toBe(patched.body['@odata.etag']);
    expect((await get(partner, id)).body).toEqual(patched.body);

    // The old ETag is now stale for PATCH and DELETE; the rename freed the old name.
    expectGraphError(await patch(partner, id, etag, { duration: 'P10D' }), 412, 'preconditionFailed');
    expectGraphError(await remove(partner, id, etag), 412, 'preconditionFailed');
    expectGraphError(await remove(partner, id, undefined), 400, 'badRequest');
    const reusedOld = await create(partner, { displayName: name });
    expect(reusedOld.displayName).toBe(name);

    const deleted = await remove(partner, id, String(patched.body['@odata.etag']));
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expectGraphError(await get(partner, id), 404, 'ResourceNotFound');
    expectGraphError(await remove(partner, id, String(patched.body['@odata.etag'])), 404, 'ResourceNotFound');
    expect(names(await list(partner))).toEqual([name]);
    // The deleted relationship's name is reusable at once, in any case.
    expect((await create(partner, { displayName: renamed.toUpperCase() })).displayName).toBe(renamed.toUpperCase());

    // If-Match: * matches whatever the current version is.
    const star = expectOk(await patch(partner, String(reusedOld.id), '*', { duration: 'P5D' }), 200);
    expect(star.body.duration).toBe('P5D');
  });

  // ----- approval -----------------------------------------------------------------------------

  it('locks for approval, and the customer Global Administrator approves it into active', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    expectOk(
      await client.call('PUT', `/sandbox/tenants/${customerTenantId}`, { body: { displayName: 'Fabrikam Ltd' } }),
      200,
    );
    const created = await create(partner, { customer: { tenantId: customerTenantId }, duration: 'P3M' });
    const id = String(created.id);
    expect(created.customer).toEqual({ tenantId: customerTenantId, displayName: 'Fabrikam Ltd' });

    const locked = await lock(partner, id);
    const lockId = String(locked.body.id);
    expect(locked.body).toMatchObject({
      '@odata.type': requestType,
      action: 'lockForApproval',
      status: 'succeeded',
    });
    expect(lockId).toMatch(new RegExp(`^${guid}$`));
    expect(locked.body.createdDateTime).toMatch(graphTimestamp);
    expect(locked.headers.get('location')).toBe(`${host.url}${relationshipsUrl}/${id}/requests/${lockId}`);
    // In sandbox mode the invitation opens this service's own portal (SPEC §17).
    expect(locked.body.invitationUrl).toBe(`${host.url}/portal/invitations/${id}`);
    const lockRead = expectOk(
      await client.call('GET', String(locked.headers.get('location')), { token: partner }),
      200,
    );
    expect(lockRead.body).toMatchObject({ id: lockId, action: 'lockForApproval', status: 'succeeded' });

    const pendingView = expectOk(await get(partner, id), 200).body;
    expect(pendingView.status).toBe('approvalPending');
    expect(pendingView.activatedDateTime).toBeNull();
    // A second lock is a wrong-state action that names the current status.
    const relock = await client.request(partner, id, 'lockForApproval');
    expectGraphError(relock, 400, 'badRequest');
    expect((relock.body as { error: { message: string } }).error.message).toContain('approvalPending');

    // The customer's Global Administrator sees the invitation and approves it.
    expect(expectOk(await get(customer, id), 200).body.status).toBe('approvalPending');
    const approved = expectOk(await client.request(customer, id, 'approve'), 201);
    expect(approved.body).toMatchObject({ action: 'approve', status: 'succeeded' });
    expect(approved.headers.get('location')).toBe(
      `${host.url}${relationshipsUrl}/${id}/requests/${String(approved.body.id)}`,
    );

    const active = expectOk(await get(partner, id), 200).body;
    expect(active.status).toBe('active');
    expect(active.activatedDateTime).toMatch(graphTimestamp);
    expect(active.endDateTime).toMatch(graphTimestamp);
    expect(Date.parse(String(active.endDateTime)) - Date.parse(String(active.activatedDateTime))).toBe(90 * dayMs);
    expect(active.customer).toEqual({ tenantId: customerTenantId, displayName: 'Fabrikam Ltd' });
    expect(expectOk(await get(customer, id), 200).body).toEqual(active);

    for (const token of [partner, customer]) {
      const history = expectOk(await requests(token, id), 200);
      expect(history.body.value.map((item) => item.action).sort()).toEqual(['approve', 'lockForApproval']);
      expect(history.body.value.every((item) => item.status === 'succeeded')).toBe(true);
    }
    const again = await client.request(customer, id, 'approve');
    expectGraphError(again, 400, 'badRequest');
    expect((again.body as { error: { message: string } }).error.message).toContain('active');
    expectGraphError(await client.request(customer, id, 'reject'), 400, 'badRequest');
    expectGraphError(await client.request(customer, id, 'bogus'), 400, 'badRequest');
  });

  it('lets the customer Global Administrator reject an invitation: terminated', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const id = await pending(partner, customerTenantId);
    expectOk(await client.request(customer, id, 'reject'), 201);
    const rejected = expectOk(await get(partner, id), 200).body;
    expect(rejected.status).toBe('terminated');
    expect(rejected.activatedDateTime).toBeNull();
    expect(rejected.endDateTime).toMatch(graphTimestamp);
    expectGraphError(await client.request(customer, id, 'approve'), 400, 'badRequest');
    expect((await requests(partner, id)).body.value.map((item) => item.action).sort()).toEqual([
      'lockForApproval',
      'reject',
    ]);
  });

  it('terminates an active relationship from either side, never an invitation from the partner', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();

    const byPartner = String((await client.activeRelationship(partner, customer, customerTenantId)).id);
    expectOk(await client.request(partner, byPartner, 'terminate'), 201);
    const endedByPartner = expectOk(await get(partner, byPartner), 200).body;
    expect(endedByPartner.status).toBe('terminated');
    expect(endedByPartner.activatedDateTime).toMatch(graphTimestamp);
    expect(Date.parse(String(endedByPartner.endDateTime))).toBeLessThan(
      Date.parse(String(endedByPartner.activatedDateTime)) + dayMs,
    );
    expectGraphError(await client.request(partner, byPartner, 'terminate'), 400, 'badRequest');

    const byCustomer = String((await client.activeRelationship(partner, customer, customerTenantId)).id);
    expectOk(await client.request(customer, byCustomer, 'terminate'), 201);
    expect(expectOk(await get(customer, byCustomer), 200).body.status).toBe('terminated');
    expect((await requests(partner, byCustomer)).body.value.map((item) => item.action).sort()).toEqual([
      'approve',
      'lockForApproval',
      'terminate',
    ]);

    // approvalPending: the partner cannot terminate (it expires by itself), nor can the customer.
    const invitation = await pending(partner, customerTenantId);
    const refused = await client.request(partner, invitation, 'terminate');
    expectGraphError(refused, 400, 'badRequest');
    expect((refused.body as { error: { message: string } }).error.message).toContain('approvalPending');
    expectGraphError(await client.request(customer, invitation, 'terminate'), 400, 'badRequest');
    // A draft cannot be terminated either.
    expectGraphError(await client.request(partner, String((await create(partner)).id), 'terminate'), 400, 'badRequest');
    expect((await get(partner, invitation)).body.status).toBe('approvalPending');
  });

  // ----- editing rules by status --------------------------------------------------------------

  it('enforces the editing rules of each status', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();

    const active = await client.activeRelationship(partner, customer, customerTenantId);
    const activeId = String(active.id);
    const extended = expectOk(
      await patch(partner, activeId, String(active['@odata.etag']), { autoExtendDuration: 'P180D' }),
      200,
    );
    expect(extended.body).toMatchObject({
      status: 'active',
      autoExtendDuration: 'P180D',
      endDateTime: active.endDateTime,
    });
    const etag = String(extended.body['@odata.etag']);
    for (const body of [
      { displayName: 'Renamed while active' },
      { duration: 'P10D' },
      { customer: { tenantId: randomUUID() } },
      { autoExtendDuration: 'PT0S', displayName: 'Sneaky' },
    ]) {
      expectGraphError(await patch(partner, activeId, etag, body), 400, 'badRequest');
    }
    expectGraphError(await remove(partner, activeId, etag), 400, 'badRequest');
    const reverted = expectOk(await patch(partner, activeId, etag, { autoExtendDuration: 'PT0S' }), 200);
    expect(reverted.body).toMatchObject({
      status: 'active',
      autoExtendDuration: 'PT0S',
      displayName: active.displayName,
    });

    const pendingId = await pending(partner, customerTenantId);
    const pendingEtag = String((await get(partner, pendingId)).body['@odata.etag']);
    expectGraphError(await patch(partner, pendingId, pendingEtag, { autoExtendDuration: 'P180D' }), 400, 'badRequest');
    expectGraphError(await patch(partner, pendingId, pendingEtag, { displayName: 'No' }), 400, 'badRequest');
    expectGraphError(await remove(partner, pendingId, pendingEtag), 400, 'badRequest');

    expectOk(await client.request(partner, activeId, 'terminate'), 201);
    const terminatedEtag = String((await get(partner, activeId)).body['@odata.etag']);
    expectGraphError(
      await patch(partner, activeId, terminatedEtag, { autoExtendDuration: 'P180D' }),
      400,
      'badRequest',
    );
    expectGraphError(await remove(partner, activeId, terminatedEtag), 400, 'badRequest');
    expect((await get(partner, pendingId)).body.status).toBe('approvalPending');
  });

  it('never lets a relationship with Global Administrator auto-extend', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const withGa = { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }] } };

    const refused = await client.createRelationship(partner, { ...withGa, autoExtendDuration: 'P180D' });
    expectGraphError(refused, 400, 'badRequest');
    expect((refused.body as { error: { message: string } }).error.message).toMatch(/Global Administrator/);

    const draft = await create(partner, withGa);
    expectGraphError(
      await patch(partner, String(draft.id), String(draft['@odata.etag']), { autoExtendDuration: 'P180D' }),
      400,
      'badRequest',
    );
    // Adding GA to a draft that auto-extends is refused the same way.
    const extending = await create(partner, { autoExtendDuration: 'P180D' });
    expectGraphError(
      await patch(partner, String(extending.id), String(extending['@odata.etag']), withGa),
      400,
      'badRequest',
    );
    // Both together in one PATCH is fine when the result has no GA.
    const fine = expectOk(
      await patch(partner, String(draft.id), String(draft['@odata.etag']), {
        autoExtendDuration: 'P180D',
        accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalReader }] },
      }),
      200,
    );
    expect(fine.body.autoExtendDuration).toBe('P180D');

    const active = await client.activeRelationship(partner, customer, customerTenantId, withGa);
    const activeRefused = await patch(partner, String(active.id), String(active['@odata.etag']), {
      autoExtendDuration: 'P180D',
    });
    expectGraphError(activeRefused, 400, 'badRequest');
    expect((await get(partner, String(active.id))).body.autoExtendDuration).toBe('PT0S');
  });

  // ----- display name uniqueness --------------------------------------------------------------

  it('keeps display names unique per partner, case-insensitively, across all statuses', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const name = `Unique ${randomUUID().slice(0, 8)}`;
    const first = await create(partner, { displayName: name, customer: { tenantId: customerTenantId } });

    expectGraphError(await client.createRelationship(partner, { displayName: name.toUpperCase() }), 409, 'conflict');
    const other = await create(partner);
    expectGraphError(
      await patch(partner, String(other.id), String(other['@odata.etag']), { displayName: name.toLowerCase() }),
      409,
      'conflict',
    );
    // A failed rename keeps the relationship's own name and ETag.
    expect((await get(partner, String(other.id))).body).toMatchObject({
      displayName: other.displayName,
      '@odata.etag': other['@odata.etag'],
    });

    // Still taken once the relationship is terminated (rejected by the customer).
    await lock(partner, String(first.id));
    expectOk(await client.request(customer, String(first.id), 'reject'), 201);
    expect((await get(partner, String(first.id))).body.status).toBe('terminated');
    expectGraphError(await client.createRelationship(partner, { displayName: name.toLowerCase() }), 409, 'conflict');
    expect(names(await list(partner, q({ $filter: `displayName eq '${name}'` })))).toEqual([name]);

    // Another partner may use the same name.
    const otherPartner = await tokenFor(randomUUID(), { roles: ['AdminAgent'] });
    expect((await create(otherPartner, { displayName: name.toLowerCase() })).displayName).toBe(name.toLowerCase());
    // Renaming a draft to a case variant of its own name is not a conflict.
    const self = expectOk(
      await patch(partner, String(other.id), String(other['@odata.etag']), {
        displayName: String(other.displayName).toUpperCase(),
      }),
      200,
    );
    expect(self.body.displayName).toBe(String(other.displayName).toUpperCase());
  });

  // ----- the customer side --------------------------------------------------------------------

  it('lets any customer Global Administrator accept a customer-agnostic invitation, then only that one', async () => {
    const { partner } = await client.tenants();
    const approverTenantId = randomUUID();
    const bystanderTenantId = randomUUID();
    const approver = await tokenFor(approverTenantId, { wids: [roles.globalAdministrator] });
    const bystander = await tokenFor(bystanderTenantId, { wids: [roles.globalAdministrator] });
    expectOk(
      await client.call('PUT', `/sandbox/tenants/${approverTenantId}`, { body: { displayName: 'Northwind Traders' } }),
      200,
    );

    const draft = await create(partner, { duration: 'P10D' });
    const id = String(draft.id);
    expect(draft.customer).toBeNull();
    expectGraphError(await get(approver, id), 404, 'ResourceNotFound');
    await lock(partner, id);

    // While approvalPending, any customer GA holding the id can read it.
    for (const token of [approver, bystander]) {
      const seen = expectOk(await get(token, id), 200).body;
      expect(seen).toMatchObject({ id, status: 'approvalPending', customer: null });
    }
    expectOk(await client.request(approver, id, 'approve'), 201);

    const active = expectOk(await get(partner, id), 200).body;
    expect(active).toMatchObject({
      status: 'active',
      customer: { tenantId: approverTenantId, displayName: 'Northwind Traders' },
    });
    expect(Date.parse(String(active.endDateTime)) - Date.parse(String(active.activatedDateTime))).toBe(10 * dayMs);
    expect(expectOk(await get(approver, id), 200).body.status).toBe('active');
    expectGraphError(await get(bystander, id), 404, 'ResourceNotFound');
    expectGraphError(await client.request(bystander, id, 'approve'), 404, 'ResourceNotFound');
    expectGraphError(await client.request(bystander, id, 'terminate'), 404, 'ResourceNotFound');
    expectGraphError(await requests(bystander, id), 404, 'ResourceNotFound');

    // The approver's list now holds it; the bystander's does not.
    expect(expectOk(await list(approver), 200).body.value.map((item) => item.id)).toEqual([id]);
    expect(expectOk(await list(bystander), 200).body.value).toEqual([]);
    expect(names(await list(partner, q({ $filter: `customer/tenantId eq ${approverTenantId}` })))).toEqual([
      String(draft.displayName),
    ]);
  });

  it('refuses approval by a tenant other than the named customer with 404', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const stranger = await tokenFor(randomUUID(), { wids: [roles.globalAdministrator] });
    const id = await pending(partner, customerTenantId);
    expectGraphError(await client.request(stranger, id, 'approve'), 404, 'ResourceNotFound');
    expectGraphError(await client.request(stranger, id, 'reject'), 404, 'ResourceNotFound');
    expectGraphError(await get(stranger, id), 404, 'ResourceNotFound');
    expect((await get(customer, id)).body.status).toBe('approvalPending');
  });

  it("shows the customer the relationships with it, never the partner's drafts", async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const secondPartner = await tokenFor(randomUUID(), { roles: ['AdminAgent'] });
    const forCustomer = { customer: { tenantId: customerTenantId } };

    const draft = await create(partner, forCustomer);
    expectGraphError(await get(customer, String(draft.id)), 404, 'ResourceNotFound');
    expectGraphError(await requests(customer, String(draft.id)), 404, 'ResourceNotFound');
    expect(expectOk(await list(customer), 200).body.value).toEqual([]);

    const invitation = await pending(partner, customerTenantId);
    const active = String((await client.activeRelationship(secondPartner, customer, customerTenantId)).id);
    const rejected = await pending(partner, customerTenantId);
    expectOk(await client.request(customer, rejected, 'reject'), 201);
    await create(partner, { customer: { tenantId: randomUUID() } });
    await pending(partner, randomUUID());

    const seen = expectOk(await list(customer), 200);
    expect(seen.body.value.map((item) => item.id).sort()).toEqual([invitation, active, rejected].sort());
    for (const item of seen.body.value) {
      expect(item['@odata.type']).toBe(relationshipType);
      expect(item['@odata.etag']).toMatch(/^W\//);
      expect((item.customer as { tenantId: string }).tenantId).toBe(customerTenantId);
    }
    const byStatus = expectOk(await list(customer, q({ $filter: "status eq 'approvalPending'" })), 200);
    expect(byStatus.body.value.map((item) => item.id)).toEqual([invitation]);
    const counted = expectOk(await list(customer, q({ $count: 'true', $top: '1' })), 200);
    expect(counted.body['@odata.count']).toBe(3);
    const pages = await allPages(customer, q({ $top: '2' }));
    expect(
      pages
        .flat()
        .map((item) => item.id)
        .sort(),
    ).toEqual([invitation, active, rejected].sort());

    // The draft appears once locked.
    await lock(partner, String(draft.id));
    expect(expectOk(await get(customer, String(draft.id)), 200).body.status).toBe('approvalPending');
    expect(expectOk(await list(customer), 200).body.value).toHaveLength(4);
  });

  it('merges both sides for a tenant that is a partner and a customer at once', async () => {
    const bothTenantId = randomUUID();
    const both = await tokenFor(bothTenantId, { roles: ['AdminAgent'], wids: [roles.globalAdministrator] });
    const bothHelpdesk = await tokenFor(bothTenantId, { roles: ['HelpdeskAgent'] });
    const otherPartner = await tokenFor(randomUUID(), { roles: ['AdminAgent'] });

    const own = String((await create(both, { displayName: 'Own draft' })).id);
    const incoming = await pending(otherPartner, bothTenantId, { displayName: 'Incoming invitation' });
    await create(otherPartner, { displayName: 'Hidden draft', customer: { tenantId: bothTenantId } });

    expect(names(expectOk(await list(both), 200))).toEqual(['Incoming invitation', 'Own draft']);
    const pages = await allPages(both, q({ $top: '1' }));
    expect(pages.map((page) => page.length)).toEqual([1, 1]);
    expect(
      pages
        .flat()
        .map((item) => item.id)
        .sort(),
    ).toEqual([own, incoming].sort());
    expect(names(expectOk(await list(both, q({ $filter: "status eq 'created'" })), 200))).toEqual(['Own draft']);
    const ordered = expectOk(await list(both, q({ $orderby: 'displayName desc', $count: 'true' })), 200);
    expect(ordered.body['@odata.count']).toBe(2);
    expect(ordered.body.value.map((item) => item.displayName)).toEqual(['Own draft', 'Incoming invitation']);
    // A partner reader without Global Administrator sees only the partner side.
    expect(names(expectOk(await list(bothHelpdesk), 200))).toEqual(['Own draft']);
    expectGraphError(await get(bothHelpdesk, incoming), 403, 'Authorization_RequestDenied');
  });

  // ----- isolation and roles ------------------------------------------------------------------

  it("answers 404 to a third tenant for everything about someone else's relationship", async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const thirdTenantId = randomUUID();
    const third = await tokenFor(thirdTenantId, {
      roles: ['AdminAgent', 'HelpdeskAgent'],
      wids: [roles.globalAdministrator],
    });
    const draft = await create(partner, { customer: { tenantId: customerTenantId } });
    const invitation = await pending(partner, customerTenantId);
    const active = await client.activeRelationship(partner, customer, customerTenantId);
    const lockRequestId = String(
      (await requests(partner, String(active.id))).body.value.find((item) => item.action === 'lockForApproval')?.id,
    );

    const ids = [String(draft.id), invitation, String(active.id)];
    const before = await Promise.all(ids.map(async (id) => (await get(partner, id)).body));
    for (const id of ids) {
      const etag = String((await get(partner, id)).body['@odata.etag']);
      expectGraphError(await get(third, id), 404, 'ResourceNotFound');
      expectGraphError(await patch(third, id, etag, { autoExtendDuration: 'P180D' }), 404, 'ResourceNotFound');
      expectGraphError(await remove(third, id, etag), 404, 'ResourceNotFound');
      expectGraphError(await requests(third, id), 404, 'ResourceNotFound');
      for (const action of ['lockForApproval', 'approve', 'reject', 'terminate']) {
        expectGraphError(await client.request(third, id, action), 404, 'ResourceNotFound');
      }
    }
    expectGraphError(
      await client.call('GET', `${url(String(active.id))}/requests/${lockRequestId}`, { token: third }),
      404,
      'ResourceNotFound',
    );
    expect(expectOk(await list(third), 200).body.value).toEqual([]);
    // Nothing changed.
    expect(await Promise.all(ids.map(async (id) => (await get(partner, id)).body))).toEqual(before);
    expect(before.map((item) => item.status)).toEqual(['created', 'approvalPending', 'active']);
  });

  it('checks roles: readers read, only AdminAgent writes, only the customer GA decides', async () => {
    const { partner, partnerTenantId, customer, customerTenantId } = await client.tenants();
    const helpdesk = await tokenFor(partnerTenantId, { roles: ['HelpdeskAgent'] });
    const salesAgent = await tokenFor(partnerTenantId, { roles: ['SalesAgent'] });
    const noRole = await tokenFor(partnerTenantId);
    const partnerGa = await tokenFor(partnerTenantId, { roles: ['AdminAgent'], wids: [roles.globalAdministrator] });
    const customerExchangeAdmin = await tokenFor(customerTenantId, { wids: [roles.exchangeAdministrator] });
    const customerNoRole = await tokenFor(customerTenantId);

    const draft = await create(partner, { customer: { tenantId: customerTenantId } });
    const draftId = String(draft.id);
    const draftEtag = String(draft['@odata.etag']);

    // HelpdeskAgent reads but cannot write.
    expect(expectOk(await get(helpdesk, draftId), 200).body.id).toBe(draftId);
    expect(expectOk(await list(helpdesk), 200).body.value.map((item) => item.id)).toEqual([draftId]);
    expectOk(await requests(helpdesk, draftId), 200);
    expectGraphError(await client.createRelationship(helpdesk), 403, 'Authorization_RequestDenied');
    expectGraphError(
      await patch(helpdesk, draftId, draftEtag, { duration: 'P5D' }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await remove(helpdesk, draftId, draftEtag), 403, 'Authorization_RequestDenied');
    expectGraphError(await client.request(helpdesk, draftId, 'lockForApproval'), 403, 'Authorization_RequestDenied');

    // Neither reader nor writer: no list, no read, no writes.
    for (const token of [noRole, salesAgent]) {
      expectGraphError(await list(token), 403, 'Authorization_RequestDenied');
      expectGraphError(await get(token, draftId), 403, 'Authorization_RequestDenied');
      expectGraphError(await client.createRelationship(token), 403, 'Authorization_RequestDenied');
    }
    expect((await get(partner, draftId)).body['@odata.etag']).toBe(draftEtag);

    // The partner cannot approve or reject its own invitation, even as its own tenant's GA.
    await lock(partner, draftId);
    for (const token of [partner, partnerGa]) {
      expectGraphError(await client.request(token, draftId, 'approve'), 403, 'Authorization_RequestDenied');
      expectGraphError(await client.request(token, draftId, 'reject'), 403, 'Authorization_RequestDenied');
    }

    // Customer users who are not Global Administrators cannot read or decide.
    for (const token of [customerExchangeAdmin, customerNoRole]) {
      expectGraphError(await get(token, draftId), 403, 'Authorization_RequestDenied');
      expectGraphError(await requests(token, draftId), 403, 'Authorization_RequestDenied');
      expectGraphError(await client.request(token, draftId, 'approve'), 403, 'Authorization_RequestDenied');
      expectGraphError(await client.request(token, draftId, 'reject'), 403, 'Authorization_RequestDenied');
      expectGraphError(await list(token), 403, 'Authorization_RequestDenied');
    }
    // The customer GA cannot act as the partner.
    expectGraphError(await client.request(customer, draftId, 'lockForApproval'), 403, 'Authorization_RequestDenied');
    const pendingEtag = String((await get(customer, draftId)).body['@odata.etag']);
    expectGraphError(
      await patch(customer, draftId, pendingEtag, { duration: 'P5D' }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await client.createRelationship(customer), 403, 'Authorization_RequestDenied');
    expect((await get(partner, draftId)).body.status).toBe('approvalPending');

    // Once active: HelpdeskAgent cannot terminate, a customer non-GA cannot either.
    expectOk(await client.request(customer, draftId, 'approve'), 201);
    expectGraphError(await client.request(helpdesk, draftId, 'terminate'), 403, 'Authorization_RequestDenied');
    expectGraphError(
      await client.request(customerExchangeAdmin, draftId, 'terminate'),
      403,
      'Authorization_RequestDenied',
    );
    expect((await get(partner, draftId)).body.status).toBe('active');

    // Without a token: 401.
    expectGraphError(await client.call('GET', relationshipsUrl), 401, 'InvalidAuthenticationToken');
  });
});
