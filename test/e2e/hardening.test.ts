import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { runDueJob } from '../../shared/app/jobs';
import { publishEvents } from '../../shared/app/maintenance';
import { armFault, disarmFaults } from '../../shared/store/faults';
import { CallResult, expectGraphError, expectOk, relationshipsUrl, roles, useTestHost } from './support';

/**
 * Issue 15's attacks and faults, over HTTP: races between assignment writes and the changes that
 * end a relationship or remove its roles, crashes between a change and its consequences, what a
 * customer may not learn from operations, and CSV cells (bad input: hostileInput.test.ts; support:
 * supportHardening.test.ts; log bounds: logBounds.test.ts; two instances: twoInstances.test.ts).
 */
describe('hardening', () => {
  const { client, host } = useTestHost();
  afterEach(() => disarmFaults());

  type Assignment = { id: string; status: string; accessDetails: { unifiedRoles: { roleDefinitionId: string }[] } };
  const twoRoles = {
    accessDetails: {
      unifiedRoles: [
        { roleDefinitionId: roles.exchangeAdministrator },
        { roleDefinitionId: roles.intuneAdministrator },
      ],
    },
  };
  const assignmentsUrl = (id: string) => `${relationshipsUrl}/${id}/accessAssignments`;
  const assign = (token: string, id: string, roleIds: string[], group = randomUUID()): Promise<CallResult> =>
    client.call('POST', assignmentsUrl(id), {
      token,
      body: {
        accessContainer: { accessContainerId: group, accessContainerType: 'securityGroup' },
        accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
      },
    });
  async function assignments(token: string, id: string): Promise<Assignment[]> {
    const all: Assignment[] = [];
    let url: string | undefined = `${assignmentsUrl(id)}?$top=300`;
    while (url) {
      const page: CallResult<{ value: Assignment[]; '@odata.nextLink'?: string }> = expectOk(
        await client.call<{ value: Assignment[]; '@odata.nextLink'?: string }>('GET', url, { token }),
        200,
      );
      all.push(...page.body.value);
      url = page.body['@odata.nextLink'];
    }
    return all;
  }

  describe('assignment writes racing the changes that end or cut a relationship', () => {
    it('leaves no active assignment of a terminated relationship (terminate vs 8 creates, 20 times)', async () => {
      for (let round = 0; round < 20; round++) {
        const { partner, customer, customerTenantId } = await client.tenants();
        const active = await client.activeRelationship(partner, customer, customerTenantId);
        const id = String(active.id);
        // The creates are spread over the terminate's own read → list → commit.
        const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        const results = await Promise.all([
          ...Array.from({ length: 8 }, async (_, n) => {
            await later(n * 2);
            return assign(partner, id, [roles.exchangeAdministrator]);
          }),
          client.request(partner, id, 'terminate'),
        ]);
        expect(results.every((result) => [201, 400].includes(result.status))).toBe(true);
        expect(results[8].status).toBe(201);
        const left = await assignments(partner, id);
        expect(left.filter((item) => item.status !== 'deleted')).toEqual([]);
      }
    });

    it('leaves no assignment holding a role the relationship lost (role removal vs 5 creates and PATCHes, 20 times)', async () => {
      for (let round = 0; round < 20; round++) {
        const { partner, customer, customerTenantId } = await client.tenants();
        const active = await client.activeRelationship(partner, customer, customerTenantId, twoRoles);
        const id = String(active.id);
        const existing = expectOk(await assign(partner, id, [roles.exchangeAdministrator]), 201);
        const url = `${assignmentsUrl(id)}/${String(existing.body.id)}`;
        const current = expectOk(await client.call('GET', url, { token: partner }), 200);
        const removal = await client.call('GET', `${relationshipsUrl}/${id}`, { token: customer });
        const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        const results = await Promise.all([
          ...Array.from({ length: 3 }, async (_, n) => {
            await later(n * 3);
            return assign(partner, id, [roles.intuneAdministrator]);
          }),
          ...Array.from({ length: 2 }, async (_, n) => {
            await later(1 + n * 3);
            return client.call('PATCH', url, {
              token: partner,
              headers: { 'if-match': String(current.headers.get('etag')) },
              body: twoRoles,
            });
          }),
          client.call('PATCH', `${relationshipsUrl}/${id}`, {
            token: customer,
            headers: { 'if-match': String(removal.headers.get('etag')) },
            body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] } },
          }),
        ]);
        expect(results[5].status).toBe(202);
        const held = (await assignments(partner, id))
          .filter((item) => item.status !== 'deleted')
          .flatMap((item) => item.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId));
        expect(held.filter((role) => role !== roles.exchangeAdministrator)).toEqual([]);
      }
    });
  });

  describe('a crash between a change and what follows it', () => {
    it('finishes a terminate of a 60-assignment relationship after the crash, with its audit entry once', async () => {
      const { partner, customer, customerTenantId, partnerTenantId } = await client.tenants();
      const active = await client.activeRelationship(partner, customer, customerTenantId);
      const id = String(active.id);
      for (let n = 0; n < 60; n++) expectOk(await assign(partner, id, [roles.exchangeAdministrator]), 201);

      // The host "dies" right after the terminate's transaction: its follow-up is not run.
      armFault('afterTransaction');
      expect((await client.request(partner, id, 'terminate')).status).toBe(500);
      disarmFaults();
      const stranded = (await assignments(partner, id)).filter((item) => item.status !== 'deleted');
      expect(stranded.length).toBeGreaterThan(0);

      // After the restart, one run of the follow-up job finishes it.
      const report = expectOk(await client.call('POST', '/sandbox/jobs/finishRelationshipChanges'), 200);
      expect(report.body.finished).toContain(id);
      expect((await assignments(partner, id)).filter((item) => item.status !== 'deleted')).toEqual([]);
      const audits = await client.call<{ value: { activityDisplayName: string; targetResources: { id: string }[] }[] }>(
        'GET',
        `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent("activityDisplayName eq 'Terminate delegated admin relationship'")}`,
        { token: await client.token({ tid: partnerTenantId, roles: ['AdminAgent'] }) },
      );
      expect(audits.body.value.filter((entry) => entry.targetResources[0].id === id)).toHaveLength(1);
    });

    it('publishes a support change’s audit entries after a crash, once', async () => {
      const tenant = randomUUID();
      const category = `c-${randomUUID()}`;
      const oid = randomUUID();
      expectOk(
        await client.call('PUT', `/sandbox/supportEngineers/${oid}`, {
          body: { displayName: 'E', expertise: [category] },
        }),
        201,
      );
      const engineer = await client.token({ tid: randomUUID(), oid, roles: ['SupportEngineer'] });
      const admin = await client.token({ tid: tenant, wids: [roles.serviceSupportAdministrator] });
      const filed = expectOk(
        await client.call('POST', '/v1.0/support/requests', {
          token: admin,
          body: { title: 't', description: 'd', category, allowAdvancedDiagnostics: false },
        }),
        201,
      );
      const requestId = String(filed.body.id);
      expectOk(
        await client.call('POST', '/v1.0/support/accessRequests', {
          token: engineer,
          body: { supportRequestId: requestId, resourceTenantId: randomUUID(), justification: 'logs' },
        }),
        201,
      );
      const canceled = async (): Promise<number> => {
        const log = await client.call<{ value: { activityDisplayName: string }[] }>(
          'GET',
          '/v1.0/auditLogs/directoryAudits?$top=50',
          { token: await client.token({ tid: tenant, wids: [roles.globalReader] }) },
        );
        return log.body.value.filter((entry) => entry.activityDisplayName === 'Request canceled').length;
      };

      // The host "dies" right after the close's transaction: its audit entries are not written.
      armFault('afterTransaction');
      expect((await client.call('POST', `/v1.0/support/requests/${requestId}/close`, { token: admin })).status).toBe(
        500,
      );
      disarmFaults();
      const read = expectOk(await client.call('GET', `/v1.0/support/requests/${requestId}`, { token: admin }), 200);
      expect(read.body.status).toBe('closed');
      expect(await canceled()).toBe(0);

      // The outbox's job (on real time, past its delay) publishes them, once however often it runs.
      await runDueJob(publishEvents, DateTime.utc().plus({ minutes: 3 }));
      await runDueJob(publishEvents, DateTime.utc().plus({ minutes: 4 }));
      expect(await canceled()).toBe(1);
    });
  });

  describe('what a customer may not learn', () => {
    it('shows the customer the operations of relationship changes only, never an assignment’s', async () => {
      const { partner, customer, customerTenantId } = await client.tenants();
      const active = await client.activeRelationship(partner, customer, customerTenantId, twoRoles);
      const id = String(active.id);
      const created = expectOk(
        await assign(partner, id, [roles.exchangeAdministrator, roles.intuneAdministrator]),
        201,
      );
      const url = `${assignmentsUrl(id)}/${String(created.body.id)}`;
      const current = await client.call('GET', url, { token: partner });
      const patched = await client.call('PATCH', url, {
        token: partner,
        headers: { 'if-match': String(current.headers.get('etag')) },
        body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] } },
      });
      const operationUrl = String(patched.headers.get('location'));
      expectOk(await client.call('GET', operationUrl, { token: partner }), 200);
      expectGraphError(await client.call('GET', operationUrl, { token: customer }), 404, 'ResourceNotFound');
      const listed = await client.call<{ value: { operationType: string }[] }>(
        'GET',
        `${relationshipsUrl}/${id}/operations`,
        {
          token: customer,
        },
      );
      expect(listed.body.value.map((item) => item.operationType)).not.toContain('delegatedAdminAccessAssignmentUpdate');
    });
  });

  describe('logs read within bounds', () => {
    it('neutralises CSV cells that start with a tab or a carriage return', async () => {
      const { partner, partnerTenantId } = await client.tenants();
      const created = expectOk(await client.createRelationship(partner, { displayName: '\t=cmd' }), 201);
      expect(created.body.displayName).toBe('\t=cmd');
      const csv = await fetch(`${host.url}/v1.0/auditLogs/directoryAudits`, {
        headers: {
          authorization: `Bearer ${await client.token({ tid: partnerTenantId, roles: ['AdminAgent'] })}`,
          accept: 'text/csv',
        },
      });
      expect(await csv.text()).toContain(`"'\t=cmd"`);
    });
  });
});
