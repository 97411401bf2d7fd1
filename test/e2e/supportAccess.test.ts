import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { CallResult, Client, expectGraphError, relationshipsUrl, roles, startTestHost, TestHost } from './support';

/**
 * Support requests and Microsoft Support access requests (SPEC §8), over HTTP as clients use them,
 * starting with the seed's cross-tenant workflow.
 */
describe('support requests and Microsoft Support access requests', () => {
  let host: TestHost;
  let client: Client;

  beforeAll(async () => {
    host = await startTestHost();
    client = new Client(host.url);
  });
  afterAll(async () => {
    await client.call('PUT', '/sandbox/clock', { body: { now: null } });
    await host.close();
  });

  const serviceSupportAdministrator = roles.serviceSupportAdministrator;
  const microsoftTenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const supportAudit = 'MicrosoftSupportAccessManagement';

  type Body = Record<string, unknown>;
  const value = (result: CallResult) => (result.body as { value: Body[] }).value;

  /** A fresh engineer with an expertise of its own, so tests never share one. */
  async function engineer(expertise = `Identity ${randomUUID().slice(0, 8)}`) {
    const oid = randomUUID();
    const seeded = await client.call('PUT', `/sandbox/supportEngineers/${oid}`, {
      body: { displayName: `Engineer ${oid.slice(0, 4)}`, expertise: [expertise] },
    });
    expect(seeded.status).toBe(201);
    const token = await client.token({ tid: microsoftTenantId, oid, roles: ['SupportEngineer'] });
    return { oid, expertise, token };
  }

  /** One administrator (one e-mail) with a token in each of several tenants. */
  async function admin(tenants: Record<string, string>, wids: string[] = [serviceSupportAdministrator]) {
    const email = `admin-${randomUUID().slice(0, 8)}@contoso.example`;
    const tokens: Record<string, string> = {};
    for (const [name, tid] of Object.entries(tenants)) tokens[name] = await client.token({ tid, wids, email });
    return { email, tokens };
  }

  const fileRequest = (token: string, body: Body) => client.call('POST', '/v1.0/support/requests', { token, body });
  const askAccess = (token: string, supportRequestId: unknown, resourceTenantId: string) =>
    client.call('POST', '/v1.0/support/accessRequests', {
      token,
      body: { supportRequestId, resourceTenantId, justification: 'Sign-in failures for users of the resource tenant' },
    });
  const approve = (token: string, id: unknown, resourceToken?: string) =>
    client.call('POST', `/v1.0/support/accessRequests/${String(id)}/approve`, {
      token,
      headers: resourceToken ? { 'x-resource-tenant-authorization': `Bearer ${resourceToken}` } : {},
    });
  const diagnostics = (token: string, requestId: unknown, tenantId: string) =>
    client.call('GET', `/v1.0/support/requests/${String(requestId)}/diagnostics/${tenantId}`, { token });
  const auditNames = async (tenantId: string): Promise<string[]> => {
    const reader = await client.token({ tid: tenantId, wids: [roles.globalAdministrator] });
    const result = await client.call('GET', `/v1.0/auditLogs/directoryAudits?$filter=category eq '${supportAudit}'`, {
      token: reader,
    });
    expect(result.status).toBe(200);
    return value(result).map((entry) => String(entry.activityDisplayName));
  };

  /** A support request filed in A about B, and the engineer's pending access request for B. */
  async function pendingCrossTenantRequest() {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const eng = await engineer();
    const person = await admin({ a, b });
    const filed = await fileRequest(person.tokens.a, {
      title: 'Users of the other tenant cannot sign in',
      description: 'Conditional access blocks them since Monday.',
      category: eng.expertise,
      resourceTenantId: b,
      allowAdvancedDiagnostics: false,
    });
    expect(filed.status).toBe(201);
    const asked = await askAccess(eng.token, filed.body.id, b);
    expect(asked.status).toBe(201);
    return { a, b, c, eng, person, supportRequest: filed.body, accessRequest: asked.body };
  }

  it("runs the seed's cross-tenant workflow: ask, approve by an admin of both, read B only, close", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const eng = await engineer();
    const person = await admin({ a, b });

    // B holds identity configuration of its own: an active GDAP relationship as a partner.
    const bPartner = await client.token({ tid: b, roles: ['AdminAgent'] });
    const customerOfB = randomUUID();
    const customerGa = await client.token({ tid: customerOfB, wids: [roles.globalAdministrator] });
    const relationshipOfB = await client.activeRelationship(bPartner, customerGa, customerOfB);

    // 1. A support request is filed in tenant A about a problem in tenant B.
    const filed = await fileRequest(person.tokens.a, {
      title: 'Users of the other tenant cannot sign in',
      description: 'Conditional access blocks them since Monday.',
      category: eng.expertise,
      resourceTenantId: b,
      allowAdvancedDiagnostics: false,
    });
    expect(filed.status).toBe(201);
    expect(filed.headers.get('location')).toBe(`${host.url}/v1.0/support/requests/${filed.body.id}`);
    expect(filed.body).toMatchObject({
      '@odata.type': '#microsoft.graph.supportRequest',
      tenantId: a,
      resourceTenantId: b,
      status: 'open',
      allowAdvancedDiagnostics: false,
      assignedEngineer: { id: eng.oid, displayName: expect.any(String) },
    });
    const requestId = String(filed.body.id);

    // Without approval the engineer reads nothing: not B, not A (diagnostics not allowed), not C.
    expectGraphError(await diagnostics(eng.token, requestId, b), 403, 'Authorization_RequestDenied');
    expectGraphError(await diagnostics(eng.token, requestId, a), 403, 'Authorization_RequestDenied');

    // 2. The engineer asks for access to B.
    const asked = await askAccess(eng.token, requestId, b);
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({
      '@odata.type': '#microsoft.graph.supportAccessRequest',
      supportRequestId: requestId,
      supportRequestTenantId: a,
      resourceTenantId: b,
      status: 'pending',
      requestedBy: { id: eng.oid },
    });
    const accessRequestId = String(asked.body.id);
    const listedInA = await client.call('GET', '/v1.0/support/accessRequests', { token: person.tokens.a });
    expect(value(listedInA).map((item) => [item.id, item.status])).toEqual([[accessRequestId, 'pending']]);

    // 3. One administrator of both tenants approves: A's token, plus B's token of the same person.
    const approved = await approve(person.tokens.a, accessRequestId, person.tokens.b);
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');

    // The approval exists in B only.
    const approvalsInB = value(await client.call('GET', '/v1.0/support/accessApprovals', { token: person.tokens.b }));
    expect(approvalsInB).toEqual([
      expect.objectContaining({
        '@odata.type': '#microsoft.graph.supportAccessApproval',
        accessRequestId,
        supportRequestId: requestId,
        resourceTenantId: b,
        status: 'approved',
        engineer: expect.objectContaining({ id: eng.oid }),
      }),
    ]);
    expect(value(await client.call('GET', '/v1.0/support/accessApprovals', { token: person.tokens.a }))).toEqual([]);
    const approvalId = String(approvalsInB[0].id);
    expectGraphError(
      await client.call('GET', `/v1.0/support/accessApprovals/${approvalId}`, { token: person.tokens.a }),
      404,
      'ResourceNotFound',
    );

    // 4. The engineer reads B's diagnostic data, read-only; still not A's, nor C's.
    const snapshot = await diagnostics(eng.token, requestId, b);
    expect(snapshot.status).toBe(200);
    expect(snapshot.body).toMatchObject({ tenantId: b, accessBasis: 'approval', readOnly: true });
    const relationshipsInSnapshot = snapshot.body.delegatedAdminRelationships as Body[];
    expect(relationshipsInSnapshot.map((r) => [r.id, r.tenantRole])).toEqual([[relationshipOfB.id, 'partner']]);
    expect(Array.isArray(snapshot.body.accessAssignments)).toBe(true);
    expect((snapshot.body.directoryAudits as Body[]).length).toBeGreaterThan(0);
    expectGraphError(await diagnostics(eng.token, requestId, a), 403, 'Authorization_RequestDenied');
    expectGraphError(await diagnostics(eng.token, requestId, c), 403, 'Authorization_RequestDenied');

    // Read-only: the engineer's writes are refused.
    expectGraphError(
      await client.createRelationship(eng.token, { customer: { tenantId: b } }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(
      await client.call('POST', `${relationshipsUrl}/${String(relationshipOfB.id)}/requests`, {
        token: eng.token,
        body: { action: 'terminate' },
      }),
      404,
      'ResourceNotFound',
    );
    expectGraphError(
      await client.call('POST', `/v1.0/support/accessApprovals/${approvalId}/remove`, { token: eng.token }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await approve(eng.token, accessRequestId), 403, 'Authorization_RequestDenied');

    // 5. The engineer closes the support request: access is gone at once.
    const closed = await client.call('POST', `/v1.0/support/requests/${requestId}/close`, { token: eng.token });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', closedDateTime: expect.any(String) });
    expectGraphError(await diagnostics(eng.token, requestId, b), 403, 'Authorization_RequestDenied');
    const afterClose = await client.call('GET', `/v1.0/support/accessRequests/${accessRequestId}`, {
      token: person.tokens.a,
    });
    expect(afterClose.body).toMatchObject({ status: 'completed', endDateTime: expect.any(String) });
    const approvalAfter = await client.call('GET', `/v1.0/support/accessApprovals/${approvalId}`, {
      token: person.tokens.b,
    });
    expect(approvalAfter.body.status).toBe('completed');
    // No new access request on a closed support request.
    expectGraphError(await askAccess(eng.token, requestId, b), 400, 'badRequest');

    // 6. Each audit event only in the tenant entitled to it.
    const inA = await auditNames(a);
    const inB = await auditNames(b);
    expect(inA).toEqual(expect.arrayContaining(['Request created', 'Request approved', 'Request completed']));
    expect(inA).not.toContain('Approval approved');
    expect(inB).toEqual(expect.arrayContaining(['Approval approved', 'Approval completed']));
    expect(inB).not.toContain('Request created');
    expect(await auditNames(c)).toEqual([]);
  });

  it('refuses approval by an administrator of only one tenant (403)', async () => {
    const { a, b, c, person, accessRequest } = await pendingCrossTenantRequest();
    const id = accessRequest.id;
    // No second token at all.
    expectGraphError(await approve(person.tokens.a, id), 403, 'Authorization_RequestDenied');
    // A B administrator who is another person.
    const someoneElseInB = await client.token({
      tid: b,
      wids: [roles.globalAdministrator],
      email: 'other@fabrikam.example',
    });
    const otherPerson = await approve(person.tokens.a, id, someoneElseInB);
    expectGraphError(otherPerson, 403, 'Authorization_RequestDenied');
    expect(JSON.stringify(otherPerson.body)).toMatch(/same person/);
    // The same person, but the second token is from another tenant than the resource tenant.
    const sameInC = await client.token({ tid: c, wids: [serviceSupportAdministrator], email: person.email });
    expectGraphError(await approve(person.tokens.a, id, sameInC), 403, 'Authorization_RequestDenied');
    // A resource-tenant admin acting alone does not even see the request.
    expectGraphError(await approve(person.tokens.b, id, person.tokens.b), 404, 'ResourceNotFound');
    // An invalid second token is an authentication failure.
    expectGraphError(await approve(person.tokens.a, id, 'not-a-token'), 401, 'InvalidAuthenticationToken');

    const still = await client.call('GET', `/v1.0/support/accessRequests/${String(id)}`, { token: person.tokens.a });
    expect(still.body.status).toBe('pending');
    expect(value(await client.call('GET', '/v1.0/support/accessApprovals', { token: person.tokens.b }))).toEqual([]);
    expect(a).not.toBe(b);
  });

  it('refuses approval by a role without the support-ticket permission, e.g. Global Reader (403)', async () => {
    const { a, b, person, accessRequest } = await pendingCrossTenantRequest();
    const readerInA = await client.token({ tid: a, wids: [roles.globalReader], email: person.email });
    const readerInB = await client.token({ tid: b, wids: [roles.globalReader], email: person.email });
    // Global Reader in the resource tenant.
    expectGraphError(await approve(person.tokens.a, accessRequest.id, readerInB), 403, 'Authorization_RequestDenied');
    // Global Reader in the support request tenant.
    expectGraphError(await approve(readerInA, accessRequest.id, person.tokens.b), 403, 'Authorization_RequestDenied');
    // Directory Readers cannot manage either (the permission, not a role name, decides).
    const directoryReader = await client.token({ tid: a, wids: ['88d8e3e3-8f55-4a1e-953a-9b9898b8876b'] });
    expectGraphError(
      await client.call('GET', '/v1.0/support/accessRequests/' + String(accessRequest.id), { token: directoryReader }),
      403,
      'Authorization_RequestDenied',
    );
    // Helpdesk Administrator holds the permission too.
    const helpdesk = '729827e3-9c14-49f7-bb1b-9608f156bbb8';
    const helpdeskInB = await client.token({ tid: b, wids: [helpdesk], email: person.email.toUpperCase() });
    const approved = await approve(person.tokens.a, accessRequest.id, helpdeskInB);
    expect(approved.status).toBe(200);
  });

  it('keeps a removed approval private: the support request tenant still sees approved, then completed', async () => {
    const { a, b, eng, person, supportRequest, accessRequest } = await pendingCrossTenantRequest();
    expect((await approve(person.tokens.a, accessRequest.id, person.tokens.b)).status).toBe(200);
    const before = await client.call('GET', `/v1.0/support/accessRequests/${String(accessRequest.id)}`, {
      token: person.tokens.a,
    });
    const requestBefore = await client.call('GET', `/v1.0/support/requests/${String(supportRequest.id)}`, {
      token: person.tokens.a,
    });
    expect((await diagnostics(eng.token, supportRequest.id, b)).status).toBe(200);

    // A B administrator (not necessarily an admin of A) removes the approval.
    const bAdmin = await client.token({ tid: b, wids: [serviceSupportAdministrator] });
    const approvalId = value(await client.call('GET', '/v1.0/support/accessApprovals', { token: bAdmin }))[0].id;
    const removed = await client.call('POST', `/v1.0/support/accessApprovals/${String(approvalId)}/remove`, {
      token: bAdmin,
    });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ status: 'removed', removedBy: { userId: expect.any(String) } });
    expectGraphError(
      await client.call('POST', `/v1.0/support/accessApprovals/${String(approvalId)}/remove`, { token: bAdmin }),
      400,
      'badRequest',
    );
    // A's administrators cannot remove (nor see) it.
    expectGraphError(
      await client.call('POST', `/v1.0/support/accessApprovals/${String(approvalId)}/remove`, {
        token: person.tokens.a,
      }),
      404,
      'ResourceNotFound',
    );

    // Access ended the moment it was removed.
    expectGraphError(await diagnostics(eng.token, supportRequest.id, b), 403, 'Authorization_RequestDenied');

    // The support request tenant cannot tell: same status, same ETag, on both of its objects.
    const after = await client.call('GET', `/v1.0/support/accessRequests/${String(accessRequest.id)}`, {
      token: person.tokens.a,
    });
    expect(after.body).toEqual(before.body);
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    const requestAfter = await client.call('GET', `/v1.0/support/requests/${String(supportRequest.id)}`, {
      token: person.tokens.a,
    });
    expect(requestAfter.headers.get('etag')).toBe(requestBefore.headers.get('etag'));
    expect(await auditNames(a)).not.toContain('Approval removed');
    expect(await auditNames(b)).toContain('Approval removed');

    // Closing: A sees completed; the removed approval stays removed in B.
    const closed = await client.call('POST', `/v1.0/support/requests/${String(supportRequest.id)}/close`, {
      token: person.tokens.a,
    });
    expect(closed.status).toBe(200);
    const completed = await client.call('GET', `/v1.0/support/accessRequests/${String(accessRequest.id)}`, {
      token: person.tokens.a,
    });
    expect(completed.body.status).toBe('completed');
    const approvalNow = await client.call('GET', `/v1.0/support/accessApprovals/${String(approvalId)}`, {
      token: bAdmin,
    });
    expect(approvalNow.body.status).toBe('removed');
  });

  it('rejects, and cancels pending requests when the support request closes', async () => {
    const { a, b, eng, person, supportRequest, accessRequest } = await pendingCrossTenantRequest();
    const rejected = await client.call('POST', `/v1.0/support/accessRequests/${String(accessRequest.id)}/reject`, {
      token: person.tokens.a,
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    expectGraphError(await approve(person.tokens.a, accessRequest.id, person.tokens.b), 400, 'badRequest');

    // A second request, for A itself since diagnostics were not allowed, stays pending until the close.
    const second = await askAccess(eng.token, supportRequest.id, a);
    expect(second.status).toBe(201);
    expectGraphError(await askAccess(eng.token, supportRequest.id, a), 409, 'conflict');
    const pendingOnly = await client.call(
      'GET',
      `/v1.0/support/accessRequests?$filter=status eq 'pending'&$select=status&$count=true`,
      { token: person.tokens.a },
    );
    expect(pendingOnly.body['@odata.count']).toBe(1);
    expect(value(pendingOnly)).toEqual([
      { '@odata.type': '#microsoft.graph.supportAccessRequest', id: second.body.id, status: 'pending' },
    ]);
    expectGraphError(
      await client.call('GET', '/v1.0/support/accessRequests?$expand=x', { token: person.tokens.a }),
      400,
      'badRequest',
    );
    const closed = await client.call('POST', `/v1.0/support/requests/${String(supportRequest.id)}/close`, {
      token: person.tokens.a,
    });
    expect(closed.status).toBe(200);
    const canceled = await client.call('GET', `/v1.0/support/accessRequests/${String(second.body.id)}`, {
      token: eng.token,
    });
    expect(canceled.body.status).toBe('canceled');
    const inA = await auditNames(a);
    expect(inA).toEqual(expect.arrayContaining(['Request rejected', 'Request canceled']));
    expect(await auditNames(b)).toEqual([]);
    // Closing again changes nothing.
    const again = await client.call('POST', `/v1.0/support/requests/${String(supportRequest.id)}/close`, {
      token: eng.token,
    });
    expect(again.status).toBe(200);
    expect(again.body.closedDateTime).toBe(closed.body.closedDateTime);
  });

  it('lets the engineer read the support request tenant at once when advanced diagnostics are allowed', async () => {
    const a = randomUUID();
    const eng = await engineer();
    const person = await admin({ a });
    const filed = await fileRequest(person.tokens.a, {
      title: 'MFA prompts loop',
      description: 'Users are asked again and again.',
      category: eng.expertise,
      allowAdvancedDiagnostics: true,
    });
    expect(filed.status).toBe(201);
    const snapshot = await diagnostics(eng.token, filed.body.id, a);
    expect(snapshot.status).toBe(200);
    expect(snapshot.body).toMatchObject({ tenantId: a, accessBasis: 'advancedDiagnostics' });
    // No access request is needed (nor accepted) for that tenant.
    expectGraphError(await askAccess(eng.token, filed.body.id, a), 400, 'badRequest');
    // Another engineer is not the assigned one: the request does not exist for them.
    const other = await engineer();
    expectGraphError(await diagnostics(other.token, filed.body.id, a), 404, 'ResourceNotFound');
    expectGraphError(await askAccess(other.token, filed.body.id, randomUUID()), 404, 'ResourceNotFound');
    // A tenant user without the permission cannot file; one without any role in another tenant sees 404.
    const reader = await client.token({ tid: a, wids: [roles.globalReader] });
    expectGraphError(
      await fileRequest(reader, {
        title: 't',
        description: 'd',
        category: eng.expertise,
        allowAdvancedDiagnostics: true,
      }),
      403,
      'Authorization_RequestDenied',
    );
    const stranger = await client.token({ tid: randomUUID(), wids: [serviceSupportAdministrator] });
    expectGraphError(
      await client.call('GET', `/v1.0/support/requests/${String(filed.body.id)}`, { token: stranger }),
      404,
      'ResourceNotFound',
    );
    // The requester closes; access ends.
    expect(
      (await client.call('POST', `/v1.0/support/requests/${String(filed.body.id)}/close`, { token: person.tokens.a }))
        .status,
    ).toBe(200);
    expectGraphError(await diagnostics(eng.token, filed.body.id, a), 403, 'Authorization_RequestDenied');
  });

  it('validates bodies: unknown and read-only properties are named', async () => {
    const a = randomUUID();
    const person = await admin({ a });
    const base = { title: 't', description: 'd', category: 'x', allowAdvancedDiagnostics: false };
    const unknown = await fileRequest(person.tokens.a, { ...base, severity: 'A' });
    expectGraphError(unknown, 400, 'badRequest');
    expect(JSON.stringify(unknown.body)).toMatch(/'severity'/);
    const readOnly = await fileRequest(person.tokens.a, { ...base, status: 'closed' });
    expectGraphError(readOnly, 400, 'badRequest');
    expect(JSON.stringify(readOnly.body)).toMatch(/'status' is read-only/);
    const missing = await fileRequest(person.tokens.a, { title: 't', description: 'd', category: 'x' });
    expect(JSON.stringify(missing.body)).toMatch(/allowAdvancedDiagnostics/);
    const eng = await engineer();
    const bad = await client.call('POST', '/v1.0/support/accessRequests', {
      token: eng.token,
      body: { supportRequestId: randomUUID(), resourceTenantId: 'contoso.com', justification: 'x' },
    });
    expectGraphError(bad, 400, 'badRequest');
    expect(JSON.stringify(bad.body)).toMatch(/resourceTenantId/);
    // A non-engineer cannot create access requests at all.
    expectGraphError(await askAccess(person.tokens.a, randomUUID(), a), 403, 'Authorization_RequestDenied');
  });

  it('assigns to an engineer with matching expertise, least loaded first', async () => {
    const expertise = `Conditional Access ${randomUUID().slice(0, 8)}`;
    const first = await engineer(expertise);
    const second = await engineer(expertise);
    await engineer(`Unrelated ${randomUUID().slice(0, 8)}`);
    const [low, high] = [first.oid, second.oid].sort();
    const a = randomUUID();
    const person = await admin({ a });
    const file = async () =>
      (
        await fileRequest(person.tokens.a, {
          title: 'Policy',
          description: 'd',
          category: expertise.toUpperCase(),
          allowAdvancedDiagnostics: true,
        })
      ).body;
    const r1 = await file();
    const r2 = await file();
    expect([(r1.assignedEngineer as Body).id, (r2.assignedEngineer as Body).id]).toEqual([low, high]);
    await client.call('POST', `/v1.0/support/requests/${String(r1.id)}/close`, { token: person.tokens.a });
    const r3 = await file();
    expect((r3.assignedEngineer as Body).id).toBe(low);
    // No engineer knows the category: the request is filed, unassigned.
    const none = await fileRequest(person.tokens.a, {
      title: 't',
      description: 'd',
      category: `Nobody ${randomUUID()}`,
      allowAdvancedDiagnostics: true,
    });
    expect(none.status).toBe(201);
    expect(none.body.assignedEngineer).toBeNull();
    // The assigned engineer lists their requests; the tenant lists its own.
    const lowToken = low === first.oid ? first.token : second.token;
    const mine = value(await client.call('GET', '/v1.0/support/requests', { token: lowToken }));
    expect(mine.map((r) => r.id).sort()).toEqual([r1.id, r3.id].sort());
    const tenants = value(await client.call('GET', '/v1.0/support/requests?$count=true', { token: person.tokens.a }));
    expect(tenants).toHaveLength(4);
    // ServiceOperator manages engineers; others may not.
    const operator = await client.token({ tid: microsoftTenantId, roles: ['ServiceOperator'] });
    const listed = await client.call('GET', '/v1.0/support/engineers', { token: operator });
    expect(value(listed).find((e) => e.id === low)).toMatchObject({ openRequestCount: 1 });
    const put = await client.call('PUT', `/v1.0/support/engineers/${randomUUID()}`, {
      token: operator,
      body: { displayName: 'New engineer', expertise: ['Exchange'] },
    });
    expect(put.status).toBe(201);
    expectGraphError(
      await client.call('PUT', `/v1.0/support/engineers/${randomUUID()}`, {
        token: person.tokens.a,
        body: { displayName: 'x', expertise: ['y'] },
      }),
      403,
      'Authorization_RequestDenied',
    );
  });

  it('lets a partner file for a customer only with GDAP carrying the permission (not DAP)', async () => {
    const { partner, customer, partnerTenantId, customerTenantId } = await client.tenants();
    const eng = await engineer();
    const active = await client.activeRelationship(partner, customer, customerTenantId, {
      accessDetails: { unifiedRoles: [{ roleDefinitionId: serviceSupportAdministrator }] },
    });
    const group = randomUUID();
    const assigned = await client.call('POST', `${relationshipsUrl}/${String(active.id)}/accessAssignments`, {
      token: partner,
      body: {
        accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: [{ roleDefinitionId: serviceSupportAdministrator }] },
      },
    });
    expect(assigned.status).toBe(201);
    await client.call('GET', String(assigned.headers.get('location')), { token: partner });
    const body = {
      title: 'Customer cannot sign in',
      description: 'd',
      category: eng.expertise,
      allowAdvancedDiagnostics: true,
      customerTenantId,
    };
    const member = await client.token({ tid: partnerTenantId, groups: [group] });
    const filed = await fileRequest(member, body);
    expect(filed.status).toBe(201);
    expect(filed.body).toMatchObject({ tenantId: customerTenantId, createdBy: { tenantId: partnerTenantId } });
    // The partner user sees what it filed; so does the customer's administrator.
    expect(
      (await client.call('GET', `/v1.0/support/requests/${String(filed.body.id)}`, { token: member })).status,
    ).toBe(200);
    const customerAdmin = await client.token({ tid: customerTenantId, wids: [serviceSupportAdministrator] });
    expect(
      value(await client.call('GET', '/v1.0/support/requests', { token: customerAdmin })).map((r) => r.id),
    ).toEqual([filed.body.id]);

    // Not in the group: no GDAP access.
    const outsider = await client.token({ tid: partnerTenantId, groups: [randomUUID()] });
    const refused = await fileRequest(outsider, body);
    expectGraphError(refused, 403, 'Authorization_RequestDenied');
    expect(JSON.stringify(refused.body)).toMatch(/GDAP/);
    // DAP alone does not count.
    const dapCustomer = randomUUID();
    expect((await client.call('PUT', `/sandbox/dap/${partnerTenantId}/${dapCustomer}`)).status).toBe(200);
    const dapOnly = await fileRequest(partner, { ...body, customerTenantId: dapCustomer });
    expectGraphError(dapOnly, 403, 'Authorization_RequestDenied');
    expect(JSON.stringify(dapOnly.body)).toMatch(/DAP/);
  });

  it('expires a pending access request after 4 days with the sandbox clock, and lists it 30 days more', async () => {
    const t0 = DateTime.fromISO('2031-03-01T00:00:00Z', { zone: 'utc' });
    const setClock = async (instant: DateTime) =>
      expect((await client.call('PUT', '/sandbox/clock', { body: { now: instant.toISO() } })).status).toBe(200);
    const runJob = async () => {
      const result = await client.call('POST', '/sandbox/jobs/expireSupportAccessRequests');
      expect(result.status).toBe(200);
      return result.body as { expired: string[] };
    };
    await setClock(t0);
    const { a, b, person, accessRequest } = await pendingCrossTenantRequest();
    expect(accessRequest.expirationDateTime).toBe('2031-03-05T00:00:00.0000000Z');
    const tokensAt = async (instant: DateTime) => {
      await setClock(instant);
      return {
        a: await client.token({ tid: a, wids: [serviceSupportAdministrator], email: person.email }),
        b: await client.token({ tid: b, wids: [serviceSupportAdministrator], email: person.email }),
      };
    };
    const read = (token: string) =>
      client.call('GET', `/v1.0/support/accessRequests/${String(accessRequest.id)}`, { token });

    let tokens = await tokensAt(t0.plus({ days: 4 }).minus({ seconds: 1 }));
    expect((await runJob()).expired).not.toContain(accessRequest.id);
    expect((await read(tokens.a)).body.status).toBe('pending');

    tokens = await tokensAt(t0.plus({ days: 4 }));
    // Past its expiration it can no longer be approved, even before the timer ran.
    expectGraphError(await approve(tokens.a, accessRequest.id, tokens.b), 400, 'badRequest');
    const [first, second] = await Promise.all([runJob(), runJob()]);
    expect([...first.expired, ...second.expired].filter((id) => id === accessRequest.id)).toEqual([accessRequest.id]);
    expect((await read(tokens.a)).body).toMatchObject({
      status: 'expired',
      endDateTime: '2031-03-05T00:00:00.0000000Z',
    });
    expect((await auditNames(a)).filter((name) => name === 'Request expired')).toEqual(['Request expired']);

    // Ended items stay listed for 30 days, then only a direct read finds them.
    const listed = async (token: string) =>
      value(await client.call('GET', '/v1.0/support/accessRequests', { token })).map((item) => item.id);
    tokens = await tokensAt(t0.plus({ days: 34 }).minus({ seconds: 1 }));
    expect(await listed(tokens.a)).toContain(accessRequest.id);
    tokens = await tokensAt(t0.plus({ days: 34 }));
    expect(await listed(tokens.a)).not.toContain(accessRequest.id);
    expect((await read(tokens.a)).status).toBe(200);
    await client.call('PUT', '/sandbox/clock', { body: { now: null } });
  });
});
