import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { isLogEvent, webhookEventsOf } from '../domain/change';
import { isGuid, partnerTenantOfRelationship } from '../domain/ids';
import { AssignmentSet, RelationshipChange, RelationshipWrite } from '../domain/relationshipChanges';
import { normalizeName, Relationship, RelationshipRequest } from '../domain/relationships';
import { CollectionQuery, CollectionSpec } from '../query/odata';
import { customerPointers, pointerWrite } from './customerPointers';
import { dueEntryWrites } from './dueIndex';
import { eventRow } from './events';
import { Committed, execute, StoragePlan } from './executor';
import { RowOp } from './rowOps';
import { NameChange, planNames, withNames } from './names';
import { pageInMemory } from '../query/paging';
import { Keyed, Page, queryCollection, Stored } from './paging';
import {
  assignmentFromRow,
  assignmentToRow,
  ChildKind,
  childKey,
  childKinds,
  childRange,
  grantRow,
  grantKeyOfRow,
  groupReservation,
  newRelationshipIdBesideName,
  operationToRow,
  relationshipColumns,
  relationshipFromRow,
  relationshipKey,
  relationshipPartition,
  relationshipPrefix,
  relationshipToRow,
  requestProperty,
  requestsFromRow,
  tenantPartitionRange,
  warningSentRow,
} from './rows';
import { ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';
import { webhookOutbound } from './webhooks';

/**
 * Relationships and everything that lives beside them in their partition (row layout in rows.ts):
 * reads, and `commitRelationshipChange`, which turns a planned `RelationshipChange` into one
 * transaction in the relationship's partition (its rows, its events for the partner and, beside
 * them, for the customer) with its due entries and customer pointer written just before, and its
 * webhook deliveries through the outbox when a tenant of them subscribes, and runs it through the
 * one executor. A deleted relationship with children is first tombstoned and then removed
 * (`removeTombstone`).
 */
export { newRelationshipIdBesideName, relationshipFromRow, relationshipToRow };

/** `chg|{changeId}`: the outbox's witness of a change that creates no event row (rows.ts). */
const changeMarkerPrefix = 'chg|';

const relationships = () => tableClient(tableNames.tenants);

type Row = TableEntityResult<Record<string, unknown>>;

/** The row of the relationship with this id, wherever its partner is, tombstone or not, or undefined. */
async function relationshipRow(id: string): Promise<Row | undefined> {
  const partnerTenantId = partnerTenantOfRelationship(id);
  if (!partnerTenantId) return undefined;
  await ensureTables();
  try {
    const lowerCaseId = id.toLowerCase();
    return await relationships().getEntity<Record<string, unknown>>(
      relationshipPartition({ id: lowerCaseId, partnerTenantId }),
      relationshipKey(lowerCaseId),
    );
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The relationship with this id, wherever its partner is, or undefined (also once deleted). */
export async function findRelationship(id: string): Promise<Stored<Relationship> | undefined> {
  const row = await relationshipRow(id);
  return row && row.deleted !== true ? { value: relationshipFromRow(row), etag: row.etag } : undefined;
}

/** The relationship with this id, or its tombstone (deleted, children still to remove). */
export async function findRelationshipOrTombstone(
  id: string,
): Promise<(Stored<Relationship> & { tombstone: boolean }) | undefined> {
  const row = await relationshipRow(id);
  return row && { value: relationshipFromRow(row), etag: row.etag, tombstone: row.deleted === true };
}

/** The relationship with this id and its requests (properties of its row, oldest first), in one read. */
export async function findRelationshipWithRequests(
  id: string,
): Promise<(Stored<Relationship> & { requests: Keyed<RelationshipRequest>[] }) | undefined> {
  const row = await relationshipRow(id);
  if (!row || row.deleted === true) return undefined;
  const requests = requestsFromRow(row).map((value) => ({
    value,
    etag: row.etag,
    key: `${value.createdDateTime}|${value.id}`,
  }));
  return { value: relationshipFromRow(row), etag: row.etag, requests };
}

async function childRows(kind: ChildKind, relationship: Relationship): Promise<Row[]> {
  await ensureTables();
  const rows: Row[] = [];
  for await (const row of relationships().listEntities<Record<string, unknown>>({
    queryOptions: { filter: childRange(kind, relationship) },
  })) {
    rows.push(row);
  }
  return rows;
}

/** Rows of one kind under a relationship (assignments, operations). */
export async function listChildren<T>(
  kind: ChildKind,
  relationship: Relationship,
  fromRow: (row: Record<string, unknown>) => T,
): Promise<Keyed<T>[]> {
  return (await childRows(kind, relationship))
    .filter((row) => grantKeyOfRow(row) === undefined)
    .map((row) => ({ value: fromRow(row), etag: row.etag, key: String(row.rowKey) }));
}

/** A relationship's assignments and its grant, in one query. */
export async function readAssignmentSet(relationship: Relationship): Promise<AssignmentSet> {
  const set: AssignmentSet = { assignments: [] };
  for (const row of await childRows(childKinds.assignment, relationship)) {
    const key = grantKeyOfRow(row);
    if (key !== undefined) set.grant = key;
    else set.assignments.push({ value: assignmentFromRow(row), etag: row.etag });
  }
  return set;
}

export async function findChild<T>(
  kind: ChildKind,
  relationship: Relationship,
  childId: string,
  fromRow: (row: Record<string, unknown>) => T,
): Promise<Stored<T> | undefined> {
  // Children are named by GUIDs: anything else can never exist, and may hold what keys refuse.
  if (!isGuid(childId)) return undefined;
  await ensureTables();
  try {
    const row = await relationships().getEntity<Record<string, unknown>>(
      relationshipPartition(relationship),
      childKey(kind, relationship.id, childId.toLowerCase()),
    );
    return { value: fromRow(row), etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The transaction actions of one planned write (and, for a new request, the request property). */
function actionsOf(write: RelationshipWrite, partitionKey: string): TransactionAction[] {
  switch (write.kind) {
    case 'relationship': {
      const row = relationshipToRow(write.value);
      if (write.etag === null) return [['create', row]];
      // A merge keeps the request properties already on the row; a new request joins them.
      return [
        ['update', { ...row, ...(write.request ? requestProperty(write.request) : {}) }, 'Merge', { etag: write.etag }],
      ];
    }
    case 'tombstone':
    case 'remove':
      // A transaction cannot make a deletion conditional: the row is marked (at its ETag), then removed.
      return [
        [
          'update',
          { partitionKey, rowKey: relationshipKey(write.value.id), deleted: true },
          'Merge',
          { etag: write.etag },
        ],
      ];
    case 'assignment': {
      const row = assignmentToRow(partitionKey, write.value);
      if (write.etag === null)
        return [
          ['create', row],
          ['create', groupReservation(partitionKey, write.value)],
        ];
      const update: TransactionAction = ['update', row, 'Replace', { etag: write.etag }];
      return write.value.status === 'deleted'
        ? [update, ['delete', groupReservation(partitionKey, write.value)]]
        : [update];
    }
    case 'grant': {
      const row = grantRow(partitionKey, write.relationshipId, write.key);
      if (write.action === 'create') return [['create', row]];
      if (write.action === 'delete') return [['delete', row]];
      // An unconditional merge: it fails only if the grant is gone, and changes its ETag.
      return [['update', row, 'Merge', { etag: '*' }]];
    }
    case 'operation':
      return [['create', operationToRow(partitionKey, write.value)]];
    case 'warningSent':
      return [['create', warningSentRow(partitionKey, write.relationshipId, write.key)]];
  }
}

export interface CommittedRelationshipChange extends Committed {
  /** The ETag the relationship row was left with, when the change wrote it. */
  relationshipEtag?: string;
  /** The ETag the (first) assignment row was left with, when the change wrote one. */
  assignmentEtag?: string;
}

/**
 * Stores a planned relationship change. Refusals come as the executor's `TransactionRefused`
 * (a row changed since it was read: decide again; a row to insert exists: a group or warning
 * already taken), except a taken display name, which is a 409 `conflict`.
 */
export async function commitRelationshipChange(change: RelationshipChange): Promise<CommittedRelationshipChange> {
  const partitionKey = relationshipPartition(change.relationship);
  const actions: TransactionAction[] = [];
  let relationshipAt: number | undefined;
  let assignmentAt: number | undefined;
  for (const write of change.writes) {
    if (write.kind === 'relationship') relationshipAt ??= actions.length;
    if (write.kind === 'assignment') assignmentAt ??= actions.length;
    actions.push(...actionsOf(write, partitionKey));
  }
  const logRows = change.events.filter(isLogEvent).map((event) => eventRow(event, partitionKey));
  actions.push(...logRows.map((row): TransactionAction => ['create', row]));
  const names: NameChange = {
    ...change.names,
    partnerTenantId: change.relationship.partnerTenantId,
    relationshipId: change.relationship.id,
    partitionKey,
  };
  const namePlan = planNames(names);
  actions.push(...namePlan.actions);
  // A draft has no children: once it is marked, its row goes at once.
  const removed = change.writes.filter((write) => write.kind === 'remove');
  const after: RowOp[] = removed.map((write) => ({
    table: tableNames.tenants,
    mode: 'delete',
    entity: { partitionKey, rowKey: relationshipKey(write.value.id) },
  }));
  const plan: StoragePlan = {
    before: [...dueEntryWrites([...change.schedule, ...change.followUps]), ...change.pointers.map(pointerWrite)],
    transaction: actions.length > 0 ? { table: tableNames.tenants, actions } : undefined,
    after,
  };
  const webhooks = await webhookOutbound(webhookEventsOf(change.events));
  if (webhooks && plan.transaction) {
    // The witness: an event row the transaction creates, or (a follow-up, which has none) a marker
    // created with it and removed once the deliveries are out.
    const changeId = randomUUID();
    const ownEvent = logRows[0];
    const rowKey = ownEvent ? ownEvent.rowKey : `${changeMarkerPrefix}${changeId}`;
    if (!ownEvent) actions.push(['create', { partitionKey, rowKey }]);
    plan.outbound = {
      changeId,
      ...webhooks,
      witness: { table: tableNames.tenants, partitionKey, rowKey, marker: !ownEvent },
    };
  }
  const run = () => execute(plan);
  const committed = await withNames(names, namePlan, holdsName, run);
  return {
    ...committed,
    relationshipEtag: relationshipAt === undefined ? undefined : committed.etags[relationshipAt],
    assignmentEtag: assignmentAt === undefined ? undefined : committed.etags[assignmentAt],
  };
}

/** Whether the relationship with this id (still) holds `displayName`: its reservation is not an orphan. */
async function holdsName(relationshipId: string, displayName: string): Promise<boolean> {
  const owner = await findRelationship(relationshipId);
  return owner !== undefined && normalizeName(owner.value.displayName) === normalizeName(displayName);
}

/**
 * Removes a tombstoned relationship's rows (children first, the relationship row last, so a crash
 * before it leaves a tombstone that still finds its children); safe to repeat.
 */
export async function removeTombstone(relationship: Relationship): Promise<void> {
  const partitionKey = relationshipPartition(relationship);
  const children = await Promise.all(Object.values(childKinds).map((kind) => childRows(kind, relationship)));
  const deletions: TransactionAction[] = children
    .flat()
    .map((row): TransactionAction => ['delete', { partitionKey, rowKey: String(row.rowKey) }]);
  deletions.push(['delete', { partitionKey, rowKey: relationshipKey(relationship.id) }]);
  for (let start = 0; start < deletions.length; start += 100) {
    const chunk = deletions.slice(start, start + 100);
    await (
      chunk.length === 1
        ? relationships().deleteEntity(partitionKey, String((chunk[0][1] as { rowKey: string }).rowKey))
        : relationships().submitTransaction(chunk)
    ).catch(ignoreStatus(404));
  }
}

export async function listPartnerRelationships(
  partnerTenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<Relationship>,
): Promise<Page<Relationship>> {
  await ensureTables();
  return queryCollection({
    client: relationships(),
    sources: [{ partitions: tenantPartitionRange(partnerTenantId), rowKeyPrefix: relationshipPrefix }],
    query,
    spec,
    fromRow: relationshipFromRow,
    skip: (row) => row.deleted === true,
    select: relationshipColumns,
  });
}

/** Relationships a customer tenant takes part in (not drafts), confirmed against the partner rows. */
export async function listCustomerRelationships(
  customerTenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<Relationship>,
): Promise<Page<Relationship>> {
  const pointers = await customerPointers(customerTenantId);
  const found = await Promise.all(pointers.map((pointer) => findRelationship(pointer.relationshipId)));
  const visible: Keyed<Relationship>[] = [];
  for (const stored of found) {
    if (stored && stored.value.customer?.tenantId === customerTenantId && stored.value.status !== 'created') {
      visible.push({ ...stored, key: stored.value.id });
    }
  }
  return pageInMemory(visible, query, spec);
}

/**
 * Active relationships of a partner, with one customer or all (one partition range; the status and
 * customer filters are pushed down, so drafts and ended relationships are not read).
 */
export async function activeRelationshipsWith(
  partnerTenantId: string,
  customerTenantId?: string,
): Promise<Stored<Relationship>[]> {
  await ensureTables();
  const to = relationshipPrefix.slice(0, -1) + '}';
  const active = `${tenantPartitionRange(partnerTenantId)} and ${odata`RowKey ge ${relationshipPrefix} and RowKey lt ${to} and status eq ${'active'}`}`;
  const filter = customerTenantId ? `${active} and ${odata`customerTenantId eq ${customerTenantId}`}` : active;
  const found: Stored<Relationship>[] = [];
  for await (const row of relationships().listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
    if (row.deleted !== true) found.push({ value: relationshipFromRow(row), etag: row.etag });
  }
  return found;
}
