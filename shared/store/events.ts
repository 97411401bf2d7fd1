import { TransactionAction } from '@azure/data-tables';
import { AuditEntry, DomainEvents, Notification } from '../domain/events';
import { fromGraphDateTime, toGraphDateTime } from '../domain/time';
import { CollectionQuery, CollectionSpec } from '../http/odata';
import { Page, queryPartition } from './paging';
import { duePartition, dueFilter } from './dueIndex';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Audit entries and notifications reach their tables through the partner's partition of the
 * Relationships table: they are written as `evt|{id}` rows in the same transaction as the state
 * change that caused them (so neither exists without the other), then copied to the per-tenant
 * tables under ids derived from the event (so copying twice is harmless) and removed.
 */
export const pendingEventPrefix = 'evt|';

type PendingEvent = { type: 'audit'; value: AuditEntry } | { type: 'notification'; value: Notification };

function pending(events: DomainEvents): PendingEvent[] {
  return [
    ...events.audits.map((value): PendingEvent => ({ type: 'audit', value })),
    ...events.notifications.map((value): PendingEvent => ({ type: 'notification', value })),
  ];
}

/** Transaction actions that store the events beside the change (same partition). */
export function pendingEventActions(partnerTenantId: string, events: DomainEvents): TransactionAction[] {
  return pending(events).map((event) => [
    'upsert',
    { partitionKey: partnerTenantId, rowKey: `${pendingEventPrefix}${event.value.id}`, event: JSON.stringify(event) },
    'Replace',
  ]);
}

/** Newest first: RowKeys count down from the far future. */
export function newestFirstKey(timestamp: string, id: string): string {
  const inverted = 8_640_000_000_000_000 - fromGraphDateTime(timestamp).toMillis();
  return `${String(inverted).padStart(16, '0')}|${id}`;
}

function auditRow(entry: AuditEntry): { partitionKey: string; rowKey: string } & Record<string, unknown> {
  return {
    partitionKey: entry.tenantId,
    rowKey: newestFirstKey(entry.activityDateTime, entry.id),
    id: entry.id,
    activityDateTime: entry.activityDateTime,
    activityDisplayName: entry.activityDisplayName,
    category: entry.category,
    operationType: entry.operationType,
    result: entry.result,
    initiatedBy: JSON.stringify(entry.initiatedBy),
    target: JSON.stringify(entry.target),
    modifiedProperties: JSON.stringify(entry.modifiedProperties),
  };
}

export function auditFromRow(row: Record<string, unknown>): AuditEntry {
  return {
    id: String(row.id),
    tenantId: String(row.partitionKey),
    activityDateTime: String(row.activityDateTime),
    activityDisplayName: String(row.activityDisplayName),
    category: String(row.category),
    operationType: row.operationType as AuditEntry['operationType'],
    result: row.result as AuditEntry['result'],
    initiatedBy: JSON.parse(String(row.initiatedBy)),
    target: JSON.parse(String(row.target)),
    modifiedProperties: JSON.parse(String(row.modifiedProperties)),
  };
}

function notificationRow(
  notification: Notification,
): { partitionKey: string; rowKey: string } & Record<string, unknown> {
  return {
    partitionKey: notification.tenantId,
    rowKey: newestFirstKey(notification.createdDateTime, notification.id),
    id: notification.id,
    createdDateTime: notification.createdDateTime,
    kind: notification.kind,
    recipients: JSON.stringify(notification.recipients),
    relationshipId: notification.relationshipId,
    subject: notification.subject,
  };
}

export function notificationFromRow(row: Record<string, unknown>): Notification {
  return {
    id: String(row.id),
    tenantId: String(row.partitionKey),
    createdDateTime: String(row.createdDateTime),
    kind: row.kind as Notification['kind'],
    recipients: JSON.parse(String(row.recipients)),
    relationshipId: typeof row.relationshipId === 'string' ? row.relationshipId : undefined,
    subject: String(row.subject),
  };
}

async function deliver(event: PendingEvent): Promise<void> {
  if (event.type === 'audit') {
    await tableClient(tableNames.auditLogs).upsertEntity(auditRow(event.value), 'Replace');
  } else {
    await tableClient(tableNames.notifications).upsertEntity(notificationRow(event.value), 'Replace');
  }
}

/** Copies events to their tenants' tables, then drops the pending rows. */
export async function publishEvents(partnerTenantId: string, events: DomainEvents): Promise<void> {
  const all = pending(events);
  if (all.length === 0) return;
  await ensureTables();
  await Promise.all(all.map(deliver));
  const cleanup: TransactionAction[] = all.map((event) => [
    'delete',
    { partitionKey: partnerTenantId, rowKey: `${pendingEventPrefix}${event.value.id}` },
  ]);
  try {
    await tableClient(tableNames.relationships).submitTransaction(cleanup);
  } catch (error) {
    // Another publisher got there first.
    if (!isStatus(error, 404)) throw error;
  }
}

/** DueIndex partition of recovery entries: where to look for events a crash may have stranded. */
export const eventRecoveryJob = 'publishEvents';
/** A change publishes its own events at once; only events still pending after this were stranded. */
const recoveryDelayMinutes = 2;

/**
 * The events of a change, ready to go in its transaction. A recovery entry naming them is
 * written first (due a little later), so a crash between the change and the publication is
 * repaired by the publishEvents job with point reads, never by scanning.
 */
export async function prepareEvents(
  partnerTenantId: string,
  events: DomainEvents,
  at: string,
): Promise<TransactionAction[]> {
  const actions = pendingEventActions(partnerTenantId, events);
  if (actions.length === 0) return actions;
  await ensureTables();
  const ids = pending(events).map((event) => event.value.id);
  const dueAt = toGraphDateTime(fromGraphDateTime(at).plus({ minutes: recoveryDelayMinutes }));
  await tableClient(tableNames.dueIndex).upsertEntity(
    {
      partitionKey: duePartition(eventRecoveryJob, dueAt),
      rowKey: `${dueAt}|${partnerTenantId}|${ids[0]}`,
      partnerTenantId,
      eventIds: JSON.stringify(ids),
    },
    'Replace',
  );
  return actions;
}

export interface RecoveryEntry {
  partitionKey: string;
  rowKey: string;
  partnerTenantId: string;
  eventIds: string[];
}

/** Recovery entries due by `now`, oldest first: one RowKey range, like every due-date query. */
export async function dueRecoveryEntries(now: string, limit: number): Promise<RecoveryEntry[]> {
  await ensureTables();
  const pages = tableClient(tableNames.dueIndex)
    .listEntities<{ partnerTenantId: string; eventIds: string }>({
      queryOptions: { filter: dueFilter(eventRecoveryJob, now) },
    })
    .byPage({ maxPageSize: Math.min(limit, 1000) });
  const entries: RecoveryEntry[] = [];
  for await (const page of pages) {
    for (const row of page) {
      entries.push({
        partitionKey: String(row.partitionKey),
        rowKey: String(row.rowKey),
        partnerTenantId: row.partnerTenantId,
        eventIds: JSON.parse(row.eventIds),
      });
      if (entries.length >= limit) return entries;
    }
  }
  return entries;
}

export async function removeRecoveryEntry(entry: RecoveryEntry): Promise<void> {
  try {
    await tableClient(tableNames.dueIndex).deleteEntity(entry.partitionKey, entry.rowKey);
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}

/** Publishes whichever of these events are still pending (a recovery entry's work); returns how many. */
export async function publishStrandedEvents(partnerTenantId: string, eventIds: readonly string[]): Promise<number> {
  await ensureTables();
  const found = await Promise.all(
    eventIds.map(async (id) => {
      try {
        const row = await tableClient(tableNames.relationships).getEntity<{ event: string }>(
          partnerTenantId,
          `${pendingEventPrefix}${id}`,
        );
        return JSON.parse(row.event) as PendingEvent;
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    }),
  );
  const events: DomainEvents = { audits: [], notifications: [] };
  for (const event of found) {
    if (event?.type === 'audit') events.audits.push(event.value);
    if (event?.type === 'notification') events.notifications.push(event.value);
  }
  await publishEvents(partnerTenantId, events);
  return events.audits.length + events.notifications.length;
}

/**
 * Writes audit entries straight to their tenants' logs, for changes outside the Relationships
 * table. Ids derived from the change make a repeat harmless.
 */
export async function writeAuditEntries(entries: readonly AuditEntry[]): Promise<void> {
  await ensureTables();
  await Promise.all(entries.map((value) => deliver({ type: 'audit', value })));
}

/** Delivers a notification at most once: the first writer of its id wins. */
export async function deliverOnce(notification: Notification): Promise<boolean> {
  await ensureTables();
  try {
    await tableClient(tableNames.notifications).createEntity(notificationRow(notification));
    return true;
  } catch (error) {
    if (isStatus(error, 409)) return false;
    throw error;
  }
}

/** A tenant's audit log page, newest first (SPEC §9). */
export async function listAuditEntries(
  tenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<AuditEntry>,
): Promise<Page<AuditEntry>> {
  await ensureTables();
  return queryPartition({
    client: tableClient(tableNames.auditLogs),
    partitionKey: tenantId,
    rowKeyPrefix: '',
    query,
    spec,
    fromRow: auditFromRow,
  });
}

/** A tenant's notification outbox page, newest first. */
export async function listNotifications(
  tenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<Notification>,
): Promise<Page<Notification>> {
  await ensureTables();
  return queryPartition({
    client: tableClient(tableNames.notifications),
    partitionKey: tenantId,
    rowKeyPrefix: '',
    query,
    spec,
    fromRow: notificationFromRow,
  });
}
