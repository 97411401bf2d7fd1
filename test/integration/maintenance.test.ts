import { odata } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { runDueJob } from '../../shared/app/jobs';
import { processEndDates, purgeEnded, sendExpiryWarnings } from '../../shared/app/maintenance';
import { createRelationship, requestAction } from '../../shared/app/relationships';
import { jobIds } from '../../shared/domain/jobs';
import { planTransition } from '../../shared/domain/relationshipChanges';
import { Relationship } from '../../shared/domain/relationships';
import { toGraphDateTime } from '../../shared/domain/time';
import { writeDueEntries } from '../../shared/store/dueIndex';
import { listAuditEntries } from '../../shared/store/events';
import {
  commitRelationshipChange,
  findRelationship,
  findRelationshipOrTombstone,
} from '../../shared/store/relationships';
import { tenantPartitionRange } from '../../shared/store/rows';
import { tableClient, tableNames } from '../../shared/store/tables';
import { auditCollection } from '../../functions/auditLogs';
import { parseCollectionQuery } from '../../shared/query/odata';
import { customerAdmin, partnerAgent, roles } from '../fixtures';

/**
 * Crash and race safety of the maintenance jobs on a real Azurite: every intermediate state a
 * crash can leave behind is built by hand, then the job is run and must finish the work once.
 */
const t0 = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });

async function activeRelationship(autoExtendDuration: 'PT0S' | 'P180D', days = 30): Promise<Relationship> {
  const partnerTenantId = randomUUID();
  const customerTenantId = randomUUID();
  const created = await createRelationship(
    {
      displayName: `Crash ${randomUUID().slice(0, 8)}`,
      duration: `P${days}D`,
      autoExtendDuration,
      customer: { tenantId: customerTenantId },
      accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
    },
    partnerAgent(partnerTenantId, t0),
  );
  await requestAction(created.value.id, 'lockForApproval', undefined, partnerAgent(partnerTenantId, t0));
  return (await requestAction(created.value.id, 'approve', undefined, customerAdmin(customerTenantId, t0)))
    .relationship;
}

async function auditNames(tenantId: string): Promise<string[]> {
  const page = await listAuditEntries(
    tenantId,
    { ...parseCollectionQuery(new URLSearchParams(), auditCollection), top: 300 },
    auditCollection,
  );
  return page.items.map((item) => item.value.activityDisplayName);
}

describe('maintenance jobs after a crash', () => {
  it('performs a due change found through its index entry', async () => {
    const relationship = await activeRelationship('P180D');
    const end = DateTime.fromISO(relationship.endDateTime as string, { zone: 'utc' });
    const report = await runDueJob(processEndDates, end);
    expect(report.extended).toContain(relationship.id);
    expect((await findRelationship(relationship.id))?.value.endDateTime).toBe(toGraphDateTime(end.plus({ days: 180 })));
  });

  it('does not extend twice when the state change was stored but its due entry not removed', async () => {
    const relationship = await activeRelationship('P180D');
    const end = DateTime.fromISO(relationship.endDateTime as string, { zone: 'utc' });
    // The "crash": the extension is stored by hand, the old due entry stays behind.
    const stored = await findRelationship(relationship.id);
    const extended = { ...relationship, endDateTime: toGraphDateTime(end.plus({ days: 180 })) };
    const context = { changeId: randomUUID(), at: toGraphDateTime(end), initiatedBy: { kind: 'system' as const } };
    await commitRelationshipChange(planTransition(stored as { value: Relationship; etag: string }, extended, context));

    const report = await runDueJob(processEndDates, end.plus({ minutes: 5 }));
    expect(report.extended ?? []).not.toContain(relationship.id);
    expect((await findRelationship(relationship.id))?.value.endDateTime).toBe(extended.endDateTime);
    // And the leftover entry is gone: a second run reads nothing for it.
    const again = await runDueJob(processEndDates, end.plus({ minutes: 10 }));
    expect(again.due).toBe(0);
  });

  it('ignores a due entry whose relationship no longer exists', async () => {
    const entry = {
      job: jobIds.processEndDates,
      dueAt: toGraphDateTime(t0.minus({ years: 5 })),
      subjectId: `${randomUUID()}-${randomUUID()}`,
    };
    await writeDueEntries([entry]);
    await writeDueEntries([entry]); // writing an entry twice leaves one
    const report = await runDueJob(processEndDates, t0.minus({ years: 4 }));
    expect(report).toMatchObject({ due: 1 });
    expect(report.extended).toBeUndefined();
    expect(report.expired).toBeUndefined();
  });

  it('sends an expiry warning once even when two job runs at different times both find it due', async () => {
    const relationship = await activeRelationship('PT0S');
    const entry = {
      job: jobIds.sendExpiryWarnings,
      dueAt: toGraphDateTime(t0.plus({ days: 23 })),
      subjectId: relationship.id,
      days: 7,
    };
    await writeDueEntries([entry]);
    const first = await runDueJob(sendExpiryWarnings, t0.plus({ days: 23 }));
    await writeDueEntries([entry]);
    const second = await runDueJob(sendExpiryWarnings, t0.plus({ days: 23, minutes: 5 }));
    expect(first.warned7Days).toContain(relationship.id);
    expect(second.warned7Days ?? []).not.toContain(relationship.id);
    const rows = tableClient(tableNames.tenants).listEntities<{ kind: string }>({
      queryOptions: {
        filter: `${tenantPartitionRange(relationship.partnerTenantId)} and ${odata`RowKey ge ${'ntf|'} and RowKey lt ${'ntf}'}`}`,
      },
    });
    const kinds: string[] = [];
    for await (const row of rows) kinds.push(row.kind);
    expect(kinds.filter((kind) => kind === 'relationshipExpiryWarning')).toEqual(['relationshipExpiryWarning']);
  });

  it('stores the customer’s copy of a change’s events in the change itself', async () => {
    const relationship = await activeRelationship('PT0S');
    const customerTenantId = relationship.customer?.tenantId as string;
    // Nothing is left for a job to publish: the customer reads its copies beside the relationship.
    expect(await auditNames(customerTenantId)).toEqual(
      expect.arrayContaining([
        'Lock delegated admin relationship for approval',
        'Approve delegated admin relationship',
      ]),
    );
    expect(await auditNames(relationship.partnerTenantId)).toEqual(
      expect.arrayContaining([
        'Lock delegated admin relationship for approval',
        'Approve delegated admin relationship',
      ]),
    );
  });

  it('finishes a purge that a crash stopped after the tombstone, on the next run', async () => {
    const relationship = await activeRelationship('PT0S', 1);
    const end = DateTime.fromISO(relationship.endDateTime as string, { zone: 'utc' });
    await runDueJob(processEndDates, end);
    const purgeAt = end.plus({ days: 366 });
    // The "crash": the tombstone is stored, its children are not removed (its follow-up entry stays).
    const { armFault, disarmFaults } = await import('../../shared/store/faults');
    armFault('afterTransaction');
    await expect(runDueJob(purgeEnded, purgeAt)).rejects.toThrow(/Simulated crash/);
    disarmFaults();
    expect((await findRelationshipOrTombstone(relationship.id))?.tombstone).toBe(true);
    const report = await runDueJob(purgeEnded, purgeAt.plus({ minutes: 1 }));
    expect(report.purged).toContain(relationship.id);
    expect(await findRelationshipOrTombstone(relationship.id)).toBeUndefined();
  });
});
