import { odata } from '@azure/data-tables';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { DateTime, Duration } from 'luxon';
import { runDueJob } from '../../shared/app/jobs';
import { publishEvents } from '../../shared/app/maintenance';
import { expireSupportAccessRequests } from '../../shared/app/support';
import { jobIds } from '../../shared/domain/jobs';
import {
  approveAccessRequest,
  closeSupportRequest,
  newSupportRequest,
  openAccessRequest,
  removeApproval,
  CaseChange,
  SupportActor,
  SupportRequest,
} from '../../shared/domain/support';
import { planCaseChange, planNewSupportRequest } from '../../shared/domain/supportChanges';
import { writeDueEntries } from '../../shared/store/dueIndex';
import { armFault, disarmFaults } from '../../shared/store/faults';
import { toGraphDateTime } from '../../shared/domain/time';
import { HttpRegistration } from '../../shared/registrations';
import { caseValue, commitSupportChange, readCase, StoredCase } from '../../shared/store/support';
import { tenantPartitionRange } from '../../shared/store/rows';
import { tableClient, tableNames } from '../../shared/store/tables';
import { roles } from '../fixtures';

/**
 * The support case repository on a real Azurite: multi-row changes are one ETag-conditional
 * transaction, so racing commands (approve vs close, remove vs close, two approvals) end with one
 * winner, and audit entries a crash left unpublished are published by the outbox's job.
 */
const t0 = DateTime.fromISO('2026-05-01T00:00:00Z', { zone: 'utc' });
const ssa = roles.serviceSupportAdministrator;

/** Stores what a rule decided for a case as read, as the use cases do. */
function commitCase(read: StoredCase, decided: CaseChange): Promise<StoredCase> {
  const context = { changeId: randomUUID(), at: toGraphDateTime(t0), initiatedBy: { kind: 'system' as const } };
  return commitSupportChange(read, planCaseChange(read, decided, context), context.changeId);
}

async function insertSupportRequest(request: SupportRequest): Promise<void> {
  await commitSupportChange(undefined, planNewSupportRequest(request), randomUUID());
}

function world() {
  const a = randomUUID();
  const b = randomUUID();
  const email = `admin-${randomUUID().slice(0, 6)}@contoso.example`;
  const engineer = {
    id: randomUUID(),
    tenantId: null,
    displayName: 'Eng',
    expertise: ['Identity'],
    createdDateTime: '',
    lastModifiedDateTime: '',
  };
  const engineerActor: SupportActor = { tenantId: randomUUID(), userId: engineer.id, roleIds: [], isEngineer: true };
  const adminA: SupportActor = { tenantId: a, userId: randomUUID(), roleIds: [ssa], isEngineer: false, email };
  const adminB: SupportActor = { tenantId: b, userId: randomUUID(), roleIds: [ssa], isEngineer: false, email };
  return { a, b, engineer, engineerActor, adminA, adminB };
}

async function pendingCase() {
  const w = world();
  const request = newSupportRequest(
    { title: 't', description: 'd', category: 'Identity', allowAdvancedDiagnostics: false, resourceTenantId: w.b },
    { id: randomUUID(), tenantId: w.a, actor: w.adminA, engineer: w.engineer },
    t0,
  );
  await insertSupportRequest(request);
  const read = (await readCase(request.id)) as StoredCase;
  const change = openAccessRequest(
    caseValue(read),
    { supportRequestId: request.id, resourceTenantId: w.b, justification: 'why' },
    w.engineerActor,
    { guid: randomUUID(), pendingExpiry: Duration.fromISO('P4D') },
    t0,
  );
  const stored = await commitCase(read, change);
  return { ...w, request, accessRequestId: change.accessRequests[0].id, stored };
}

async function auditNames(tenantId: string): Promise<string[]> {
  const names: string[] = [];
  const rows = tableClient(tableNames.tenants).listEntities<{ activityDisplayName: string }>({
    queryOptions: {
      filter: `${tenantPartitionRange(tenantId)} and ${odata`RowKey ge ${'aud|'} and RowKey lt ${'aud}'}`}`,
    },
  });
  for await (const row of rows) names.push(row.activityDisplayName);
  return names.sort();
}

describe('support case store', () => {
  it('lets exactly one of approve and close win when both decided on the same state', async () => {
    const { stored, accessRequestId, adminA, adminB, request, a, b } = await pendingCase();
    const at = t0.plus({ hours: 1 });
    const approve = approveAccessRequest(caseValue(stored), accessRequestId, adminA, adminB, at);
    const close = closeSupportRequest(caseValue(stored), adminA, at);
    await commitCase(stored, close);
    await expect(commitCase(stored, approve)).rejects.toMatchObject({ kind: 'stale' });

    // Decided again on fresh state, the approval is refused: the request was canceled by the close.
    const fresh = (await readCase(request.id)) as StoredCase;
    expect(() => approveAccessRequest(caseValue(fresh), accessRequestId, adminA, adminB, at)).toThrow(/canceled/);
    expect(fresh.approvals).toEqual([]);
    expect(fresh.accessRequests[0].value.status).toBe('canceled');
    expect(await auditNames(a)).toEqual(['Request canceled', 'Request created']);
    expect(await auditNames(b)).toEqual([]);
  });

  it('completes an approval that won the race against a close decided earlier', async () => {
    const { stored, accessRequestId, adminA, adminB, request, b } = await pendingCase();
    const at = t0.plus({ hours: 1 });
    const close = closeSupportRequest(caseValue(stored), adminA, at);
    await commitCase(stored, approveAccessRequest(caseValue(stored), accessRequestId, adminA, adminB, at));
    await expect(commitCase(stored, close)).rejects.toMatchObject({ kind: 'stale' });
    const fresh = (await readCase(request.id)) as StoredCase;
    await commitCase(fresh, closeSupportRequest(caseValue(fresh), adminA, at));
    const closed = (await readCase(request.id)) as StoredCase;
    expect(closed.accessRequests[0].value.status).toBe('completed');
    expect(closed.approvals.map((item) => item.value.status)).toEqual(['completed']);
    expect(await auditNames(b)).toEqual(['Approval approved', 'Approval completed']);
  });

  it('keeps removal and close from both applying to one approval', async () => {
    const { stored, accessRequestId, adminA, adminB, request } = await pendingCase();
    const at = t0.plus({ hours: 1 });
    const approved = await commitCase(
      stored,
      approveAccessRequest(caseValue(stored), accessRequestId, adminA, adminB, at),
    );
    const approvalId = approved.approvals[0].value.id;
    const remove = removeApproval(caseValue(approved), approvalId, adminB, at);
    await commitCase(approved, closeSupportRequest(caseValue(approved), adminA, at));
    await expect(commitCase(approved, remove)).rejects.toMatchObject({ kind: 'stale' });
    const fresh = (await readCase(request.id)) as StoredCase;
    expect(() => removeApproval(caseValue(fresh), approvalId, adminB, at)).toThrow(/completed/);
  });

  it('lets only one of two identical approvals through', async () => {
    const { stored, accessRequestId, adminA, adminB, request } = await pendingCase();
    const at = t0.plus({ hours: 1 });
    const change = approveAccessRequest(caseValue(stored), accessRequestId, adminA, adminB, at);
    const results = await Promise.allSettled([commitCase(stored, change), commitCase(stored, change)]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const fresh = (await readCase(request.id)) as StoredCase;
    expect(fresh.approvals).toHaveLength(1);
  });

  it('publishes the audit entries of a change a crash stopped after its transaction, once, from the outbox', async () => {
    const { stored, request, a, adminA } = await pendingCase();
    armFault('afterTransaction');
    await expect(
      commitCase(stored, closeSupportRequest(caseValue(stored), adminA, t0.plus({ hours: 1 }))),
    ).rejects.toThrow(/Simulated crash/);
    disarmFaults();
    // The close is stored; its audit entries wait in the recovery entry.
    expect(((await readCase(request.id)) as StoredCase).request.value.status).toBe('closed');
    expect(await auditNames(a)).toEqual(['Request created']);
    const real = DateTime.utc();
    expect(await runDueJob(publishEvents, real.plus({ minutes: 1 }))).toMatchObject({ published: 0 });
    const report = await runDueJob(publishEvents, real.plus({ minutes: 5 }));
    // The request tenant's audit entry and the engineer's load row.
    expect(report.published).toBeGreaterThanOrEqual(2);
    expect(await auditNames(a)).toEqual(['Request canceled', 'Request created']);
    expect(await runDueJob(publishEvents, real.plus({ minutes: 10 }))).toMatchObject({ due: 0, published: 0 });
    expect(await auditNames(a)).toEqual(['Request canceled', 'Request created']);
  });

  it('counts exactly what the outbox job published, across its parallel handlers (20 stranded changes)', async () => {
    const stranded = async (): Promise<void> => {
      const { stored, adminA } = await pendingCase();
      armFault('afterTransaction');
      await expect(
        commitCase(stored, closeSupportRequest(caseValue(stored), adminA, t0.plus({ hours: 1 }))),
      ).rejects.toThrow(/Simulated crash/);
      disarmFaults();
    };
    const real = DateTime.utc();
    // Whatever is left from earlier tests, then one change: the rows one close strands.
    await runDueJob(publishEvents, real.plus({ minutes: 5 }));
    await stranded();
    const one = (await runDueJob(publishEvents, real.plus({ minutes: 5 }))).published as number;
    expect(one).toBeGreaterThanOrEqual(2);
    for (let n = 0; n < 20; n++) await stranded();
    const report = await runDueJob(publishEvents, real.plus({ minutes: 5 }));
    expect(report).toMatchObject({ due: 20, published: 20 * one });
  });

  it('drops a due entry whose access request was never stored, and expires due ones once', async () => {
    const ghost = `${randomUUID()}-${randomUUID()}`;
    await writeDueEntries([{ job: jobIds.expireSupportAccessRequests, dueAt: toGraphDateTime(t0), subjectId: ghost }]);
    const { accessRequestId, request } = await pendingCase();
    const report = await runDueJob(expireSupportAccessRequests, t0.plus({ days: 4 }));
    expect(report.expired).toContain(accessRequestId);
    expect(report.expired).not.toContain(ghost);
    const again = await runDueJob(expireSupportAccessRequests, t0.plus({ days: 4 }));
    expect(again).toMatchObject({ due: 0, expired: [] });
    expect(((await readCase(request.id)) as StoredCase).accessRequests[0].value.status).toBe('expired');
  });

  it('answers 404 on the sandbox engineer route without SANDBOX_MODE', async () => {
    const saved = process.env.SANDBOX_MODE;
    let registration: HttpRegistration | undefined;
    process.env.SANDBOX_MODE = 'false';
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('../../functions/supportEngineers');
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { registeredHttp } = require('../../shared/registrations') as typeof import('../../shared/registrations');
        registration = registeredHttp().find((item) => item.name === 'sandboxSupportEngineer');
      });
    } finally {
      process.env.SANDBOX_MODE = saved;
    }
    const request = new HttpRequest({
      method: 'PUT',
      url: `http://localhost/sandbox/supportEngineers/${randomUUID()}`,
      headers: { 'content-type': 'application/json' },
      body: { string: JSON.stringify({ displayName: 'x', expertise: ['y'] }) },
    });
    const response = await (registration as HttpRegistration).handler(request, new InvocationContext());
    expect(response.status).toBe(404);
  });
});
