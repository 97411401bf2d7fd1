import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { expectGraphError, relationshipsUrl, roles, useTestHost } from './support';

/** Access assignments, operations, delegatedAdminCustomers, DAP and effective access (SPEC §3.2–§3.4, §6). */
describe('access assignments and effective access', () => {
  const { client, host } = useTestHost();

  const assignmentsUrl = (id: unknown) => `${relationshipsUrl}/${String(id)}/accessAssignments`;
  const assign = (token: string, relationshipId: unknown, group: string, roleIds: string[]) =>
    client.call('POST', assignmentsUrl(relationshipId), {
      token,
      body: {
        accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
      },
    });
  const access = async (token: string, customerTenantId: string) =>
    (
      await client.call('GET', `/v1.0/tenantRelationships/effectiveAccess?customerTenantId=${customerTenantId}`, {
        token,
      })
    ).body;
  const twoRoles = {
    accessDetails: {
      unifiedRoles: [
        { roleDefinitionId: roles.exchangeAdministrator },
        { roleDefinitionId: roles.intuneAdministrator },
      ],
    },
  };

  it('creates, reads, updates through an operation and deletes an assignment, keeping history', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const draft = await client.createRelationship(partner, twoRoles);
    const group = randomUUID();
    expectGraphError(await assign(partner, draft.body.id, group, [roles.exchangeAdministrator]), 400, 'badRequest');

    const active = await client.activeRelationship(partner, customer, customerTenantId, twoRoles);
    const created = await assign(partner, active.id, group, [roles.exchangeAdministrator]);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      '@odata.type': '#microsoft.graph.delegatedAdminAccessAssignment',
      status: 'pending',
      accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    });
    const location = String(created.headers.get('location'));
    expect(location).toBe(`${host.url}${assignmentsUrl(active.id)}/${created.body.id}`);
    const read = await client.call('GET', location, { token: partner });
    expect(read.body.status).toBe('active');
    const etag = String(read.headers.get('etag'));

    expectGraphError(await assign(partner, active.id, group, [roles.intuneAdministrator]), 409, 'conflict');
    expectGraphError(await assign(partner, active.id, randomUUID(), [roles.globalReader]), 400, 'badRequest');

    const unchanged = await client.call('PATCH', location, {
      token: partner,
      headers: { 'if-match': etag },
      body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] } },
    });
    expect(unchanged.status).toBe(200);

    const patched = await client.call('PATCH', location, {
      token: partner,
      headers: { 'if-match': etag },
      body: twoRoles,
    });
    expect(patched.status).toBe(202);
    expect(patched.headers.get('retry-after')).toBeTruthy();
    const operation = await client.call('GET', String(patched.headers.get('location')), { token: partner });
    expect(operation.body).toMatchObject({
      operationType: 'delegatedAdminAccessAssignmentUpdate',
      status: 'succeeded',
    });
    expect(JSON.parse(String(operation.body.data))).toMatchObject({
      id: created.body.id,
      accessDetails: twoRoles.accessDetails,
    });

    const stale = await client.call('PATCH', location, {
      token: partner,
      headers: { 'if-match': etag },
      body: twoRoles,
    });
    expectGraphError(stale, 412, 'preconditionFailed');

    const current = await client.call('GET', location, { token: partner });
    const deleted = await client.call('DELETE', location, {
      token: partner,
      headers: { 'if-match': String(current.headers.get('etag')) },
    });
    expect(deleted.status).toBe(204);
    const list = await client.call<{ value: { id: string; status: string }[] }>('GET', assignmentsUrl(active.id), {
      token: partner,
    });
    expect(list.body.value).toEqual([expect.objectContaining({ id: created.body.id, status: 'deleted' })]);
    // The group is free again.
    expect((await assign(partner, active.id, group, [roles.intuneAdministrator])).status).toBe(201);

    // Customers do not see the partner's assignments.
    expect((await client.call('GET', assignmentsUrl(active.id), { token: customer })).status).toBe(404);
  });

  it('gives one 201 and one 409 to two simultaneous assignments of the same group', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const active = await client.activeRelationship(partner, customer, customerTenantId);
    const group = randomUUID();
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => assign(partner, active.id, group, [roles.exchangeAdministrator])),
    );
    expect(results.map((result) => result.status).sort()).toEqual([201, 409, 409, 409]);
    const list = await client.call<{ value: unknown[] }>('GET', assignmentsUrl(active.id), { token: partner });
    expect(list.body.value).toHaveLength(1);
  });

  it("answers the GDAP FAQ's coexistence example: DAP, DAP, none / DAP, GDAP, GDAP / none, GDAP, GDAP", async () => {
    const partnerTenantId = randomUUID();
    const gdapGroup = randomUUID();
    const adminAgent = await client.token({ tid: partnerTenantId, roles: ['AdminAgent'] });
    const customers = { dapOnly: randomUUID(), dapAndGdap: randomUUID(), gdapOnly: randomUUID() };
    for (const customerTenantId of [customers.dapAndGdap, customers.gdapOnly]) {
      const customerGa = await client.token({ tid: customerTenantId, wids: [roles.globalAdministrator] });
      const active = await client.activeRelationship(adminAgent, customerGa, customerTenantId);
      expect((await assign(adminAgent, active.id, gdapGroup, [roles.exchangeAdministrator])).status).toBe(201);
    }
    for (const customerTenantId of [customers.dapOnly, customers.dapAndGdap]) {
      expect((await client.call('PUT', `/sandbox/dap/${partnerTenantId}/${customerTenantId}`)).status).toBe(200);
    }
    const users = {
      adminAgentOnly: adminAgent,
      adminAgentInGroup: await client.token({ tid: partnerTenantId, roles: ['AdminAgent'], groups: [gdapGroup] }),
      groupOnly: await client.token({ tid: partnerTenantId, groups: [gdapGroup] }),
    };
    const answers: string[][] = [];
    for (const customerTenantId of Object.values(customers)) {
      const row: string[] = [];
      for (const token of Object.values(users))
        row.push(String((await access(token, customerTenantId)).mode).toUpperCase());
      answers.push(row);
    }
    expect(answers).toEqual([
      ['DAP', 'DAP', 'NONE'],
      ['DAP', 'GDAP', 'GDAP'],
      ['NONE', 'GDAP', 'GDAP'],
    ]);
    const gdap = await access(users.groupOnly, customers.gdapOnly);
    expect(gdap).toMatchObject({
      unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }],
      grantedBy: [expect.objectContaining({ accessContainerId: gdapGroup })],
    });
    expect(await access(users.adminAgentOnly, customers.dapOnly)).toMatchObject({
      unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }],
    });
    // Guest accounts count for GDAP, not for DAP.
    const guest = await client.token({ tid: partnerTenantId, roles: ['AdminAgent'], acct: 1 });
    expect((await access(guest, customers.dapOnly)).mode).toBe('none');

    // A ServiceOperator asks the same for any partner user.
    const operator = await client.token({ tid: randomUUID(), roles: ['ServiceOperator'] });
    const evaluated = await client.call('POST', '/v1.0/tenantRelationships/effectiveAccess/evaluate', {
      token: operator,
      body: { partnerTenantId, customerTenantId: customers.dapAndGdap, groups: [gdapGroup], roles: ['AdminAgent'] },
    });
    expect(evaluated.body).toMatchObject({ mode: 'gdap', customerTenantId: customers.dapAndGdap });
    const notOperator = await client.call('POST', '/v1.0/tenantRelationships/effectiveAccess/evaluate', {
      token: adminAgent,
      body: { partnerTenantId, customerTenantId: customers.dapAndGdap },
    });
    expectGraphError(notOperator, 403, 'Authorization_RequestDenied');
  });

  describe('effective access drops at once', () => {
    async function grantedRelationship() {
      const tenants = await client.tenants();
      const group = randomUUID();
      const active = await client.activeRelationship(
        tenants.partner,
        tenants.customer,
        tenants.customerTenantId,
        twoRoles,
      );
      const assignment = await assign(tenants.partner, active.id, group, [
        roles.exchangeAdministrator,
        roles.intuneAdministrator,
      ]);
      const user = await client.token({ tid: tenants.partnerTenantId, groups: [group] });
      expect((await access(user, tenants.customerTenantId)).mode).toBe('gdap');
      return { ...tenants, active, assignment, user };
    }

    it('after termination, with every assignment deleted', async () => {
      const { partner, active, user, customerTenantId } = await grantedRelationship();
      expect((await client.request(partner, String(active.id), 'terminate')).status).toBe(201);
      expect((await access(user, customerTenantId)).mode).toBe('none');
      const list = await client.call<{ value: { status: string }[] }>('GET', assignmentsUrl(active.id), {
        token: partner,
      });
      expect(list.body.value.map((assignment) => assignment.status)).toEqual(['deleted']);
    });

    it('after expiry', async () => {
      const tenants = await client.tenants();
      const group = randomUUID();
      const start = DateTime.fromISO('2030-01-01T00:00:00Z', { zone: 'utc' });
      await client.call('PUT', '/sandbox/clock', { body: { now: start.toISO() } });
      try {
        const partner = await client.token({ tid: tenants.partnerTenantId, roles: ['AdminAgent'] });
        const customer = await client.token({ tid: tenants.customerTenantId, wids: [roles.globalAdministrator] });
        const active = await client.activeRelationship(partner, customer, tenants.customerTenantId, {
          duration: 'P5D',
        });
        await assign(partner, active.id, group, [roles.exchangeAdministrator]);
        await client.call('PUT', '/sandbox/clock', { body: { now: start.plus({ days: 5 }).toISO() } });
        const user = await client.token({ tid: tenants.partnerTenantId, groups: [group] });
        expect((await access(user, tenants.customerTenantId)).mode).toBe('gdap');
        expect((await client.call('POST', '/sandbox/jobs/processEndDates')).body.expired).toContain(active.id);
        expect((await access(user, tenants.customerTenantId)).mode).toBe('none');
      } finally {
        await client.call('PUT', '/sandbox/clock', { body: { now: null } });
      }
    });

    it('after the customer removes roles, and an assignment left with none is deleted', async () => {
      const { partner, customer, active, user, customerTenantId, partnerTenantId } = await grantedRelationship();
      const exchangeOnlyGroup = randomUUID();
      await assign(partner, active.id, exchangeOnlyGroup, [roles.exchangeAdministrator]);
      const current = await client.call('GET', `${relationshipsUrl}/${active.id}`, { token: customer });
      const removal = await client.call('PATCH', `${relationshipsUrl}/${active.id}`, {
        token: customer,
        headers: { 'if-match': String(current.headers.get('etag')) },
        body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.intuneAdministrator }] } },
      });
      expect(removal.status).toBe(202);
      const operation = await client.call('GET', String(removal.headers.get('location')), { token: customer });
      expect(operation.body).toMatchObject({ operationType: 'delegatedAdminRelationshipUpdate', status: 'succeeded' });
      expect((await access(user, customerTenantId)).unifiedRoles).toEqual([
        { roleDefinitionId: roles.intuneAdministrator },
      ]);
      const exchangeUser = await client.token({ tid: partnerTenantId, groups: [exchangeOnlyGroup] });
      expect((await access(exchangeUser, customerTenantId)).mode).toBe('none');
      const list = await client.call<{ value: { accessContainer: { accessContainerId: string }; status: string }[] }>(
        'GET',
        assignmentsUrl(active.id),
        { token: partner },
      );
      expect(list.body.value.find((a) => a.accessContainer.accessContainerId === exchangeOnlyGroup)?.status).toBe(
        'deleted',
      );
      // Never add: the customer cannot put a role back.
      const after = await client.call('GET', `${relationshipsUrl}/${active.id}`, { token: customer });
      const adding = await client.call('PATCH', `${relationshipsUrl}/${active.id}`, {
        token: customer,
        headers: { 'if-match': String(after.headers.get('etag')) },
        body: twoRoles,
      });
      expectGraphError(adding, 400, 'badRequest');
    });

    it('after the assignment is deleted', async () => {
      const { partner, active, assignment, user, customerTenantId } = await grantedRelationship();
      const url = `${assignmentsUrl(active.id)}/${assignment.body.id}`;
      const current = await client.call('GET', url, { token: partner });
      await client.call('DELETE', url, {
        token: partner,
        headers: { 'if-match': String(current.headers.get('etag')) },
      });
      expect((await access(user, customerTenantId)).mode).toBe('none');
    });
  });

  it('lets the partner remove Global Administrator from an active relationship, after which it may auto-extend', async () => {
    const { partner, customer, customerTenantId, partnerTenantId } = await client.tenants();
    const withGa = {
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: roles.globalAdministrator },
          { roleDefinitionId: roles.exchangeAdministrator },
        ],
      },
    };
    const active = await client.activeRelationship(partner, customer, customerTenantId, withGa);
    const gaGroup = randomUUID();
    await assign(partner, active.id, gaGroup, [roles.globalAdministrator]);
    let current = await client.call('GET', `${relationshipsUrl}/${active.id}`, { token: partner });
    const otherRemoval = await client.call('PATCH', `${relationshipsUrl}/${active.id}`, {
      token: partner,
      headers: { 'if-match': String(current.headers.get('etag')) },
      body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }] } },
    });
    expectGraphError(otherRemoval, 400, 'badRequest');
    const removal = await client.call('PATCH', `${relationshipsUrl}/${active.id}`, {
      token: partner,
      headers: { 'if-match': String(current.headers.get('etag')) },
      body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] } },
    });
    expect(removal.status).toBe(202);
    expect(removal.headers.get('location')).toContain(`/operations/`);
    current = await client.call('GET', `${relationshipsUrl}/${active.id}`, { token: partner });
    expect(current.body.accessDetails).toEqual({ unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] });
    const gaUser = await client.token({ tid: partnerTenantId, groups: [gaGroup] });
    expect((await access(gaUser, customerTenantId)).mode).toBe('none');
    const extend = await client.call('PATCH', `${relationshipsUrl}/${active.id}`, {
      token: partner,
      headers: { 'if-match': String(current.headers.get('etag')) },
      body: { autoExtendDuration: 'P180D' },
    });
    expect(extend.status).toBe(200);
    expect(extend.body.autoExtendDuration).toBe('P180D');
  });

  it('lists a delegatedAdminCustomer exactly while an active relationship exists, with its service management details', async () => {
    const { partner, customer, customerTenantId } = await client.tenants();
    const customersUrl = '/v1.0/tenantRelationships/delegatedAdminCustomers';
    await client.call('PUT', `/sandbox/tenants/${customerTenantId}`, { body: { displayName: 'Fabrikam' } });
    const draft = await client.createRelationship(partner, { customer: { tenantId: customerTenantId } });
    expect((await client.call('GET', `${customersUrl}/${customerTenantId}`, { token: partner })).status).toBe(404);
    expect(draft.status).toBe(201);

    const active = await client.activeRelationship(partner, customer, customerTenantId, twoRoles);
    const list = await client.call<{ value: unknown[] }>('GET', customersUrl, { token: partner });
    expect(list.body.value).toEqual([
      {
        '@odata.type': '#microsoft.graph.delegatedAdminCustomer',
        id: customerTenantId,
        tenantId: customerTenantId,
        displayName: 'Fabrikam',
      },
    ]);
    const services = await client.call<{ value: { id: string; serviceManagementUrl: string }[] }>(
      'GET',
      `${customersUrl}/${customerTenantId}/serviceManagementDetails`,
      { token: partner },
    );
    expect(services.body.value.map((service) => service.id)).toEqual(
      expect.arrayContaining(['Exchange', 'Intune', 'M365AdminCenter']),
    );
    expect(services.body.value.every((service) => service.serviceManagementUrl.includes(customerTenantId))).toBe(true);

    await client.request(partner, String(active.id), 'terminate');
    expect((await client.call<{ value: unknown[] }>('GET', customersUrl, { token: partner })).body.value).toEqual([]);
    expect((await client.call('GET', `${customersUrl}/${customerTenantId}`, { token: partner })).status).toBe(404);
  });

  it('removes a DAP with warnings until GDAP covers Microsoft 365 and Azure with groups assigned', async () => {
    const { partner, customer, customerTenantId, partnerTenantId } = await client.tenants();
    await client.call('PUT', `/sandbox/dap/${partnerTenantId}/${customerTenantId}`);
    const removed = await client.call<{ warnings: string[] }>('DELETE', `/v1/dapRelationships/${customerTenantId}`, {
      token: partner,
    });
    expect(removed.status).toBe(200);
    expect(removed.body.warnings.join(' ')).toMatch(/Azure subscriptions, may lose access/);
    expect((await client.call('DELETE', `/v1/dapRelationships/${customerTenantId}`, { token: partner })).status).toBe(
      404,
    );

    await client.call('PUT', `/sandbox/dap/${partnerTenantId}/${customerTenantId}`);
    const active = await client.activeRelationship(partner, customer, customerTenantId, {
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalReader }] },
    });
    await assign(partner, active.id, randomUUID(), [roles.globalReader]);
    const safe = await client.call('DELETE', `/v1/dapRelationships/${customerTenantId}`, { token: partner });
    expect(safe.status).toBe(204);
  });
});
