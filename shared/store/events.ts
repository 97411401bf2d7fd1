import { randomUUID } from 'node:crypto';
import { TransactionAction } from '@azure/data-tables';
import { AuditEntry, DomainEvents, Notification } from '../domain/events';
import { fromGraphDateTime, toGraphDateTime } from '../domain/time';
import { CollectionQuery, CollectionSpec } from '../http/odata';
import { Page, queryPartitions } from './paging';
import { duePartition, dueFilter } from './dueIndex';
import { Entity, eventPartition, tenantOfPartition, tenantPartitions } from './rows';
import { ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * Audit entries and notifications live in their tenant's partitions of the Tenants table, as
 * `aud|{newest first}` and `ntf|{newest first}` rows; a tenant's log is those partitions merged.
 * An event for the tenant whose partition a change is written in (the partner, for relationship
 * changes) is stored in that change's own transaction: neither exists without the other, at no
 * extra storage call. An event for another tenant (the customer) cannot join that transaction; it
 * is stored beside the change as an `evt|{id}` outbox row, then copied to its tenant in the
 * partition its id names (so copying twice is harmless) and the outbox row removed.
 */
export const pendingEventPrefix = 'evt|';
const auditPrefix = 'aud|';
const notificationPrefix = 'ntf|';
const sentPrefix = 'sent|';

type PendingEvent = { type: 'audit'; value: AuditEntry } | { type: 'notification'; value: Notification };

function pending(events: DomainEvents): PendingEvent[] {
  return [
    ...events.audits.map((value): PendingEvent => ({ type: 'audit', value })),
    ...events.notifications.map((value): PendingEvent => ({ type: 'notification', value })),
  ];
}

function eventRow(event: PendingEvent, partitionKey: string): Entity {
  return event.type === 'audit' ? auditRow(event.value, partitionKey) : notificationRow(event.value, partitionKey);
}

/** Newest first: RowKeys count down from the far future. */
export function newestFirstKey(timestamp: string, id: string): string {
  const inverted = 8_640_000_000_000_000 - fromGraphDateTime(timestamp).toMillis();
  return `${String(inverted).padStart(16, '0')}|${id}`;
}

function auditRow(entry: AuditEntry, partitionKey: string): Entity {
  return {
    partitionKey,
    rowKey: auditPrefix + newestFirstKey(entry.activityDateTime, entry.id),
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
    tenantId: tenantOfPartition(String(row.partitionKey)),
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

function notificationRow(notification: Notification, partitionKey: string): Entity {
  return {
    partitionKey,
    rowKey: notificationPrefix + newestFirstKey(notification.createdDateTime, notification.id),
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
    tenantId: tenantOfPartition(String(row.partitionKey)),
    createdDateTime: String(row.createdDateTime),
    kind: row.kind as Notification['kind'],
    recipients: JSON.parse(String(row.recipients)),
    relationshipId: typeof row.relationshipId === 'string' ? row.relationshipId : undefined,
    subject: String(row.subject),
  };
}

const tenants = () => tableClient(tableNames.tenants);

async function deliver(event: PendingEvent): Promise<void> {
  await tenants().upsertEntity(eventRow(event, eventPartition(event.value.tenantId, event.value.id)), 'Replace');
}

const outboxKey = (eventId: string): string => `${pendingEventPrefix}${eventId}`;

/** DueIndex partition of recovery entries: where to look for events a crash may have stranded. */
export const eventRecoveryJob = 'publishEvents';
/** A change publishes its own events at once; only events still pending after this were stranded. */
const recoveryDelayMinutes = 2;

interface RecoveryKey {
  partitionKey: string;
  rowKey: string;
}

function recoveryKey(partitionKey: string, outbox: readonly PendingEvent[], at: string): RecoveryKey {
  const dueAt = toGraphDateTime(fromGraphDateTime(at).plus({ minutes: recoveryDelayMinutes }));
  return {
    partitionKey: duePartition(eventRecoveryJob, dueAt, outbox[0].value.id),
    rowKey: `${dueAt}|${partitionKey}|${outbox[0].value.id}`,
  };
}

/** Copies outbox events to their tenants, then drops the outbox rows and (when known) their recovery entry. */
async function publishOutbox(
  partitionKey: string,
  outbox: readonly PendingEvent[],
  recovery?: RecoveryKey,
): Promise<void> {
  if (outbox.length === 0) return;
  await ensureTables();
  await Promise.all(outbox.map(deliver));
  const cleanup: TransactionAction[] = outbox.map((event) => [
    'delete',
    { partitionKey, rowKey: outboxKey(event.value.id) },
  ]);
  // A 404 means another publisher got there first.
  await Promise.all([
    tenants().submitTransaction(cleanup).catch(ignoreStatus(404)),
    recovery &&
      tableClient(tableNames.dueIndex).deleteEntity(recovery.partitionKey, recovery.rowKey).catch(ignoreStatus(404)),
  ]);
}

/**
 * A change's transaction is conditional on its ETag, so it is stored once, and its events are
 * new rows (inserted, which costs the store one lookup less than an upsert). Ids derived from the
 * transition alone would collide for two changes in the same millisecond, so each stored event
 * gets a fresh id; its outbox row carries that id, which keeps copying it twice harmless.
 */
function withFreshId(event: PendingEvent): PendingEvent {
  return event.type === 'audit'
    ? { type: 'audit', value: { ...event.value, id: randomUUID() } }
    : { type: 'notification', value: { ...event.value, id: randomUUID() } };
}

/** The events of one change, ready for its transaction in one tenant's partition. */
export interface PreparedEvents {
  /** To add to the change's transaction: the partition tenant's own events, and outbox rows. */
  actions: TransactionAction[];
  /** Once the transaction is stored: copies the outbox events to their tenants. */
  publish(): Promise<void>;
}

/**
 * Prepares a change's events for its transaction in `partitionKey`. When some are for other
 * tenants, a recovery entry naming them is written first (due a little later), so a crash between
 * the change and their publication is repaired by the publishEvents job with point reads, never
 * by scanning.
 */
export async function prepareEvents(partitionKey: string, events: DomainEvents, at: string): Promise<PreparedEvents> {
  const all = pending(events).map(withFreshId);
  const tenantId = tenantOfPartition(partitionKey);
  const own = all.filter((event) => event.value.tenantId === tenantId);
  const outbox = all.filter((event) => event.value.tenantId !== tenantId);
  const actions: TransactionAction[] = own.map((event) => ['create', eventRow(event, partitionKey)]);
  if (outbox.length === 0) return { actions, publish: async () => undefined };

  await ensureTables();
  const recovery = recoveryKey(partitionKey, outbox, at);
  await tableClient(tableNames.dueIndex).upsertEntity(
    { ...recovery, outboxPartition: partitionKey, eventIds: JSON.stringify(outbox.map((event) => event.value.id)) },
    'Replace',
  );
  for (const event of outbox) {
    actions.push(['create', { partitionKey, rowKey: outboxKey(event.value.id), event: JSON.stringify(event) }]);
  }
  return { actions, publish: () => publishOutbox(partitionKey, outbox, recovery) };
}

export interface RecoveryEntry {
  partitionKey: string;
  rowKey: string;
  /** The partition holding the outbox rows. */
  outboxPartition: string;
  eventIds: string[];
}

/** Recovery entries due by `now`, oldest day first: the same ranges as every due-date query. */
export async function dueRecoveryEntries(now: string, limit: number): Promise<RecoveryEntry[]> {
  await ensureTables();
  const pages = tableClient(tableNames.dueIndex)
    .listEntities<{ outboxPartition: string; eventIds: string }>({
      queryOptions: { filter: dueFilter(eventRecoveryJob, now) },
    })
    .byPage({ maxPageSize: Math.min(limit, 1000) });
  const entries: RecoveryEntry[] = [];
  for await (const page of pages) {
    for (const row of page) {
      entries.push({
        partitionKey: String(row.partitionKey),
        rowKey: String(row.rowKey),
        outboxPartition: row.outboxPartition,
        eventIds: JSON.parse(row.eventIds),
      });
      if (entries.length >= limit) return entries;
    }
  }
  return entries;
}

export async function removeRecoveryEntry(entry: RecoveryEntry): Promise<void> {
  await tableClient(tableNames.dueIndex).deleteEntity(entry.partitionKey, entry.rowKey).catch(ignoreStatus(404));
}

/** Publishes whichever of these events are still in the outbox (a recovery entry's work); returns how many. */
export async function publishStrandedEvents(outboxPartition: string, eventIds: readonly string[]): Promise<number> {
  await ensureTables();
  const found = await Promise.all(
    eventIds.map(async (id) => {
      try {
        const row = await tenants().getEntity<{ event: string }>(outboxPartition, outboxKey(id));
        return JSON.parse(row.event) as PendingEvent;
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    }),
  );
  const stranded = found.filter((event): event is PendingEvent => event !== undefined);
  await publishOutbox(outboxPartition, stranded);
  return stranded.length;
}

/**
 * Writes audit entries straight to their tenants' logs, for changes stored outside the Tenants
 * table. Ids derived from the change make a repeat harmless.
 */
export async function writeAuditEntries(entries: readonly AuditEntry[]): Promise<void> {
  await ensureTables();
  await Promise.all(entries.map((value) => deliver({ type: 'audit', value })));
}

/**
 * Delivers a notification at most once, whenever it is sent: a `sent|{id}` marker is created in
 * the same transaction, so the first writer of its id wins.
 */
export async function deliverOnce(notification: Notification): Promise<boolean> {
  await ensureTables();
  const partitionKey = eventPartition(notification.tenantId, notification.id);
  const marker = { partitionKey, rowKey: `${sentPrefix}${notification.id}` };
  try {
    await tenants().submitTransaction([
      ['create', marker],
      ['create', notificationRow(notification, partitionKey)],
    ]);
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
  return queryPartitions({
    client: tenants(),
    partitionKeys: tenantPartitions(tenantId),
    rowKeyPrefix: auditPrefix,
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
  return queryPartitions({
    client: tenants(),
    partitionKeys: tenantPartitions(tenantId),
    rowKeyPrefix: notificationPrefix,
    query,
    spec,
    fromRow: notificationFromRow,
  });
}
