import { odata } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { processEndDates, publishEvents } from '../../functions/maintenance';
import { ChangeCause, eventsOf, expiryWarnings } from '../../shared/domain/events';
import { newRelationshipId } from '../../shared/domain/ids';
import { applyRequestAction, createRelationship, Relationship } from '../../shared/domain/relationships';
import { toGraphDateTime } from '../../shared/domain/time';
import { addDueEntries } from '../../shared/store/dueIndex';
import { deliverOnce, prepareEvents } from '../../shared/store/events';
import {
  findRelationship,
  insertRelationship,
  relationshipToRow,
  replaceRelationship,
} from '../../shared/store/relationships';
import { relationshipPartition, tenantPartitionRange } from '../../shared/store/rows';
import { tableClient, tableNames } from '../../shared/store/tables';

/**
 * Crash and race safety of the maintenance jobs on a real Azurite: every intermediate state a
 * crash can leave behind is built by hand, then the job is run and must finish the work once.
 */
const t0 = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });
const cause = (at: DateTime): ChangeCause => ({ initiatedBy: { kind: 'system' }, at: toGraphDateTime(at) });

async function activeRelationship(autoExtendDuration: 'PT0S' | 'P180D', days = 30): Promise<Relationship> {
  const partnerTenantId = randomUUID();
  const draft = createRelationship(
    {
      displayName: `Crash ${randomUUID().slice(0, 8)}`,
      duration: `P${days}D`,
      autoExtendDuration,
      customer: { tenantId: randomUUID() },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: '29232cdf-9323-42fd-ade2-1d097af3e4de' }] },
    },
    { id: newRelationshipId(partnerTenantId), partnerTenantId },
    t0,
  );
  let stored = await insertRelationship(draft, cause(t0));
  const partner = { tenantId: partnerTenantId, isAdminAgent: true, isGlobalAdministrator: false };
  const customer = { tenantId: draft.customer?.tenantId as string, isAdminAgent: false, isGlobalAdministrator: true };
  for (const [action, actor] of [
    ['lockForApproval', partner],
    ['approve', customer],
  ] as const) {
    const next = applyRequestAction(stored.value, action, actor, t0);
    stored = await replaceRelationship(stored.value, next, stored.etag, cause(t0));
  }
  return stored.value;
}

async function auditEntries(tenantId: string): Promise<string[]> {
  const names: string[] = [];
  const rows = tableClient(tableNames.tenants).listEntities<{ activityDisplayName: string }>({
    queryOptions: {
      filter: `${tenantPartitionRange(tenantId)} and ${odata`RowKey ge ${'aud|'} and RowKey lt ${'aud}'}`}`,
    },
  });
  for await (const row of rows) names.push(row.activityDisplayName);
  return names;
}

describe('maintenance jobs after a crash', () => {
  it('performs a due change found through its index entry', async () => {
    const relationship = await activeRelationship('P180D');
    const end = DateTime.fromISO(relationship.endDateTime as string, { zone: 'utc' });
    const report = await processEndDates(end);
    expect(report.extended).toContain(relationship.id);
    expect((await findRelationship(relationship.id))?.value.endDateTime).toBe(toGraphDateTime(end.plus({ days: 180 })));
  });

  it('does not extend twice when the state change was stored but its due entry not removed', async () => {
    const relationship = await activeRelationship('P180D');
    const end = DateTime.fromISO(relationship.endDateTime as string, { zone: 'utc' });
    // The "crash": the extension is stored by hand, the old due entry stays behind.
    const stored = await findRelationship(relationship.id);
    const extended = { ...relationship, endDateTime: toGraphDateTime(end.plus({ days: 180 })) };
    await replaceRelationship(relationship, extended, stored?.etag as string, cause(end));
    await addDueEntries([
      { job: 'processEndDates', dueAt: relationship.endDateTime as string, relationshipId: relationship.id },
    ]);

    const report = await processEndDates(end.plus({ minutes: 5 }));
    expect(report.extended ?? []).not.toContain(relationship.id);
    expect((await findRelationship(relationship.id))?.value.endDateTime).toBe(extended.endDateTime);
    // And the leftover entry is gone: a second run reads nothing for it.
    const again = await processEndDates(end.plus({ minutes: 10 }));
    expect(again.due).toBe(0);
  });

  it('ignores a due entry whose relationship no longer exists', async () => {
    const ghost = newRelationshipId(randomUUID());
    const entry = {
      job: 'processEndDates' as const,
      dueAt: toGraphDateTime(t0.minus({ years: 5 })),
      relationshipId: ghost,
    };
    await addDueEntries([entry]);
    await addDueEntries([entry]); // writing an entry twice leaves one
    const report = await processEndDates(t0.minus({ years: 4 }));
    expect(report).toMatchObject({ due: 1 });
    expect(report.extended).toBeUndefined();
    expect(report.expired).toBeUndefined();
  });

  it('sends an expiry warning once even when two job runs at different times both find it due', async () => {
    const relationship = await activeRelationship('PT0S');
    const [first] = expiryWarnings(relationship, 7, toGraphDateTime(t0.plus({ days: 23 })));
    const [second] = expiryWarnings(relationship, 7, toGraphDateTime(t0.plus({ days: 23, minutes: 5 })));
    expect(await deliverOnce(first)).toBe(true);
    expect(await deliverOnce(second)).toBe(false);
    const rows = tableClient(tableNames.tenants).listEntities<{ kind: string }>({
      queryOptions: {
        filter: `${tenantPartitionRange(relationship.partnerTenantId)} and ${odata`RowKey ge ${'ntf|'} and RowKey lt ${'ntf}'}`}`,
      },
    });
    const kinds: string[] = [];
    for await (const row of rows) kinds.push(row.kind);
    expect(kinds.filter((kind) => kind === 'relationshipExpiryWarning')).toEqual(['relationshipExpiryWarning']);
  });

  it('publishes the audit entries of a change that crashed before publishing them, once, from the recovery job', async () => {
    const relationship = await activeRelationship('PT0S');
    const at = t0.plus({ days: 1 });
    const terminated = { ...relationship, status: 'terminated' as const, endDateTime: toGraphDateTime(at) };
    const events = eventsOf(relationship, terminated, { kind: 'system' }, toGraphDateTime(at));
    // The "crash": the change and its events are stored, and the process dies before publishing them.
    const stored = await findRelationship(relationship.id);
    const real = DateTime.utc();
    const prepared = await prepareEvents(relationshipPartition(relationship), events, real);
    await tableClient(tableNames.tenants).submitTransaction([
      ['update', relationshipToRow(terminated), 'Merge', { etag: stored?.etag }],
      ...prepared.actions,
    ]);
    const customerTenantId = relationship.customer?.tenantId as string;
    // The partner's own entries went in with the change; the customer's wait in the outbox.
    expect(await auditEntries(relationship.partnerTenantId)).toContain('Terminate delegated admin relationship');
    expect(await auditEntries(customerTenantId)).not.toContain('Terminate delegated admin relationship');

    // Due on real time, two minutes after the change (the sandbox clock plays no part).
    expect(await publishEvents(real.plus({ minutes: 1 }))).toMatchObject({ published: 0 });
    expect(await publishEvents(real.plus({ minutes: 5 }))).toMatchObject({ published: 2 }); // the customer's audit entry and notification
    const partnerLog = await auditEntries(relationship.partnerTenantId);
    expect(partnerLog.filter((name) => name === 'Terminate delegated admin relationship')).toHaveLength(1);
    expect(await auditEntries(customerTenantId)).toContain('Terminate delegated admin relationship');
    expect(await publishEvents(real.plus({ minutes: 10 }))).toEqual({ due: 0, published: 0 });
  });

  it('drops a recovery entry whose change was never stored, publishing none of its events', async () => {
    const relationship = await activeRelationship('PT0S');
    const at = t0.plus({ days: 2 });
    const terminated = { ...relationship, status: 'terminated' as const, endDateTime: toGraphDateTime(at) };
    const events = eventsOf(relationship, terminated, { kind: 'system' }, toGraphDateTime(at));
    // The recovery entry is written; the change's transaction then fails (here: is never sent).
    const real = DateTime.utc();
    await prepareEvents(relationshipPartition(relationship), events, real);
    const customerTenantId = relationship.customer?.tenantId as string;

    expect(await publishEvents(real.plus({ minutes: 5 }))).toEqual({ due: 1, published: 0 });
    expect(await auditEntries(customerTenantId)).not.toContain('Terminate delegated admin relationship');
    expect(await auditEntries(relationship.partnerTenantId)).not.toContain('Terminate delegated admin relationship');
    expect(await publishEvents(real.plus({ minutes: 10 }))).toEqual({ due: 0, published: 0 });
  });
});
