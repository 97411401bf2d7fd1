import { randomUUID } from 'node:crypto';
import { expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/** GDAP analytics and bulk auto-extend (SPEC §9), over HTTP against storage. */
type Entity = Record<string, unknown>;
const analyticsUrl = '/v1.0/analytics/delegatedAdminRelationships';
const bulkUrl = '/v1.0/tenantRelationships/bulkAutoExtend';

describe('GDAP analytics and bulk auto-extend', () => {
  const { client } = useTestHost();

  const exchange = { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] };
  const withGlobalAdministrator = {
    unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }, { roleDefinitionId: roles.exchangeAdministrator }],
  };

  /** One partner with relationships in every interesting state. */
  async function portfolio() {
    const t = await client.tenants();
    const active = (overrides: Entity) =>
      client.activeRelationship(t.partner, t.customer, t.customerTenantId, overrides);
    const in20 = await active({ duration: 'P20D', accessDetails: exchange });
    const in45 = await active({ duration: 'P45D', accessDetails: exchange });
    const in80WithGa = await active({ duration: 'P80D', accessDetails: withGlobalAdministrator });
    const extending = await active({ duration: 'P60D', autoExtendDuration: 'P180D', accessDetails: exchange });
    const draft = expectOk(
      await client.createRelationship(t.partner, { customer: { tenantId: t.customerTenantId } }),
      201,
    ).body;
    const pending = expectOk(
      await client.createRelationship(t.partner, { customer: { tenantId: t.customerTenantId } }),
      201,
    ).body;
    expectOk(await client.request(t.partner, String(pending.id), 'lockForApproval'), 201);
    const terminated = await active({ duration: 'P30D', accessDetails: exchange });
    expectOk(await client.request(t.partner, String(terminated.id), 'terminate'), 201);
    // Only in45 grants anyone anything.
    expectOk(
      await client.call('POST', `${relationshipsUrl}/${String(in45.id)}/accessAssignments`, {
        token: t.partner,
        body: { accessContainer: { accessContainerId: randomUUID() }, accessDetails: exchange },
      }),
      201,
    );
    return { ...t, in20, in45, in80WithGa, extending, draft, pending, terminated };
  }

  it('counts relationships by status, ending windows, Global Administrator and missing assignments', async () => {
    const p = await portfolio();
    const result = expectOk(await client.call('GET', analyticsUrl, { token: p.partner }), 200);
    expect(result.body).toEqual({
      byStatus: {
        created: 1,
        approvalPending: 1,
        approved: 0,
        activating: 0,
        active: 4,
        expiring: 0,
        expired: 0,
        terminationRequested: 0,
        terminating: 0,
        terminated: 1,
      },
      // in20 ≤ 30; in45 ≤ 60; in80WithGa ≤ 90; `extending` will auto-extend and is not counted.
      endingWithinDays: { '30': 1, '60': 2, '90': 3 },
      notAutoExtendableGlobalAdministrator: 1,
      activeWithoutAccessAssignments: 3,
    });

    // A partner Global Administrator may read them too; a HelpdeskAgent may not.
    const ga = await client.token({ tid: p.partnerTenantId, wids: [roles.globalAdministrator] });
    expect(expectOk(await client.call('GET', analyticsUrl, { token: ga }), 200).body).toEqual(result.body);
    const helpdesk = await client.token({ tid: p.partnerTenantId, roles: ['HelpdeskAgent'] });
    expectGraphError(await client.call('GET', analyticsUrl, { token: helpdesk }), 403, 'Authorization_RequestDenied');
    // Another partner sees only its own (none).
    const other = await client.token({ tid: randomUUID(), roles: ['AdminAgent'] });
    expect(expectOk(await client.call('GET', analyticsUrl, { token: other }), 200).body).toMatchObject({
      byStatus: { active: 0 },
      activeWithoutAccessAssignments: 0,
    });
  });

  it('bulk auto-extends eligible relationships and reports every other one with its reason', async () => {
    const p = await portfolio();
    const stranger = await client.tenants();
    const foreign = await client.activeRelationship(stranger.partner, stranger.customer, stranger.customerTenantId);
    const missing = `${randomUUID()}-${p.partnerTenantId}`;
    const ids = [p.in20.id, p.in80WithGa.id, p.terminated.id, foreign.id, p.draft.id, p.in45.id, missing].map(String);

    const response = expectOk(
      await client.call<{ results: Entity[] }>('POST', bulkUrl, {
        token: p.partner,
        body: { relationshipIds: ids, autoExtendDuration: 'P180D' },
      }),
      200,
    );
    const results = response.body.results;
    expect(results.map((r) => [r.id, r.status])).toEqual([
      [p.in20.id, 'succeeded'],
      [p.in80WithGa.id, 'failed'],
      [p.terminated.id, 'failed'],
      [foreign.id, 'failed'],
      [p.draft.id, 'succeeded'],
      [p.in45.id, 'succeeded'],
      [missing, 'failed'],
    ]);
    expect(results[0]).not.toHaveProperty('error');
    expect(results[1].error).toEqual({ code: 'badRequest', message: expect.stringMatching(/Global Administrator/) });
    expect(results[2].error).toEqual({ code: 'badRequest', message: expect.stringMatching(/status 'terminated'/) });
    expect(results[3].error).toEqual({ code: 'ResourceNotFound', message: expect.stringMatching(/not found/) });
    expect(results[6].error).toMatchObject({ code: 'ResourceNotFound' });

    const read = async (token: string, id: unknown) =>
      (await client.call('GET', `${relationshipsUrl}/${String(id)}`, { token })).body;
    expect(await read(p.partner, p.in20.id)).toMatchObject({ autoExtendDuration: 'P180D', status: 'active' });
    expect(await read(p.partner, p.in80WithGa.id)).toMatchObject({ autoExtendDuration: 'PT0S' });
    expect(await read(stranger.partner, foreign.id)).toMatchObject({ autoExtendDuration: 'PT0S' });
    // Ending counts follow: only in80WithGa is still going to end.
    const analytics = expectOk(await client.call('GET', analyticsUrl, { token: p.partner }), 200);
    expect(analytics.body.endingWithinDays).toEqual({ '30': 0, '60': 0, '90': 1 });

    // The change went through the relationship's audit trail like a PATCH.
    const audits = await client.call<{ value: Entity[] }>('GET', '/v1.0/auditLogs/directoryAudits', {
      token: p.partner,
    });
    const touched = expectOk(audits, 200).body.value.filter((entry) =>
      (entry.targetResources as Entity[] | undefined)?.some((target) => target.id === p.in20.id),
    );
    expect(touched.some((entry) => JSON.stringify(entry).includes('P180D'))).toBe(true);

    // Back off again: PT0S succeeds for a Global Administrator relationship too.
    const off = expectOk(
      await client.call<{ results: Entity[] }>('POST', bulkUrl, {
        token: p.partner,
        body: { relationshipIds: [p.in20.id, p.in80WithGa.id], autoExtendDuration: 'PT0S' },
      }),
      200,
    );
    expect(off.body.results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('refuses more than 25 relationships, bad bodies and callers without AdminAgent', async () => {
    const t = await client.tenants();
    const ids = Array.from({ length: 26 }, () => `${randomUUID()}-${t.partnerTenantId}`);
    const tooMany = await client.call('POST', bulkUrl, {
      token: t.partner,
      body: { relationshipIds: ids, autoExtendDuration: 'P180D' },
    });
    expectGraphError(tooMany, 400, 'badRequest');
    expect(JSON.stringify(tooMany.body)).toMatch(/at most 25/);
    expectGraphError(
      await client.call('POST', bulkUrl, {
        token: t.partner,
        body: { relationshipIds: ids.slice(0, 2), autoExtendDuration: 'P90D' },
      }),
      400,
      'badRequest',
    );
    const ga = await client.token({ tid: t.partnerTenantId, wids: [roles.globalAdministrator] });
    expectGraphError(
      await client.call('POST', bulkUrl, {
        token: ga,
        body: { relationshipIds: ids.slice(0, 1), autoExtendDuration: 'P180D' },
      }),
      403,
      'Authorization_RequestDenied',
    );
  });
});
