import { randomUUID } from 'node:crypto';
import { poisonReason } from '../../shared/app/gdapJobs';
import { GdapJob, newItems } from '../../shared/domain/gdapJobs';
import { insertJob } from '../../shared/store/gdapJobs';
import { sendQueueMessage } from '../../shared/store/queues';
import { Fleet, Json, jobsUrl, templatesUrl, waitFor } from './fleet';
import { expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * Bulk jobs (SPEC §15.4): the fleet kinds through the API's own rules, cancel, retry, CSV export,
 * account-state gates, the 90-day expiry of an onboarding, and poison messages ending as failed items.
 */
describe('GDAP jobs', () => {
  const { client, host } = useTestHost({ runQueues: true });
  const fleet = new Fleet(client);

  const postJob = async (token: string, body: Json): Promise<string> =>
    String(expectOk(await client.call('POST', jobsUrl, { token, body }), 202).headers.get('location'));

  it('removes Global Administrator then switches auto-extend on, sets auto-extend, and terminates', async () => {
    const partner = await fleet.partner();
    const customers = [await fleet.customer(), await fleet.customer()];
    const withGa = [];
    for (const customer of customers) {
      withGa.push(
        await client.activeRelationship(partner.token, customer.token, customer.tenantId, {
          accessDetails: {
            unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }, { roleDefinitionId: roles.globalReader }],
          },
        }),
      );
    }
    const ids = withGa.map((r) => String(r.id));
    const removal = await fleet.settledJob(
      partner.token,
      await postJob(partner.token, { kind: 'removeGlobalAdministrator', relationshipIds: ids, thenAutoExtend: true }),
    );
    expect(removal.job).toMatchObject({
      kind: 'removeGlobalAdministrator',
      status: 'succeeded',
      parameters: { thenAutoExtend: true },
    });
    for (const id of ids) {
      const relationship = await fleet.relationship(partner.token, id);
      expect(relationship.autoExtendDuration).toBe('P180D');
      expect((relationship.accessDetails as { unifiedRoles: Json[] }).unifiedRoles).toEqual([
        { roleDefinitionId: roles.globalReader },
      ]);
      // The 202 path of SPEC §2.2 left its operation behind.
      const operations = expectOk(
        await client.call<{ value: Json[] }>('GET', `${relationshipsUrl}/${id}/operations`, { token: partner.token }),
        200,
      );
      expect(operations.body.value.map((op) => op.operationType)).toEqual(['delegatedAdminRelationshipUpdate']);
    }

    const off = await fleet.settledJob(
      partner.token,
      await postJob(partner.token, { kind: 'setAutoExtend', relationshipIds: ids, autoExtendDuration: 'PT0S' }),
    );
    expect(off.job.status).toBe('succeeded');
    expect((await fleet.relationship(partner.token, ids[0])).autoExtendDuration).toBe('PT0S');

    const unknown = `${randomUUID()}-${partner.tenantId}`;
    const ended = await fleet.settledJob(
      partner.token,
      await postJob(partner.token, { kind: 'terminate', relationshipIds: [...ids, unknown] }),
    );
    expect(ended.job).toMatchObject({ status: 'partiallySucceeded', counts: { total: 3, succeeded: 2, failed: 1 } });
    expect(ended.items[2]).toMatchObject({ state: 'failed', error: { code: 'ResourceNotFound' } });
    for (const id of ids) expect((await fleet.relationship(partner.token, id)).status).toBe('terminated');

    // A terminate rerun finds the work done and changes nothing.
    const again = await fleet.settledJob(
      partner.token,
      await postJob(partner.token, { kind: 'terminate', relationshipIds: ids }),
    );
    expect(again.job.status).toBe('succeeded');

    // Every change the jobs made is in the partner's audit log, initiated by the jobs' creator.
    const terminated = await fleet.audits(partner.tenantId, 'Terminate delegated admin relationship');
    expect(terminated.map((entry) => (entry.targetResources as Json[])[0].id).sort()).toEqual([...ids].sort());
    const updates = await fleet.audits(partner.tenantId, 'Update delegated admin relationship');
    // Per relationship: GA removed, auto-extend on (removeGlobalAdministrator), auto-extend off (setAutoExtend).
    expect(updates).toHaveLength(ids.length * 3);
    for (const entry of [...terminated, ...updates]) {
      expect((entry.initiatedBy as Json).user).toMatchObject({ id: partner.userId });
    }
  });

  it('removes DAP only after GDAP covers the customer, unless forced (with the warning)', async () => {
    const partner = await fleet.partner();
    const covered = await fleet.customer();
    const uncovered = await fleet.customer();
    for (const customer of [covered, uncovered]) await fleet.importDap(partner.tenantId, customer.tenantId);
    // The safe order: a GDAP relationship, its roles assigned to groups (a template), then DAP goes.
    const template = await fleet.template(partner.token, [randomUUID()]);
    await fleet.settledJob(partner.token, await fleet.assign(partner.token, template.id, [covered.tenantId]));

    const safe = await fleet.settledJob(
      partner.token,
      await postJob(partner.token, { kind: 'removeDap', customerTenantIds: [covered.tenantId, uncovered.tenantId] }),
    );
    expect(safe.items[0]).toMatchObject({ state: 'completed' });
    expect(safe.items[1]).toMatchObject({ state: 'failed', error: { code: 'badRequest' } });
    expect(String((safe.items[1].error as Json).message)).toContain('"force": true');
    const listed = expectOk(
      await client.call<{ value: Json[] }>('GET', '/v1/dapRelationships', { token: partner.token }),
      200,
    );
    expect(listed.body.value.map((dap) => dap.customerTenantId)).toEqual([uncovered.tenantId]);

    const forced = await fleet.settledJob(
      partner.token,
      await postJob(partner.token, { kind: 'removeDap', customerTenantIds: [uncovered.tenantId], force: true }),
    );
    expect(forced.items[0].state).toBe('completed');
    expect(String((forced.items[0].warnings as string[])[0])).toContain('may lose access');
    expect(
      expectOk(await client.call<{ value: Json[] }>('GET', '/v1/dapRelationships', { token: partner.token }), 200).body
        .value,
    ).toEqual([]);
    // Each removal is audited as the job creator's; a rerun finds nothing left to remove and completes.
    const removals = await fleet.audits(partner.tenantId, 'Remove delegated admin permissions (DAP)');
    expect(removals.map((entry) => (entry.targetResources as Json[])[0].id).sort()).toEqual(
      [covered.tenantId, uncovered.tenantId].sort(),
    );
    for (const entry of removals) expect((entry.initiatedBy as Json).user).toMatchObject({ id: partner.userId });
    const rerun = await fleet.settledJob(
      partner.token,
      await postJob(partner.token, { kind: 'removeDap', customerTenantIds: [covered.tenantId] }),
    );
    expect(rerun.items[0]).toMatchObject({
      state: 'completed',
      warnings: [expect.stringContaining('Nothing was removed')],
    });
    expect(await fleet.audits(partner.tenantId, 'Remove delegated admin permissions (DAP)')).toHaveLength(2);
  });

  it('cancels items not yet done: a later approval leaves the relationship without the groups (drift)', async () => {
    const partner = await fleet.partner();
    const customer = await fleet.customer();
    const group = randomUUID();
    const template = await fleet.template(partner.token, [group]);
    const location = await fleet.assign(partner.token, template.id, [customer.tenantId]);
    const { items } = await fleet.settledJob(partner.token, location);
    expect(items[0].state).toBe('awaitingApproval');

    expectOk(await client.call('POST', `${location}/cancel`, { token: partner.token }), 202);
    const canceled = await waitFor(async () => {
      const job = await fleet.job(partner.token, location);
      return job.status === 'canceled' ? job : undefined;
    });
    expect(canceled.counts).toMatchObject({ total: 1, canceled: 1, pending: 0 });

    expectOk(await client.request(customer.token, String(items[0].relationshipId), 'approve'), 201);
    // Nothing acts on the canceled item: the drift view shows the missing group.
    const row = await waitFor(async () => {
      const rows = expectOk(
        await client.call<{ value: Json[] }>('GET', `${templatesUrl}/${String(template.id)}/customers`, {
          token: partner.token,
        }),
        200,
      ).body.value;
      return rows[0]?.state === 'active' ? rows[0] : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await fleet.assignments(partner.token, items[0].relationshipId)).toEqual(new Map());
    expect((row.drift as Json).missing).toEqual([{ accessContainerId: group, unifiedRoles: expect.any(Array) }]);
    expect((await fleet.items(partner.token, location))[0].state).toBe('canceled');
    expectGraphError(await client.call('POST', `${location}/retry`, { token: partner.token }), 400, 'badRequest');
  });

  it('fails an onboarding the customer lets expire after 90 days (the sandbox clock)', async () => {
    const partner = await fleet.partner();
    const customer = await fleet.customer();
    const template = await fleet.template(partner.token, [randomUUID()]);
    const location = await fleet.assign(partner.token, template.id, [customer.tenantId]);
    await fleet.settledJob(partner.token, location);
    const clock = expectOk(await client.call('GET', '/sandbox/clock'), 200).body;
    try {
      expectOk(await client.call('POST', '/sandbox/clock/advance', { body: { by: 'P91D' } }), 200);
      expectOk(await client.call('POST', '/sandbox/jobs/expirePendingRequests'), 200);
      const failed = await waitFor(async () => {
        const item = (await fleet.items(partner.token, location))[0];
        return item.state === 'failed' ? item : undefined;
      });
      expect(failed.error).toMatchObject({ code: 'expired' });
    } finally {
      expectOk(await client.call('PUT', '/sandbox/clock', { body: { now: clock.now } }), 200);
    }
  });

  it('exports items as CSV, pages them, and filters them on state', async () => {
    const partner = await fleet.partner();
    const template = await fleet.template(partner.token, [randomUUID()]);
    const customers = [randomUUID(), randomUUID(), randomUUID()];
    await fleet.importDap(partner.tenantId, customers[0]);
    const location = await fleet.assign(partner.token, template.id, customers);
    await fleet.settledJob(partner.token, location);

    const csv = await fetch(`${host.url}${new URL(location).pathname}/items`, {
      headers: { authorization: `Bearer ${partner.token}`, accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,customerTenantId,relationshipId,state,attempts,invitationUrl,warnings,errorCode,errorMessage',
    );
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain(`"${customers[1]}"`);
    expect(lines[2]).toContain('"awaitingApproval"');
    expect(lines[2]).toContain('/portal/invitations/');

    const page = expectOk(
      await client.call<{ value: Json[]; '@odata.nextLink': string }>('GET', `${location}/items?$top=2`, {
        token: partner.token,
      }),
      200,
    );
    expect(page.body.value.map((item) => item.id)).toEqual(['00000', '00001']);
    expect(await fleet.items(partner.token, location, '?$top=2')).toHaveLength(3);
    expect(
      (await fleet.items(partner.token, location, "?$filter=state eq 'completed'")).map((i) => i.customerTenantId),
    ).toEqual([customers[0]]);
    expectGraphError(
      await client.call('GET', `${location}/items?$filter=colour eq 'red'`, { token: partner.token }),
      400,
      'badRequest',
    );

    const jobs = expectOk(await client.call<{ value: Json[] }>('GET', jobsUrl, { token: partner.token }), 200).body
      .value;
    expect(jobs.map((job) => job.id)).toEqual([new URL(location).pathname.split('/').pop()]);
    const reader = await client.token({ tid: partner.tenantId, roles: ['HelpdeskAgent'] });
    expectOk(await client.call('GET', location, { token: reader }), 200);
    expectGraphError(
      await client.call('POST', `${location}/cancel`, { token: reader }),
      403,
      'Authorization_RequestDenied',
    );
    const stranger = await fleet.partner();
    expectGraphError(await client.call('GET', location, { token: stranger.token }), 404, 'ResourceNotFound');
  });

  it('applies the account-state gates: restricted reconciles but makes nothing new, suspended does nothing', async () => {
    const partner = await fleet.partner();
    const onboarded = await fleet.customer();
    const fresh = await fleet.customer();
    for (const customer of [onboarded, fresh]) await fleet.importDap(partner.tenantId, customer.tenantId);
    const template = await fleet.template(partner.token, [randomUUID()]);
    await fleet.settledJob(partner.token, await fleet.assign(partner.token, template.id, [onboarded.tenantId]));
    const setState = async (state: string) =>
      expectOk(
        await client.call('PUT', `/sandbox/partners/${partner.tenantId}`, {
          body: { partnerTypes: ['directBill'], programStates: { directBill: state } },
        }),
        200,
      );

    await setState('restricted');
    const restricted = await fleet.settledJob(
      partner.token,
      await fleet.assign(partner.token, template.id, [onboarded.tenantId, fresh.tenantId]),
    );
    expect(restricted.items.map((item) => item.state)).toEqual(['completed', 'failed']);
    expect(restricted.items[1].error).toMatchObject({ code: 'Authorization_RequestDenied' });

    await setState('suspended');
    const suspended = await fleet.settledJob(
      partner.token,
      expectOk(
        await client.call('POST', `${templatesUrl}/${String(template.id)}/reconcile`, { token: partner.token }),
        202,
      ).headers.get('location') as string,
    );
    expect(suspended.items.map((item) => item.state)).toEqual(['failed', 'failed']);
    const onboardedItem = suspended.items.find((item) => item.customerTenantId === onboarded.tenantId) as Json;
    expect(onboardedItem.error).toMatchObject({ code: 'Authorization_RequestDenied' });
    const assign = await fleet.settledJob(
      partner.token,
      await fleet.assign(partner.token, template.id, [fresh.tenantId]),
    );
    expect(assign.items[0]).toMatchObject({ state: 'failed', error: { code: 'Authorization_RequestDenied' } });
  });

  it('ends the items of a poisoned message as failed, with the reason', async () => {
    const partner = await fleet.partner();
    // A job whose chunk message is lost to the poison queue (stored here without its messages).
    const jobId = randomUUID();
    const job: GdapJob = {
      id: jobId,
      partnerTenantId: partner.tenantId,
      kind: 'terminate',
      createdDateTime: '2026-01-01T00:00:00.0000000Z',
      parameters: {},
      createdBy: { tenantId: partner.tenantId, userId: partner.userId },
      total: 2,
      canceledDateTime: null,
      baseUrl: host.url,
    };
    const targets = [`${randomUUID()}-${partner.tenantId}`, `${randomUUID()}-${partner.tenantId}`];
    await insertJob(job, newItems(jobId, targets, 'relationship', job.createdDateTime));
    // What the queue listener does after a message's fifth failed delivery: the poison queue's handler runs.
    await sendQueueMessage('gdap-jobs-poison', { type: 'chunk', partnerTenantId: partner.tenantId, jobId, chunk: 0 });
    const location = `${jobsUrl}/${jobId}`;
    const failed = await waitFor(async () => {
      const items = await fleet.items(partner.token, location);
      return items.every((item) => item.state === 'failed') ? items : undefined;
    });
    expect(failed.map((item) => item.error)).toEqual([
      { code: 'internalServerError', message: poisonReason },
      { code: 'internalServerError', message: poisonReason },
    ]);
    expect((await fleet.job(partner.token, location)).status).toBe('failed');
  });
});
