import { odata, TableEntityResult, TableTransactionResponse, TransactionAction } from '@azure/data-tables';
import { AccessAssignment, affectsAssignments, assignmentsAfter } from '../domain/assignments';
import { conflict } from '../domain/errors';
import { ChangeCause, DomainEvents, eventsOf } from '../domain/events';
import { partnerTenantOfRelationship } from '../domain/ids';
import { dueEntriesFor } from '../domain/maintenance';
import { Operation } from '../domain/operations';
import { normalizeName, Relationship, RelationshipRequest } from '../domain/relationships';
import { CollectionQuery, CollectionSpec } from '../http/odata';
import { addDueEntries } from './dueIndex';
import { prepareEvents } from './events';
import { Keyed, Page, pageInMemory, queryPartition, Stored } from './paging';
import {
  assignmentFromRow,
  assignmentToRow,
  ChildKind,
  childKey,
  childKinds,
  childRange,
  Entity,
  groupReservation,
  nameKey,
  namePartition,
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
} from './rows';
import { conditionalWrite, ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * Relationships and everything that changes with them (row layout in rows.ts). Every change is
 * one transaction conditional on the relationship's ETag, merging into its row (where its requests
 * are properties, so a request costs no row of its own) and carrying its children and its events;
 * due-date entries and customer pointers are written just before, as both are harmless should the
 * change itself not happen. CustomerRelationships holds pointer rows (customer → relationship id)
 * that readers confirm against the partner row, so the customer's view never misses one.
 * A deleted or purged relationship is first tombstoned (with its events) and then removed.
 */
export { newRelationshipIdBesideName, relationshipFromRow, relationshipToRow };

const relationships = () => tableClient(tableNames.tenants);
const customerPointers = () => tableClient(tableNames.customerRelationships);

/** Assignment changes carried in the relationship's own transaction (Table Storage allows 100 actions). */
const assignmentsPerTransaction = 40;

const nameTaken = (displayName: string) =>
  conflict(`A relationship named '${displayName}' already exists for this partner. Display names must be unique.`);

/** The live (not tombstoned) row of the relationship with this id, wherever its partner is, or undefined. */
async function relationshipRow(id: string): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
  const partnerTenantId = partnerTenantOfRelationship(id);
  if (!partnerTenantId) return undefined;
  await ensureTables();
  try {
    const lowerCaseId = id.toLowerCase();
    const row = await relationships().getEntity<Record<string, unknown>>(
      relationshipPartition({ id: lowerCaseId, partnerTenantId }),
      relationshipKey(lowerCaseId),
    );
    return row.deleted === true ? undefined : row;
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The relationship with this id, wherever its partner is, or undefined. */
export async function findRelationship(id: string): Promise<Stored<Relationship> | undefined> {
  const row = await relationshipRow(id);
  return row && { value: relationshipFromRow(row), etag: row.etag };
}

/** The relationship with this id and its requests (properties of its row, oldest first), in one read. */
export async function findRelationshipWithRequests(
  id: string,
): Promise<(Stored<Relationship> & { requests: Keyed<RelationshipRequest>[] }) | undefined> {
  const row = await relationshipRow(id);
  if (!row) return undefined;
  const requests = requestsFromRow(row).map((value) => ({
    value,
    etag: row.etag,
    key: `${value.createdDateTime}|${value.id}`,
  }));
  return { value: relationshipFromRow(row), etag: row.etag, requests };
}

/** Rows of one kind under a relationship (assignments, operations). */
export async function listChildren<T>(
  kind: ChildKind,
  relationship: Relationship,
  fromRow: (row: Record<string, unknown>) => T,
): Promise<Keyed<T>[]> {
  await ensureTables();
  const rows = relationships().listEntities<Record<string, unknown>>({
    queryOptions: { filter: childRange(kind, relationship) },
  });
  const children: Keyed<T>[] = [];
  for await (const row of rows) children.push({ value: fromRow(row), etag: row.etag, key: String(row.rowKey) });
  return children;
}

export async function findChild<T>(
  kind: ChildKind,
  relationship: Relationship,
  childId: string,
  fromRow: (row: Record<string, unknown>) => T,
): Promise<Stored<T> | undefined> {
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

/** Deletes a name reservation still at `etag`; gone or changed means another writer got there first. */
async function deleteReservation(partitionKey: string, rowKey: string, etag: string | undefined): Promise<void> {
  await relationships().deleteEntity(partitionKey, rowKey, { etag }).catch(ignoreStatus(404, 412));
}

/** A reservation made outside its relationship's transaction counts as in flight this long. */
const pendingReservationMs = 60_000;

/**
 * A name reservation whose relationship does not hold the name was left by a crash (between the
 * steps of a delete or a rename); it is released so the name becomes usable, as intended. One
 * made outside its relationship's transaction is not released while that may still be running.
 */
async function releaseOrphanedName(partnerTenantId: string, displayName: string): Promise<boolean> {
  const partitionKey = namePartition(partnerTenantId, displayName);
  let reservation: TableEntityResult<Record<string, unknown>>;
  try {
    reservation = await relationships().getEntity(partitionKey, nameKey(displayName));
  } catch (error) {
    if (isStatus(error, 404)) return true;
    throw error;
  }
  const reservedAt = Number(reservation.pendingSince);
  if (reservedAt > 0 && Date.now() - reservedAt < pendingReservationMs) return false;
  const owner = await findRelationship(String(reservation.relationshipId));
  if (owner && normalizeName(owner.value.displayName) === normalizeName(displayName)) return false;
  await deleteReservation(partitionKey, nameKey(displayName), reservation.etag);
  return true;
}

/** Runs a write that creates `relationship`'s name reservation; a 409 means the name is taken, unless orphaned. */
async function reservingName<T>(relationship: Relationship, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      if (attempt > 0 || !(await releaseOrphanedName(relationship.partnerTenantId, relationship.displayName))) {
        throw nameTaken(relationship.displayName);
      }
    }
  }
  throw nameTaken(relationship.displayName);
}

/**
 * Submits `actions` (in the relationship's partition) with a new reservation of its name: in the
 * same transaction when the name's partition is the relationship's (new ids are chosen so), else
 * reserved just before, marked in flight, and released again should the transaction fail.
 * Returns the response and the index of the transaction's first action among its sub-responses.
 */
async function submitWithName(
  relationship: Relationship,
  actions: TransactionAction[],
): Promise<{ response: TableTransactionResponse; first: number }> {
  const reservation: Entity = {
    partitionKey: namePartition(relationship.partnerTenantId, relationship.displayName),
    rowKey: nameKey(relationship.displayName),
    relationshipId: relationship.id,
  };
  if (reservation.partitionKey === relationshipPartition(relationship)) {
    const response = await reservingName(relationship, () =>
      relationships().submitTransaction([['create', reservation], ...actions]),
    );
    return { response, first: 1 };
  }
  const reserved = await reservingName(relationship, () =>
    relationships().createEntity({ ...reservation, pendingSince: Date.now() }),
  );
  try {
    return { response: await relationships().submitTransaction(actions), first: 0 };
  } catch (error) {
    await deleteReservation(reservation.partitionKey, reservation.rowKey, reserved.etag);
    throw error;
  }
}

/**
 * Releases a name the relationship no longer holds: in its transaction when they share a
 * partition, else just after, and only while the reservation is still this relationship's (once
 * the change is stored, another creator may already have freed and taken the name).
 */
function nameRelease(relationship: Relationship): { action?: TransactionAction; after: () => Promise<void> } {
  const partitionKey = namePartition(relationship.partnerTenantId, relationship.displayName);
  const rowKey = nameKey(relationship.displayName);
  if (partitionKey === relationshipPartition(relationship)) {
    return { action: ['delete', { partitionKey, rowKey }], after: async () => undefined };
  }
  // A crash before this leaves an orphan, which releaseOrphanedName frees when the name is wanted.
  const after = async (): Promise<void> => {
    try {
      const reservation = await relationships().getEntity(partitionKey, rowKey);
      if (reservation.relationshipId === relationship.id) {
        await deleteReservation(partitionKey, rowKey, reservation.etag);
      }
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  };
  return { after };
}

/** The ETag the transaction gave the action at `index` (Table Storage answers in action order). */
function etagAt(response: TableTransactionResponse, index: number): string {
  const etag = response.subResponses[index]?.etag;
  if (!etag) throw new Error('The transaction response carries no ETag for the relationship row');
  return etag;
}

function eventsFor(
  previous: Relationship | undefined,
  next: Relationship | undefined,
  cause: ChangeCause,
): DomainEvents {
  return eventsOf(previous, next, cause.initiatedBy, cause.at);
}

/** Inserts a new relationship together with its name reservation and audit entry, atomically. */
export async function insertRelationship(
  relationship: Relationship,
  cause: ChangeCause,
): Promise<Stored<Relationship>> {
  await ensureTables();
  if (visibleToCustomer(undefined, relationship)) await addCustomerPointer(relationship);
  // A relationship may be born active (default GDAP of a new customer): its end date is due too.
  await addDueEntries(dueEntriesFor(undefined, relationship));
  const events = await prepareEvents(relationshipPartition(relationship), eventsFor(undefined, relationship, cause));
  const { response, first } = await submitWithName(relationship, [
    ['create', relationshipToRow(relationship)],
    ...events.actions,
  ]);
  await events.publish();
  return { value: relationship, etag: etagAt(response, first) };
}

/** Actions that store changed assignments; a deleted one frees its security group. */
function assignmentActions(partitionKey: string, changes: readonly Stored<AccessAssignment>[]): TransactionAction[] {
  return changes.flatMap(({ value, etag }): TransactionAction[] => [
    ['update', assignmentToRow(partitionKey, value), 'Replace', { etag }],
    ...(value.status === 'deleted' ? [['delete', groupReservation(partitionKey, value)] as TransactionAction] : []),
  ]);
}

/** What a relationship change does to its assignments, with the ETags they were read at. */
async function assignmentConsequences(
  previous: Relationship,
  next: Relationship,
  at: string,
): Promise<Stored<AccessAssignment>[]> {
  if (!affectsAssignments(previous, next)) return [];
  const current = await listChildren(childKinds.assignment, previous, assignmentFromRow);
  const etags = new Map(current.map((item) => [item.value.id, item.etag]));
  return assignmentsAfter(
    next,
    current.map((item) => item.value),
    at,
  ).map((value) => ({
    value,
    etag: etags.get(value.id) as string,
  }));
}

/**
 * Replaces a relationship if its row still has `etag` (a `stale` error otherwise). Its request
 * or operation row, name move, assignment consequences (SPEC §2.1, §2.2) and events go in the
 * same transaction.
 */
export async function replaceRelationship(
  previous: Relationship,
  next: Relationship,
  etag: string,
  cause: ChangeCause,
  extras: { request?: RelationshipRequest; operation?: Operation } = {},
): Promise<Stored<Relationship>> {
  await ensureTables();
  const partitionKey = relationshipPartition(next);
  if (visibleToCustomer(previous, next)) await addCustomerPointer(next);
  await addDueEntries(dueEntriesFor(previous, next));
  const assignments = await assignmentConsequences(previous, next, cause.at);
  const events = await prepareEvents(partitionKey, eventsFor(previous, next, cause));
  // A merge keeps the request properties already on the row; a new request joins them.
  const row = { ...relationshipToRow(next), ...(extras.request ? requestProperty(extras.request) : {}) };
  const actions: TransactionAction[] = [
    ['update', row, 'Merge', { etag }],
    ...events.actions,
    ...assignmentActions(partitionKey, assignments.slice(0, assignmentsPerTransaction)),
  ];
  if (extras.operation) actions.push(['create', operationToRow(partitionKey, extras.operation)]);
  let updatedEtag: string;
  if (nameKey(previous.displayName) !== nameKey(next.displayName)) {
    const release = nameRelease(previous);
    if (release.action) actions.push(release.action);
    const { response, first } = await conditionalWrite(submitWithName(next, actions));
    updatedEtag = etagAt(response, first);
    await release.after();
  } else {
    updatedEtag = etagAt(await conditionalWrite(relationships().submitTransaction(actions)), 0);
  }
  // Past the transaction's capacity the rest follow; access already follows the relationship row.
  for (const change of assignments.slice(assignmentsPerTransaction)) {
    await relationships()
      .submitTransaction(assignmentActions(partitionKey, [change]))
      .catch(ignoreStatus(412, 404));
  }
  await events.publish();
  return { value: next, etag: updatedEtag };
}

/**
 * Deletes a relationship (a draft on DELETE, or an ended one when purged) if its row still has
 * `etag`: tombstone, name release and events in one transaction, then its rows are removed.
 */
export async function deleteRelationship(relationship: Relationship, etag: string, cause: ChangeCause): Promise<void> {
  await ensureTables();
  const partitionKey = relationshipPartition(relationship);
  const events = await prepareEvents(partitionKey, eventsFor(relationship, undefined, cause));
  const release = nameRelease(relationship);
  await conditionalWrite(
    relationships().submitTransaction([
      ['update', { partitionKey, rowKey: relationshipKey(relationship.id), deleted: true }, 'Merge', { etag }],
      ...(release.action ? [release.action] : []),
      ...events.actions,
    ]),
  );
  await release.after();
  await events.publish();
  await removeTombstone(relationship);
}

/** Removes a tombstoned relationship's rows; safe to repeat. */
async function removeTombstone(relationship: Relationship): Promise<void> {
  const partitionKey = relationshipPartition(relationship);
  const deletions: TransactionAction[] = [];
  for (const kind of Object.values(childKinds)) {
    for await (const row of relationships().listEntities({
      queryOptions: { filter: childRange(kind, relationship) },
    })) {
      deletions.push(['delete', { partitionKey, rowKey: String(row.rowKey) }]);
    }
  }
  // The relationship row goes last, so a crash before it leaves a tombstone that still finds its children.
  deletions.push(['delete', { partitionKey, rowKey: relationshipKey(relationship.id) }]);
  for (let start = 0; start < deletions.length; start += 100) {
    await relationships()
      .submitTransaction(deletions.slice(start, start + 100))
      .catch(ignoreStatus(404));
  }
  if (relationship.customer) {
    await customerPointers().deleteEntity(relationship.customer.tenantId, relationship.id).catch(ignoreStatus(404));
  }
}

/** Writes one transaction in a relationship's partition (children only; the relationship row is not touched). */
export async function submitChildren(actions: TransactionAction[]): Promise<TableTransactionResponse> {
  await ensureTables();
  return relationships().submitTransaction(actions);
}

export async function listPartnerRelationships(
  partnerTenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<Relationship>,
): Promise<Page<Relationship>> {
  await ensureTables();
  return queryPartition({
    client: relationships(),
    partitions: tenantPartitionRange(partnerTenantId),
    rowKeyPrefix: relationshipPrefix,
    query,
    spec,
    fromRow: relationshipFromRow,
    skip: (row) => row.deleted === true,
    select: relationshipColumns,
  });
}

/**
 * Whether a change makes the relationship appear in a customer's view (drafts never do), so the
 * customer's pointer must be written first.
 */
function visibleToCustomer(previous: Relationship | undefined, next: Relationship): boolean {
  if (!next.customer || next.status === 'created') return false;
  return !previous || previous.status === 'created' || previous.customer?.tenantId !== next.customer.tenantId;
}

async function addCustomerPointer(relationship: Relationship): Promise<void> {
  if (!relationship.customer) return;
  const pointer: Entity = {
    partitionKey: relationship.customer.tenantId,
    rowKey: relationship.id,
    partnerTenantId: relationship.partnerTenantId,
  };
  await customerPointers().upsertEntity(pointer, 'Replace');
}

/** Relationships a customer tenant takes part in (not drafts), confirmed against the partner rows. */
export async function listCustomerRelationships(
  customerTenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<Relationship>,
): Promise<Page<Relationship>> {
  await ensureTables();
  const pointers = customerPointers().listEntities({
    queryOptions: { filter: odata`PartitionKey eq ${customerTenantId}` },
  });
  const ids: string[] = [];
  for await (const pointer of pointers) ids.push(String(pointer.rowKey));
  const found = await Promise.all(ids.map((id) => findRelationship(id)));
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
