import { odata } from '@azure/data-tables';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { DateTime, Duration } from 'luxon';
import { expireSupportAccessRequests } from '../../functions/support';
import { AuditEntry } from '../../shared/domain/events';
import {
  approveAccessRequest,
  closeSupportRequest,
  newSupportRequest,
  openAccessRequest,
  removeApproval,
  SupportActor,
} from '../../shared/domain/support';
import { toGraphDateTime } from '../../shared/domain/time';
import { HttpRegistration } from '../../shared/registrations';
import { caseValue, commitCase, insertSupportRequest, readCase, StoredCase } from '../../shared/store/support';
import { tenantPartitionRange } from '../../shared/store/rows';
import { ensureTables, tableClient, tableNames } from '../../shared/store/tables';

/**
 * The support case repository on a real Azurite: multi-row changes are one ETag-conditional
 * transaction, so racing commands (approve vs close, remove vs close, two approvals) end with one
 * winner, and audit entries a crash left unpublished are published by the next change.
 */
const t0 = DateTime.fromISO('2026-05-01T00:00:00Z', { zone: 'utc' });
const ssa = 'f023fd81-a637-4b56-95fd-791ac0226033';

function world() {
  const a = randomUUID();
  const b = randomUUID();
  const email = `admin-${randomUUID().slice(0, 6)}@contoso.example`;
  const engineer = {
    id: randomUUID(),
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

  it('publishes audit entries a crash left pending on the next change of the case', async () => {
    const { stored, request, a, adminA } = await pendingCase();
    const orphan: AuditEntry = {
      id: randomUUID(),
      tenantId: a,
      activityDateTime: toGraphDateTime(t0),
      activityDisplayName: 'Request rejected',
      category: 'MicrosoftSupportAccessManagement',
      operationType: 'Update',
      result: 'success',
      initiatedBy: { kind: 'user', tenantId: a, userId: adminA.userId },
      target: { id: 'x', displayName: 'x', type: 'SupportAccessRequest' },
      modifiedProperties: [],
    };
    await tableClient(tableNames.supportRequests).createEntity({
      partitionKey: request.id,
      rowKey: 'evt|crashed',
      kind: 'events',
      data: JSON.stringify([orphan]),
    });
    const withPending = (await readCase(request.id)) as StoredCase;
    expect(withPending.pendingEvents).toHaveLength(1);
    await commitCase(withPending, closeSupportRequest(caseValue(withPending), adminA, t0.plus({ hours: 1 })));
    expect(await auditNames(a)).toEqual(['Request canceled', 'Request created', 'Request rejected']);
    expect(((await readCase(request.id)) as StoredCase).pendingEvents).toEqual([]);
    expect(stored.pendingEvents).toEqual([]);
  });

  it('drops a due entry whose access request was never stored, and expires due ones once', async () => {
    await ensureTables();
    const ghost = `${randomUUID()}-${randomUUID()}`;
    await tableClient(tableNames.supportIndex).upsertEntity({
      partitionKey: 'due|expireSupportAccessRequests',
      rowKey: `${toGraphDateTime(t0)}|${ghost}`,
      accessRequestId: ghost,
      dueAt: toGraphDateTime(t0),
    });
    const { accessRequestId, request } = await pendingCase();
    const report = await expireSupportAccessRequests(t0.plus({ days: 4 }));
    expect(report.expired).toContain(accessRequestId);
    expect(report.expired).not.toContain(ghost);
    const again = await expireSupportAccessRequests(t0.plus({ days: 4 }));
    expect(again).toEqual({ due: 0, expired: [] });
    expect(((await readCase(request.id)) as StoredCase).accessRequests[0].value.status).toBe('expired');
  });

  it('answers 404 on the sandbox engineer route without SANDBOX_MODE', async () => {
    const saved = process.env.SANDBOX_MODE;
    let registration: HttpRegistration | undefined;
    process.env.SANDBOX_MODE = 'false';
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('../../functions/support');
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
