import { odata } from '@azure/data-tables';
import { LogEvent } from '../domain/change';
import { AuditEntry, Notification } from '../domain/events';
import { fromGraphDateTime } from '../domain/time';
import { CollectionQuery, CollectionSpec } from '../query/odata';
import { customerEventPartitions } from './customerPointers';
import { Page, queryCollection, RowSource } from './paging';
import { Entity, tenantOfPartition, tenantPartitions } from './rows';
import { ensureTables, tableClient, tableNames } from './tables';

/**
 * Audit entries and notifications (SPEC §9) as rows of the Tenants table. A tenant's own log is
 * the `aud|{newest first}|{id}` and `ntf|…` rows of its partitions, merged. A change stores its
 * events in its own transaction wherever it can:
 *   - in its own partition for the tenant that partition belongs to (the partner, for a
 *     relationship change): `aud|…`, `ntf|…`;
 *   - beside it for the other tenants entitled to it (the customer of a relationship):
 *     `caud|{tenantId}|{newest first}|{id}`, `cntf|…`, found through the customer's pointer to the
 *     relationship (CustomerRelationships), so the customer's copy costs no storage call of its own
 *     and no crash can separate it from the change;
 *   - otherwise (a support case lives in another table) through the outbox (outbox.ts), in its
 *     tenant's partition named by the change's aggregate.
 * Webhook events are never rows here: the outbox publishes them (webhooks.ts).
 */
const own = { audit: 'aud|', notification: 'ntf|' } as const;
const beside = { audit: 'caud|', notification: 'cntf|' } as const;

/** Newest first: RowKeys count down from the far future. */
export function newestFirstKey(timestamp: string, id: string): string {
  const inverted = 8_640_000_000_000_000 - fromGraphDateTime(timestamp).toMillis();
  return `${String(inverted).padStart(16, '0')}|${id}`;
}

function timeOf(event: LogEvent): string {
  return event.type === 'audit' ? event.value.activityDateTime : event.value.createdDateTime;
}

/** The RowKey prefix under which `tenantId`'s events of one kind live in a partition of `partitionTenant`. */
function prefixFor(type: LogEvent['type'], tenantId: string, partitionTenant: string): string {
  return tenantId === partitionTenant ? own[type] : `${beside[type]}${tenantId}|`;
}

/** The row of an event stored in `partitionKey` (its tenant's own, or beside a change of another tenant's). */
export function eventRow(event: LogEvent, partitionKey: string): Entity {
  const rowKey =
    prefixFor(event.type, event.value.tenantId, tenantOfPartition(partitionKey)) +
    newestFirstKey(timeOf(event), event.value.id);
  return event.type === 'audit'
    ? auditRow(event.value, partitionKey, rowKey)
    : notificationRow(event.value, partitionKey, rowKey);
}

function auditRow(entry: AuditEntry, partitionKey: string, rowKey: string): Entity {
  return {
    partitionKey,
    rowKey,
    id: entry.id,
    tenantId: entry.tenantId,
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

/** Whose log a row belongs to: its `tenantId` (rows written beside another tenant's change carry it). */
const tenantOfRow = (row: Record<string, unknown>): string =>
  typeof row.tenantId === 'string' ? row.tenantId : tenantOfPartition(String(row.partitionKey));

export function auditFromRow(row: Record<string, unknown>): AuditEntry {
  return {
    id: String(row.id),
    tenantId: tenantOfRow(row),
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

function notificationRow(notification: Notification, partitionKey: string, rowKey: string): Entity {
  return {
    partitionKey,
    rowKey,
    id: notification.id,
    tenantId: notification.tenantId,
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
    tenantId: tenantOfRow(row),
    createdDateTime: String(row.createdDateTime),
    kind: row.kind as Notification['kind'],
    recipients: JSON.parse(String(row.recipients)),
    relationshipId: typeof row.relationshipId === 'string' ? row.relationshipId : undefined,
    subject: String(row.subject),
  };
}

const tenants = () => tableClient(tableNames.tenants);

/** A tenant's own partitions and the partitions of the relationships it is the customer of. */
async function sourcesOf(tenantId: string, type: LogEvent['type']): Promise<RowSource[]> {
  const partitionKeys = await customerEventPartitions(tenantId);
  return [
    ...tenantPartitions(tenantId).map((partitionKey) => ({
      partitions: odata`PartitionKey eq ${partitionKey}`,
      rowKeyPrefix: own[type],
    })),
    ...[...new Set(partitionKeys)].map((partitionKey) => ({
      partitions: odata`PartitionKey eq ${partitionKey}`,
      rowKeyPrefix: `${beside[type]}${tenantId}|`,
    })),
  ];
}

/**
 * A tenant's logs grow without end: a read that is not a page in their own order (newest first),
 * such as `$count` or another `$orderby`, may take at most this many entries (README, Storage).
 */
export const maxLogEntriesRead = 5000;

const bounded = (timeProperty: string) => ({
  naturalOrder: [{ path: timeProperty, descending: true }],
  maxRows: maxLogEntriesRead,
  tooMany: `This query would read more than ${maxLogEntriesRead} entries: narrow it with a date range, e.g. $filter=${timeProperty} ge 2026-01-01T00:00:00Z and ${timeProperty} lt 2026-02-01T00:00:00Z.`,
});

/** A tenant's audit log page, newest first (SPEC §9). */
export async function listAuditEntries(
  tenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<AuditEntry>,
): Promise<Page<AuditEntry>> {
  await ensureTables();
  return queryCollection({
    client: tenants(),
    sources: await sourcesOf(tenantId, 'audit'),
    query,
    spec,
    fromRow: auditFromRow,
    bound: bounded('activityDateTime'),
  });
}

/** A tenant's notification outbox page, newest first. */
export async function listNotifications(
  tenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<Notification>,
): Promise<Page<Notification>> {
  await ensureTables();
  return queryCollection({
    client: tenants(),
    sources: await sourcesOf(tenantId, 'notification'),
    query,
    spec,
    fromRow: notificationFromRow,
    bound: bounded('createdDateTime'),
  });
}
