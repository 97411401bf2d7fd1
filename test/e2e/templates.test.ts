import { randomUUID } from 'node:crypto';
import { armFault, disarmFaults } from '../../shared/store/faults';
import { Fleet, groupRoles, Json, jobsUrl, templatesUrl, waitFor } from './fleet';
import { expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * GDAP templates and hands-off onboarding (SPEC §15.1–§15.3), end to end over HTTP with the queue
 * triggers running: implied consent from DAP, approval → the template's groups with no further
 * call, rejection, reruns that create nothing, drift and its repair, a PATCH that reconciles.
 */
describe('GDAP templates', () => {
  const { client, host } = useTestHost({ runQueues: true });
  const fleet = new Fleet(client);

  const groups = [randomUUID(), randomUUID(), randomUUID()];
  const expected = new Map(groups.map((group, index) => [group, groupRoles(index)]));

  describe('templates', () => {
    it('are created with their role union, read, listed, renamed and deleted with If-Match', async () => {
      const partner = await fleet.partner();
      const created = await client.call('POST', templatesUrl, {
        token: partner.token,
        body: fleet.templateBody(groups, { displayName: 'Tier 1 helpdesk', description: 'Helpdesk roles' }),
      });
      expectOk(created, 201);
      expect(created.headers.get('location')).toMatch(new RegExp(`${templatesUrl}/${String(created.body.id)}$`));
      expect(created.headers.get('etag')).toBe(created.body['@odata.etag']);
      expect(created.body).toMatchObject({
        displayName: 'Tier 1 helpdesk',
        description: 'Helpdesk roles',
        duration: 'P730D',
        autoExtendDuration: 'PT0S',
        relationshipNamePrefix: 'TPL',
      });
      expect((created.body.unifiedRoles as Json[]).map((role) => role.roleDefinitionId)).toEqual(
        [roles.exchangeAdministrator, roles.intuneAdministrator, roles.globalReader].sort(),
      );
      const url = `${templatesUrl}/${String(created.body.id)}`;
      expect(expectOk(await client.call('GET', url, { token: partner.token }), 200).body.id).toBe(created.body.id);

      const listed = await client.call<{ value: Json[] }>(
        'GET',
        `${templatesUrl}?$filter=displayName eq 'tier 1 HELPDESK'`,
        {
          token: partner.token,
        },
      );
      expect(expectOk(listed, 200).body.value.map((t) => t.id)).toEqual([created.body.id]);

      expectGraphError(
        await client.call('POST', templatesUrl, {
          token: partner.token,
          body: fleet.templateBody(groups, { displayName: 'TIER 1 helpdesk' }),
        }),
        409,
        'conflict',
      );
      expectGraphError(
        await client.call('PATCH', url, { token: partner.token, body: { displayName: 'x' } }),
        400,
        'badRequest',
      );
      const renamed = expectOk(
        await client.call('PATCH', url, {
          token: partner.token,
          body: { displayName: 'Tier 2' },
          headers: { 'if-match': String(created.body['@odata.etag']) },
        }),
        200,
      );
      expect(renamed.body.displayName).toBe('Tier 2');
      expectGraphError(
        await client.call('DELETE', url, {
          token: partner.token,
          headers: { 'if-match': String(created.body['@odata.etag']) },
        }),
        412,
        'preconditionFailed',
      );
      expect(
        (
          await client.call('DELETE', url, {
            token: partner.token,
            headers: { 'if-match': String(renamed.body['@odata.etag']) },
          })
        ).status,
      ).toBe(204);
      expectGraphError(await client.call('GET', url, { token: partner.token }), 404, 'ResourceNotFound');
      // The old name is free again.
      await fleet.template(partner.token, groups, { displayName: 'Tier 1 helpdesk' });
    });

    it('are validated as relationships are: built-in roles only, GA cannot auto-extend, one entry per group', async () => {
      const partner = await fleet.partner();
      const post = (body: Json) => client.call('POST', templatesUrl, { token: partner.token, body });
      const withGa = fleet.templateBody([randomUUID()], {
        autoExtendDuration: 'P180D',
        accessAssignments: [
          {
            accessContainer: { accessContainerId: randomUUID() },
            accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalAdministrator }] },
          },
        ],
      });
      expectGraphError(await post(withGa), 400, 'badRequest');
      const custom = fleet.templateBody([randomUUID()]);
      ((custom.accessAssignments as Json[])[0].accessDetails as Json).unifiedRoles = [
        { roleDefinitionId: randomUUID() },
      ];
      expectGraphError(await post(custom), 400, 'badRequest');
      const group = randomUUID();
      expectGraphError(await post(fleet.templateBody([group, group])), 400, 'badRequest');
      expectGraphError(await post(fleet.templateBody([])), 400, 'badRequest');
      expectGraphError(await post(fleet.templateBody([randomUUID()], { duration: 'P3Y' })), 400, 'badRequest');
      expectGraphError(
        await post(fleet.templateBody([randomUUID()], { relationshipNamePrefix: 'much-too-long-prefix' })),
        400,
        'badRequest',
      );
      expectGraphError(await post({ ...fleet.templateBody([randomUUID()]), unifiedRoles: [] }), 400, 'badRequest');
      const reader = await client.token({ tid: partner.tenantId, roles: ['HelpdeskAgent'] });
      expectGraphError(
        await client.call('POST', templatesUrl, { token: reader, body: fleet.templateBody([randomUUID()]) }),
        403,
        'Authorization_RequestDenied',
      );
      // Another partner's template does not exist for this one.
      const other = await fleet.partner();
      const theirs = await fleet.template(other.token, [randomUUID()]);
      expectGraphError(
        await client.call('GET', `${templatesUrl}/${String(theirs.id)}`, { token: partner.token }),
        404,
        'ResourceNotFound',
      );
    });
  });

  describe('assigning customers', () => {
    it('onboards a DAP customer at once, one on approval with no further call, and fails one that rejects', async () => {
      const partner = await fleet.partner();
      const withDap = await fleet.customer();
      const approving = await fleet.customer();
      const rejecting = await fleet.customer();
      await fleet.importDap(partner.tenantId, withDap.tenantId);
      const template = await fleet.template(partner.token, groups, { relationshipNamePrefix: 'Contoso' });

      const location = await fleet.assign(partner.token, template.id, [
        withDap.tenantId,
        approving.tenantId,
        rejecting.tenantId,
      ]);
      expect(location).toMatch(new RegExp(`${jobsUrl}/[0-9a-f-]{36}$`));
      const { items } = await fleet.settledJob(partner.token, location);
      const byCustomer = new Map(items.map((item) => [item.customerTenantId, item]));

      // 1. Implied consent: active without any customer action, with the template's groups.
      const dapItem = byCustomer.get(withDap.tenantId) as Json;
      expect(dapItem).toMatchObject({ state: 'completed', attempts: 1 });
      const dapRelationship = await fleet.relationship(partner.token, dapItem.relationshipId);
      expect(dapRelationship).toMatchObject({ status: 'active', customer: { tenantId: withDap.tenantId } });
      expect(String(dapRelationship.displayName)).toMatch(/^Contoso_[0-9a-f]{8}$/);
      expect(await fleet.assignments(partner.token, dapItem.relationshipId)).toEqual(expected);

      // 2. Without DAP: locked, with its invitation link, waiting for the customer.
      const pendingItem = byCustomer.get(approving.tenantId) as Json;
      expect(pendingItem).toMatchObject({ state: 'awaitingApproval' });
      // The sandbox's invitation page, served where the assign was asked (SPEC §2.3, §17).
      expect(pendingItem.invitationUrl).toBe(`${host.url}/portal/invitations/${String(pendingItem.relationshipId)}`);
      expect(await fleet.relationship(partner.token, pendingItem.relationshipId)).toMatchObject({
        status: 'approvalPending',
      });
      expect((await fleet.job(partner.token, location)).status).toBe('running');

      // The customer approves; nothing else is called: the groups follow the approval.
      expectOk(await client.request(approving.token, String(pendingItem.relationshipId), 'approve'), 201);
      const approvedItem = await waitFor(async () => {
        const item = (await fleet.items(partner.token, location)).find(
          (each) => each.customerTenantId === approving.tenantId,
        );
        return item?.state === 'completed' ? item : undefined;
      });
      expect(approvedItem.attempts).toBe(1);
      expect(await fleet.assignments(partner.token, pendingItem.relationshipId)).toEqual(expected);

      // 3. A rejection fails the item with the reason.
      const rejectedItem = byCustomer.get(rejecting.tenantId) as Json;
      expectOk(await client.request(rejecting.token, String(rejectedItem.relationshipId), 'reject'), 201);
      const failed = await waitFor(async () => {
        const item = (await fleet.items(partner.token, location)).find(
          (each) => each.customerTenantId === rejecting.tenantId,
        );
        return item?.state === 'failed' ? item : undefined;
      });
      expect(failed.error).toEqual({ code: 'rejected', message: 'The customer rejected the relationship.' });

      const job = await fleet.job(partner.token, location);
      expect(job).toMatchObject({
        kind: 'assignTemplate',
        status: 'partiallySucceeded',
        counts: { total: 3, succeeded: 2, failed: 1, pending: 0, canceled: 0 },
        parameters: { templateId: template.id },
      });

      // Every change is the job creator's in the partner's audit log.
      const audits = await client.call<{ value: Json[] }>('GET', `/v1.0/auditLogs/directoryAudits?$top=300`, {
        token: await client.token({ tid: partner.tenantId, roles: ['AdminAgent'], wids: [roles.globalAdministrator] }),
      });
      const created = expectOk(audits, 200).body.value.filter(
        (entry) =>
          entry.activityDisplayName === 'Create access assignment' ||
          entry.activityDisplayName === 'Create delegated admin relationship',
      );
      expect(created.length).toBe(3 + 3 + 3);
      for (const entry of created) expect((entry.initiatedBy as Json).user).toMatchObject({ id: partner.userId });

      // A rerun of the same assign creates nothing new: same relationships, same assignments.
      const before = await fleet.partnerRelationships(partner.token);
      const rerun = await fleet.assign(partner.token, template.id, [withDap.tenantId, approving.tenantId]);
      const again = await fleet.settledJob(partner.token, rerun);
      expect(again.items.map((item) => [item.state, item.relationshipId])).toEqual([
        ['completed', dapItem.relationshipId],
        ['completed', pendingItem.relationshipId],
      ]);
      expect((await fleet.partnerRelationships(partner.token)).map((r) => r.id).sort()).toEqual(
        before.map((r) => r.id).sort(),
      );
      expect(await fleet.assignments(partner.token, dapItem.relationshipId)).toEqual(expected);
    });

    it('continues an onboarding whose approval crashed right after it was stored, by the follow-up’s job', async () => {
      const partner = await fleet.partner();
      const customer = await fleet.customer();
      const template = await fleet.template(partner.token, groups);
      const location = await fleet.assign(partner.token, template.id, [customer.tenantId]);
      const [waiting] = (await fleet.settledJob(partner.token, location)).items;
      expect(waiting.state).toBe('awaitingApproval');

      // The approval is stored; the process dies before its follow-up hands the item to the queue.
      armFault('afterTransaction');
      try {
        expect((await client.request(customer.token, String(waiting.relationshipId), 'approve')).status).toBe(500);
      } finally {
        disarmFaults();
      }
      expect((await fleet.relationship(partner.token, waiting.relationshipId)).status).toBe('active');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await fleet.items(partner.token, location))[0].state).toBe('awaitingApproval');

      // The follow-up's due entry was written before the transaction: its job's run continues the item.
      expectOk(await client.call('POST', '/sandbox/jobs/continueTemplateOnboarding'), 200);
      const done = await waitFor(async () => {
        const [item] = await fleet.items(partner.token, location);
        return item.state === 'completed' ? item : undefined;
      });
      expect(done).toMatchObject({ relationshipId: waiting.relationshipId, attempts: 1 });
      expect(await fleet.assignments(partner.token, waiting.relationshipId)).toEqual(expected);
    });

    it('shows drift and repairs it, and a template PATCH reconciles every relationship made from it', async () => {
      const partner = await fleet.partner();
      const customers = [await fleet.customer(), await fleet.customer()];
      for (const customer of customers) await fleet.importDap(partner.tenantId, customer.tenantId);
      const template = await fleet.template(partner.token, groups);
      const { items } = await fleet.settledJob(
        partner.token,
        await fleet.assign(
          partner.token,
          template.id,
          customers.map((c) => c.tenantId),
        ),
      );
      const relationshipId = String(items[0].relationshipId);
      const url = `${relationshipsUrl}/${relationshipId}/accessAssignments`;

      // Drift: one group removed by hand, another's roles changed, a group nobody asked for added.
      const live = expectOk(await client.call<{ value: Json[] }>('GET', url, { token: partner.token }), 200).body.value;
      const byGroup = new Map(live.map((a) => [(a.accessContainer as Json).accessContainerId, a]));
      const removed = byGroup.get(groups[0]) as Json;
      expect(
        (
          await client.call('DELETE', `${url}/${String(removed.id)}`, {
            token: partner.token,
            headers: { 'if-match': '*' },
          })
        ).status,
      ).toBe(204);
      const changed = byGroup.get(groups[1]) as Json;
      expectOk(
        await client.call('PATCH', `${url}/${String(changed.id)}`, {
          token: partner.token,
          headers: { 'if-match': '*' },
          body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalReader }] } },
        }),
        202,
      );
      const stranger = randomUUID();
      expectOk(
        await client.call('POST', url, {
          token: partner.token,
          body: {
            accessContainer: { accessContainerId: stranger },
            accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.globalReader }] },
          },
        }),
        201,
      );

      const drift = expectOk(
        await client.call<{ value: Json[] }>('GET', `${templatesUrl}/${String(template.id)}/customers`, {
          token: partner.token,
        }),
        200,
      ).body.value;
      expect(drift).toHaveLength(2);
      const drifted = drift.find((row) => row.relationshipId === relationshipId) as Json;
      expect(drifted).toMatchObject({
        customerTenantId: items[0].customerTenantId,
        relationshipStatus: 'active',
        state: 'active',
      });
      expect(drifted.drift).toEqual({
        missing: [{ accessContainerId: groups[0], unifiedRoles: groupRoles(0) }],
        extra: [{ accessContainerId: stranger, unifiedRoles: [roles.globalReader] }],
        changed: [{ accessContainerId: groups[1], expected: groupRoles(1), actual: [roles.globalReader] }],
        rolesNotInRelationship: [],
      });
      const clean = drift.find((row) => row.relationshipId !== relationshipId) as Json;
      expect(clean.drift).toEqual({ missing: [], extra: [], changed: [], rolesNotInRelationship: [] });

      const repair = expectOk(
        await client.call('POST', `${templatesUrl}/${String(template.id)}/reconcile`, { token: partner.token }),
        202,
      );
      const repaired = await fleet.settledJob(partner.token, String(repair.headers.get('location')));
      expect(repaired.items.filter((item) => item.state !== 'completed')).toEqual([]);
      expect(repaired.job).toMatchObject({
        kind: 'reconcileTemplate',
        status: 'succeeded',
        counts: { total: 2, succeeded: 2 },
      });
      expect(await fleet.assignments(partner.token, relationshipId)).toEqual(expected);

      // A PATCH adding a group and dropping one reconciles both relationships.
      const current = expectOk(
        await client.call('GET', `${templatesUrl}/${String(template.id)}`, { token: partner.token }),
        200,
      );
      const added = randomUUID();
      const nextGroups = [groups[1], groups[2], added];
      const patched = await client.call('PATCH', `${templatesUrl}/${String(template.id)}`, {
        token: partner.token,
        headers: { 'if-match': String(current.body['@odata.etag']) },
        body: { accessAssignments: fleet.templateBody(nextGroups).accessAssignments as Json[] },
      });
      expectOk(patched, 200);
      const reconcile = String(patched.headers.get('operation-location'));
      expect(reconcile).toContain(jobsUrl);
      const done = await fleet.settledJob(partner.token, reconcile);
      expect(done.job).toMatchObject({ status: 'succeeded', counts: { total: 2, succeeded: 2 } });
      const want = new Map(nextGroups.map((group, index) => [group, groupRoles(index)]));
      for (const item of items) expect(await fleet.assignments(partner.token, item.relationshipId)).toEqual(want);
    });

    it('reports roles a relationship lacks, and renews it from the template on request', async () => {
      const partner = await fleet.partner();
      const customer = await fleet.customer();
      await fleet.importDap(partner.tenantId, customer.tenantId);
      const template = await fleet.template(partner.token, [groups[0]]);
      const first = await fleet.settledJob(
        partner.token,
        await fleet.assign(partner.token, template.id, [customer.tenantId]),
      );
      const oldId = first.items[0].relationshipId;

      // A new group with a role the active relationship does not have: it cannot be added to it.
      const current = expectOk(
        await client.call('GET', `${templatesUrl}/${String(template.id)}`, { token: partner.token }),
        200,
      );
      const wider = fleet.templateBody([groups[0], groups[1]]).accessAssignments as Json[];
      const patched = await client.call('PATCH', `${templatesUrl}/${String(template.id)}`, {
        token: partner.token,
        headers: { 'if-match': String(current.body['@odata.etag']) },
        body: { accessAssignments: wider },
      });
      const reconciled = await fleet.settledJob(
        partner.token,
        String(expectOk(patched, 200).headers.get('operation-location')),
      );
      expect(reconciled.items[0].state).toBe('completed');
      expect(String((reconciled.items[0].warnings as string[])[0])).toContain(roles.intuneAdministrator);
      const drift = expectOk(
        await client.call<{ value: Json[] }>('GET', `${templatesUrl}/${String(template.id)}/customers`, {
          token: partner.token,
        }),
        200,
      ).body.value[0].drift as Json;
      expect(drift.rolesNotInRelationship).toEqual([roles.intuneAdministrator]);
      // Group 1's other role (Global Reader) is in the relationship: it is assigned with that alone.
      expect(await fleet.assignments(partner.token, oldId)).toEqual(
        new Map([
          [groups[0], groupRoles(0)],
          [groups[1], [roles.globalReader]],
        ]),
      );

      // renew: a new relationship from the template (implied consent here), then the old one ends.
      const renewed = await fleet.settledJob(
        partner.token,
        await fleet.assign(partner.token, template.id, [customer.tenantId], { renew: true }),
      );
      const newId = renewed.items[0].relationshipId;
      expect(renewed.items[0].state).toBe('completed');
      expect(newId).not.toBe(oldId);
      expect((await fleet.relationship(partner.token, newId)).status).toBe('active');
      expect(await fleet.assignments(partner.token, newId)).toEqual(
        new Map([
          [groups[0], groupRoles(0)],
          [groups[1], groupRoles(1)],
        ]),
      );
      expect((await fleet.relationship(partner.token, oldId)).status).toBe('terminated');
    });

    it('assigns a template of 40 groups, more than one transaction holds, on both onboarding paths', async () => {
      const partner = await fleet.partner();
      const withDap = await fleet.customer();
      const approving = await fleet.customer();
      await fleet.importDap(partner.tenantId, withDap.tenantId);
      const many = Array.from({ length: 40 }, () => randomUUID());
      const wanted = new Map(many.map((group, index) => [group, groupRoles(index)]));
      const template = await fleet.template(partner.token, many);
      const location = await fleet.assign(partner.token, template.id, [withDap.tenantId, approving.tenantId]);
      const { items } = await fleet.settledJob(partner.token, location);
      expect(items.map((item) => item.state)).toEqual(['completed', 'awaitingApproval']);
      expect(await fleet.assignments(partner.token, items[0].relationshipId)).toEqual(wanted);

      expectOk(await client.request(approving.token, String(items[1].relationshipId), 'approve'), 201);
      await waitFor(async () =>
        (await fleet.items(partner.token, location))[1].state === 'completed' ? true : undefined,
      );
      expect(await fleet.assignments(partner.token, items[1].relationshipId)).toEqual(wanted);
      expect((await fleet.job(partner.token, location)).counts).toMatchObject({ succeeded: 2, failed: 0 });
    });

    it('assigns 60 customers in one call', async () => {
      const partner = await fleet.partner();
      const customers = Array.from({ length: 60 }, () => randomUUID());
      for (const customer of customers.slice(0, 30)) await fleet.importDap(partner.tenantId, customer);
      const template = await fleet.template(partner.token, groups);
      const { job, items } = await fleet.settledJob(
        partner.token,
        await fleet.assign(partner.token, template.id, customers),
        60_000,
      );
      expect(job).toMatchObject({ status: 'running', counts: { total: 60, succeeded: 30, pending: 30, failed: 0 } });
      expect(items.map((item) => item.customerTenantId)).toEqual(customers);
      expect(items.map((item) => item.id)).toEqual(customers.map((_, index) => String(index).padStart(5, '0')));
      const relationships = await fleet.partnerRelationships(partner.token);
      expect(relationships).toHaveLength(60);
      expect(new Set(relationships.map((r) => (r.customer as Json).tenantId))).toEqual(new Set(customers));
      const awaiting = await fleet.items(
        partner.token,
        job.id ? `${jobsUrl}/${String(job.id)}` : '',
        "?$filter=state eq 'awaitingApproval'",
      );
      expect(awaiting.map((item) => item.customerTenantId)).toEqual(customers.slice(30));
    });

    it('keeps a customer to one template, frees it on unassign or on the template’s deletion', async () => {
      const partner = await fleet.partner();
      const customer = await fleet.customer();
      await fleet.importDap(partner.tenantId, customer.tenantId);
      const first = await fleet.template(partner.token, [groups[0]]);
      const second = await fleet.template(partner.token, [groups[1]]);
      await fleet.settledJob(partner.token, await fleet.assign(partner.token, first.id, [customer.tenantId]));

      const conflicting = await fleet.settledJob(
        partner.token,
        await fleet.assign(partner.token, second.id, [customer.tenantId]),
      );
      expect(conflicting.items[0]).toMatchObject({ state: 'failed', error: { code: 'conflict' } });
      expect(conflicting.job.status).toBe('failed');

      const unassigned = expectOk(
        await client.call('POST', `${templatesUrl}/${String(first.id)}/unassign`, {
          token: partner.token,
          body: { customerTenantIds: [customer.tenantId, randomUUID()] },
        }),
        200,
      ).body;
      expect((unassigned.results as Json[]).map((r) => r.status)).toEqual(['succeeded', 'failed']);
      // Unassigning ends nothing.
      const relationships = await fleet.partnerRelationships(partner.token);
      expect(relationships.map((r) => r.status)).toEqual(['active']);

      // The failed item, retried, now succeeds with a second relationship (the second template's).
      expectOk(
        await client.call('POST', `${conflicting.job.id ? `${jobsUrl}/${String(conflicting.job.id)}` : ''}/retry`, {
          token: partner.token,
        }),
        202,
      );
      const retried = await fleet.settledJob(partner.token, `${jobsUrl}/${String(conflicting.job.id)}`);
      expect(retried.items[0]).toMatchObject({ state: 'completed', attempts: 2 });
      expect(await fleet.assignments(partner.token, retried.items[0].relationshipId)).toEqual(
        new Map([[groups[1], groupRoles(0)]]),
      );
    });

    it('refuses bad assign bodies, and accepts bulk bodies up to 1 MiB on these routes only', async () => {
      const partner = await fleet.partner();
      const template = await fleet.template(partner.token, [groups[0]]);
      const assign = (body: unknown) =>
        client.call('POST', `${templatesUrl}/${String(template.id)}/assign`, { token: partner.token, body });
      const id = randomUUID();
      expectGraphError(await assign({ customerTenantIds: [] }), 400, 'badRequest');
      expectGraphError(await assign({ customerTenantIds: [id, id.toUpperCase()] }), 400, 'badRequest');
      expectGraphError(await assign({ customerTenantIds: ['not-a-guid'] }), 400, 'badRequest');
      expectGraphError(
        await assign({ customerTenantIds: Array.from({ length: 10_001 }, () => randomUUID()) }),
        400,
        'badRequest',
      );
      expectGraphError(await assign({ customerTenantIds: [id], extra: true }), 400, 'badRequest');
      // 10,000 ids are ~390 KiB: over the 64 KiB of other routes, under this one's 1 MiB.
      const big = { customerTenantIds: Array.from({ length: 10_000 }, () => randomUUID()) };
      expect(JSON.stringify(big).length).toBeGreaterThan(64 * 1024);
      // Read in full and judged on its content (a repeated id), not refused for its size.
      const repeated = { customerTenantIds: [...big.customerTenantIds.slice(1), big.customerTenantIds[1]] };
      expectGraphError(await assign(repeated), 400, 'badRequest');
      const tooBig = { customerTenantIds: big.customerTenantIds, padding: 'x'.repeat(1024 * 1024) };
      expectGraphError(await assign(tooBig), 413, 'payloadTooLarge');
      expectGraphError(
        await client.call('POST', relationshipsUrl, {
          token: partner.token,
          body: { displayName: 'x'.repeat(70 * 1024) },
        }),
        413,
        'payloadTooLarge',
      );
      const readerToken = await client.token({ tid: partner.tenantId, roles: ['HelpdeskAgent'] });
      expectGraphError(
        await client.call('POST', `${templatesUrl}/${String(template.id)}/assign`, {
          token: readerToken,
          body: { customerTenantIds: [id] },
        }),
        403,
        'Authorization_RequestDenied',
      );
    });
  });
});
