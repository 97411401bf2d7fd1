import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
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
 * is carried by a recovery entry written just before (see `prepareEvents`), then copied to its
 * tenant in the partition its id names (so copying twice is harmless).
 */
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

/** Event ids are fresh per change (`withFreshId`), so an existing row is this very event: delivered already. */
async function deliver(event: PendingEvent): Promise<void> {
  await tenants()
    .createEntity(eventRow(event, eventPartition(event.value.tenantId, event.value.id)))
    .catch(ignoreStatus(409));
}

/**
 * Recovery entries: where to look for events a crash may have stranded. They are laid out as due
 * entries (dueIndex.ts) in a table of their own, as they come and go within minutes.
 */
export const eventRecoveryJob = 'publishEvents';
const recoveryTable = () => tableClient(tableNames.eventRecovery);
/**
 * A change publishes its own events at once; only events still pending after this were stranded.
 * Measured on real time, never the sandbox clock: a clock standing still (or moved back) would
 * otherwise keep a stranded entry from ever coming due.
 */
const recoveryDelayMinutes = 2;

interface RecoveryKey {
  partitionKey: string;
  rowKey: string;
}

function recoveryKey(partitionKey: string, outbox: readonly PendingEvent[], realNow: DateTime): RecoveryKey {
  const dueAt = toGraphDateTime(realNow.plus({ minutes: recoveryDelayMinutes }));
  return {
    partitionKey: duePartition(eventRecoveryJob, dueAt, outbox[0].value.id),
    rowKey: `${dueAt}|${partitionKey}|${outbox[0].value.id}`,
  };
}

/** Copies outbox events to their tenants, then drops their recovery entry. */
async function publishOutbox(outbox: readonly PendingEvent[], recovery: RecoveryKey): Promise<void> {
  await Promise.all(outbox.map(deliver));
  await removeRecoveryEntry(recovery);
}

/**
 * A change's transaction is conditional on its ETag, so it is stored once, and its events are
 * new rows (inserted, which costs the store one lookup less than an upsert). Ids derived from the
 * transition alone would collide for two changes in the same millisecond, so each stored event
 * gets a fresh id, which keeps copying it twice harmless.
 */
function withFreshId(event: PendingEvent): PendingEvent {
  return event.type === 'audit'
    ? { type: 'audit', value: { ...event.value, id: randomUUID() } }
    : { type: 'notification', value: { ...event.value, id: randomUUID() } };
}

/** The events of one change, ready for its transaction in one tenant's partition. */
export interface PreparedEvents {
  /** To add to the change's transaction: the partition tenant's own events. */
  actions: TransactionAction[];
  /** Once the transaction is stored: copies the other tenants' events to them. */
  publish(): Promise<void>;
}

/**
 * Prepares a change's events for its transaction in `partitionKey`. Events for other tenants
 * cannot join that transaction, so a recovery entry carrying them is written first (due a little
 * later), naming one of the change's own event rows as its witness: the witness exists if and only
 * if the change was stored. The change then publishes them itself and removes the entry; after a
 * crash in between, the publishEvents job does, with one point read and never a scan.
 */
export async function prepareEvents(
  partitionKey: string,
  events: DomainEvents,
  realNow: DateTime = DateTime.utc(),
): Promise<PreparedEvents> {
  const all = pending(events).map(withFreshId);
  const tenantId = tenantOfPartition(partitionKey);
  const own = all.filter((event) => event.value.tenantId === tenantId);
  const outbox = all.filter((event) => event.value.tenantId !== tenantId);
  const actions: TransactionAction[] = own.map((event) => ['create', eventRow(event, partitionKey)]);
  if (outbox.length === 0) return { actions, publish: async () => undefined };
  // Every change is in the log of the tenant whose partition stores it (SPEC §9): the partner's.
  if (own.length === 0) throw new Error(`A change in ${partitionKey} has events for other tenants but none of its own`);

  await ensureTables();
  const recovery = recoveryKey(partitionKey, outbox, realNow);
  await recoveryTable().createEntity({
    ...recovery,
    witnessPartition: partitionKey,
    witnessRowKey: eventRow(own[0], partitionKey).rowKey,
    events: JSON.stringify(outbox),
  });
  return { actions, publish: () => publishOutbox(outbox, recovery) };
}

export interface RecoveryEntry extends RecoveryKey {
  /** A row the change created in its own transaction: it exists if and only if the change was stored. */
  witnessPartition: string;
  witnessRowKey: string;
  /** The other tenants' events of the change. */
  events: string;
}

/** Recovery entries due by `realNow`, oldest day first: the same ranges as every due-date query. */
export async function dueRecoveryEntries(realNow: string, limit: number): Promise<RecoveryEntry[]> {
  await ensureTables();
  const pages = recoveryTable()
    .listEntities<RecoveryEntry>({ queryOptions: { filter: dueFilter(eventRecoveryJob, realNow) } })
    .byPage({ maxPageSize: Math.min(limit, 1000) });
  const entries: RecoveryEntry[] = [];
  for await (const page of pages) {
    for (const row of page) {
      entries.push(row);
      if (entries.length >= limit) return entries;
    }
  }
  return entries;
}

export async function removeRecoveryEntry(entry: RecoveryKey): Promise<void> {
  await recoveryTable().deleteEntity(entry.partitionKey, entry.rowKey).catch(ignoreStatus(404));
}

/**
 * A recovery entry's work: publishes its events if their change was stored (its witness exists),
 * then removes the entry either way. Returns how many events it published.
 */
export async function recoverEvents(entry: RecoveryEntry): Promise<number> {
  await ensureTables();
  let stored = true;
  try {
    await tenants().getEntity(entry.witnessPartition, entry.witnessRowKey, { queryOptions: { select: ['RowKey'] } });
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    stored = false;
  }
  const events = stored ? (JSON.parse(entry.events) as PendingEvent[]) : [];
  await publishOutbox(events, entry);
  return events.length;
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
