import { odata, TableEntityResult, TableTransactionResponse, TransactionAction } from '@azure/data-tables';
import { conflict } from '../domain/errors';
import { ChangeCause, DomainEvents, eventsOf } from '../domain/events';
import { dueEntriesFor } from '../domain/maintenance';
import { partnerTenantOfRelationship } from '../domain/ids';
import { normalizeName, Relationship, RelationshipRequest } from '../domain/relationships';
import { CollectionQuery, CollectionSpec } from '../http/odata';
import { Keyed, Page, pageInMemory, queryPartition, Stored } from './paging';
import { addDueEntries } from './dueIndex';
import { pendingEventActions, publishEvents, publishPendingEvents } from './events';
import { conditionalWrite, encodeKey, ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Relationships table, one partition per partner tenant, so that a relationship, its name
 * reservation and its requests change together in one entity-group transaction:
 *   rel|{id}                 the relationship
 *   name|{lower-case name}   reserves the display name (unique per partner, SPEC §2)
 *   req|{id}|{requestId}     a request on the relationship (SPEC §3.1)
 *   evt|{eventId}            audit entries and notifications of a change, until published
 * A deleted or purged relationship is first tombstoned (with its events, in one transaction
 * conditional on its ETag) and then removed, so no crash can lose a deletion's audit entry.
 * Every change also writes its due-date index entries first (see dueIndex.ts).
 * CustomerRelationships holds pointer rows (customer tenant → relationship id) written before the
 * partner-side change that makes them true; readers confirm against the partner row, so a pointer
 * left by a crash is harmless and the customer's view never misses a relationship.
 */
const relationshipPrefix = 'rel|';
const namePrefix = 'name|';
const requestPrefix = 'req|';

const relationshipKey = (id: string): string => `${relationshipPrefix}${id}`;
const nameKey = (displayName: string): string => `${namePrefix}${encodeKey(normalizeName(displayName))}`;
const requestKey = (relationshipId: string, requestId: string): string =>
  `${requestPrefix}${relationshipId}|${requestId}`;

/** Every request row of one relationship: RowKeys between `req|{id}|` and `req|{id}}` ('}' follows '|'). */
function requestRange(relationship: Relationship): string {
  const from = `${requestPrefix}${relationship.id}|`;
  const to = `${requestPrefix}${relationship.id}}`;
  return odata`PartitionKey eq ${relationship.partnerTenantId} and RowKey ge ${from} and RowKey lt ${to}`;
}

type Row = TableEntityResult<Record<string, unknown>>;

export function relationshipToRow(
  relationship: Relationship,
): { partitionKey: string; rowKey: string } & Record<string, unknown> {
  return {
    partitionKey: relationship.partnerTenantId,
    rowKey: relationshipKey(relationship.id),
    id: relationship.id,
    displayName: relationship.displayName,
    nameKey: nameKey(relationship.displayName),
    duration: relationship.duration,
    autoExtendDuration: relationship.autoExtendDuration,
    customerTenantId: relationship.customer?.tenantId,
    customerDisplayName: relationship.customer?.displayName,
    roleIds: JSON.stringify(relationship.roleIds),
    status: relationship.status,
    createdDateTime: relationship.createdDateTime,
    lastModifiedDateTime: relationship.lastModifiedDateTime,
    activatedDateTime: relationship.activatedDateTime ?? undefined,
    endDateTime: relationship.endDateTime ?? undefined,
    lockedDateTime: relationship.lockedDateTime ?? undefined,
  };
}

const optionalString = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function relationshipFromRow(row: Record<string, unknown>): Relationship {
  const customerTenantId = optionalString(row.customerTenantId);
  return {
    id: String(row.id),
    partnerTenantId: String(row.partitionKey),
    displayName: String(row.displayName),
    duration: String(row.duration),
    autoExtendDuration: row.autoExtendDuration === 'P180D' ? 'P180D' : 'PT0S',
    customer: customerTenantId
      ? { tenantId: customerTenantId, displayName: optionalString(row.customerDisplayName) ?? '' }
      : null,
    roleIds: JSON.parse(String(row.roleIds)) as string[],
    status: row.status as Relationship['status'],
    createdDateTime: String(row.createdDateTime),
    lastModifiedDateTime: String(row.lastModifiedDateTime),
    activatedDateTime: optionalString(row.activatedDateTime),
    endDateTime: optionalString(row.endDateTime),
    lockedDateTime: optionalString(row.lockedDateTime),
  };
}

function requestToRow(
  partnerTenantId: string,
  request: RelationshipRequest,
): { partitionKey: string; rowKey: string } & Record<string, unknown> {
  return { partitionKey: partnerTenantId, rowKey: requestKey(request.relationshipId, request.id), ...request };
}

function requestFromRow(row: Record<string, unknown>): RelationshipRequest {
  return {
    id: String(row.id),
    relationshipId: String(row.relationshipId),
    action: row.action as RelationshipRequest['action'],
    status: row.status as RelationshipRequest['status'],
    createdDateTime: String(row.createdDateTime),
    lastModifiedDateTime: String(row.lastModifiedDateTime),
  };
}

const relationships = () => tableClient(tableNames.relationships);
const customerPointers = () => tableClient(tableNames.customerRelationships);

const nameTaken = (displayName: string) =>
  conflict(`A relationship named '${displayName}' already exists for this partner. Display names must be unique.`);

/** The relationship with this id, wherever its partner is, or undefined. */
export async function findRelationship(id: string): Promise<Stored<Relationship> | undefined> {
  const partnerTenantId = partnerTenantOfRelationship(id);
  if (!partnerTenantId) return undefined;
  await ensureTables();
  try {
    const row = await relationships().getEntity<Record<string, unknown>>(
      partnerTenantId,
      relationshipKey(id.toLowerCase()),
    );
    return { value: relationshipFromRow(row), etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/**
 * A name reservation whose relationship is gone was left by a crash between the two steps of a
 * delete; it is released so the name becomes usable, as the delete intended.
 */
async function releaseOrphanedName(partnerTenantId: string, displayName: string): Promise<boolean> {
  let reservation: Row;
  try {
    reservation = await relationships().getEntity(partnerTenantId, nameKey(displayName));
  } catch (error) {
    if (isStatus(error, 404)) return true;
    throw error;
  }
  const owner = await findRelationship(String(reservation.relationshipId));
  if (owner && normalizeName(owner.value.displayName) === normalizeName(displayName)) return false;
  try {
    await relationships().deleteEntity(partnerTenantId, nameKey(displayName), { etag: reservation.etag });
  } catch (error) {
    if (!isStatus(error, 404) && !isStatus(error, 412)) throw error;
  }
  return true;
}

/** Submits `actions` after a new name reservation; the response's sub-responses follow the actions shifted by one. */
async function reserveNameWith(
  relationship: Relationship,
  actions: TransactionAction[],
): Promise<TableTransactionResponse> {
  const reservation: TransactionAction = [
    'create',
    {
      partitionKey: relationship.partnerTenantId,
      rowKey: nameKey(relationship.displayName),
      relationshipId: relationship.id,
    },
  ];
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return await relationships().submitTransaction([reservation, ...actions]);
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      if (attempt > 0 || !(await releaseOrphanedName(relationship.partnerTenantId, relationship.displayName))) {
        throw nameTaken(relationship.displayName);
      }
    }
  }
  throw nameTaken(relationship.displayName);
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
  if (relationship.customer) await addCustomerPointer(relationship);
  const events = eventsFor(undefined, relationship, cause);
  const response = await reserveNameWith(relationship, [
    ['create', relationshipToRow(relationship)],
    ...pendingEventActions(relationship.partnerTenantId, events),
  ]);
  await publishEvents(relationship.partnerTenantId, events);
  return { value: relationship, etag: etagAt(response, 1) };
}

/**
 * Replaces a relationship if its row still has `etag` (a `stale` error otherwise): its request
 * row, name move and events go in the same transaction; due-date entries and the customer pointer
 * are written just before, as both are harmless should the change itself not happen.
 */
export async function replaceRelationship(
  previous: Relationship,
  next: Relationship,
  etag: string,
  cause: ChangeCause,
  request?: RelationshipRequest,
): Promise<Stored<Relationship>> {
  await ensureTables();
  await publishPendingEvents(next.partnerTenantId);
  if (next.customer && next.customer.tenantId !== previous.customer?.tenantId) await addCustomerPointer(next);
  await addDueEntries(dueEntriesFor(previous, next));
  const events = eventsFor(previous, next, cause);
  const actions: TransactionAction[] = [
    ['update', relationshipToRow(next), 'Replace', { etag }],
    ...pendingEventActions(next.partnerTenantId, events),
  ];
  if (request) actions.push(['create', requestToRow(next.partnerTenantId, request)]);
  let updatedEtag: string;
  if (nameKey(previous.displayName) !== nameKey(next.displayName)) {
    actions.push(['delete', { partitionKey: previous.partnerTenantId, rowKey: nameKey(previous.displayName) }]);
    updatedEtag = etagAt(await conditionalWrite(reserveNameWith(next, actions)), 1);
  } else {
    updatedEtag = etagAt(await conditionalWrite(relationships().submitTransaction(actions)), 0);
  }
  await publishEvents(next.partnerTenantId, events);
  return { value: next, etag: updatedEtag };
}

/**
 * Deletes a relationship (a draft on DELETE, or an ended one when purged) if its row still has
 * `etag`: tombstone, name release and events in one transaction, then its rows are removed.
 */
export async function deleteRelationship(relationship: Relationship, etag: string, cause: ChangeCause): Promise<void> {
  await ensureTables();
  await publishPendingEvents(relationship.partnerTenantId);
  const partitionKey = relationship.partnerTenantId;
  const events = eventsFor(relationship, undefined, cause);
  await conditionalWrite(
    relationships().submitTransaction([
      ['update', { partitionKey, rowKey: relationshipKey(relationship.id), deleted: true }, 'Merge', { etag }],
      ['delete', { partitionKey, rowKey: nameKey(relationship.displayName) }],
      ...pendingEventActions(partitionKey, events),
    ]),
  );
  await publishEvents(partitionKey, events);
  await removeTombstone(relationship);
}

/** Removes a tombstoned relationship's rows; safe to repeat. */
async function removeTombstone(relationship: Relationship): Promise<void> {
  const partitionKey = relationship.partnerTenantId;
  const deletions: TransactionAction[] = [];
  for await (const row of relationships().listEntities({ queryOptions: { filter: requestRange(relationship) } })) {
    deletions.push(['delete', { partitionKey, rowKey: String(row.rowKey) }]);
  }
  // The relationship row goes last, so a crash before it leaves a tombstone that still finds its requests.
  deletions.push(['delete', { partitionKey, rowKey: relationshipKey(relationship.id) }]);
  for (let start = 0; start < deletions.length; start += 100) {
    await relationships()
      .submitTransaction(deletions.slice(start, start + 100))
      .catch((error: unknown) => {
        if (!isStatus(error, 404)) throw error;
      });
  }
  if (relationship.customer) {
    await customerPointers()
      .deleteEntity(relationship.customer.tenantId, relationship.id)
      .catch((error: unknown) => {
        if (!isStatus(error, 404)) throw error;
      });
  }
}

export async function listPartnerRelationships(
  partnerTenantId: string,
  query: CollectionQuery,
  spec: CollectionSpec<Relationship>,
): Promise<Page<Relationship>> {
  await ensureTables();
  return queryPartition({
    client: relationships(),
    partitionKey: partnerTenantId,
    rowKeyPrefix: relationshipPrefix,
    query,
    spec,
    fromRow: relationshipFromRow,
    skip: (row) => row.deleted === true,
  });
}

async function addCustomerPointer(relationship: Relationship): Promise<void> {
  if (!relationship.customer) return;
  await customerPointers().upsertEntity(
    {
      partitionKey: relationship.customer.tenantId,
      rowKey: relationship.id,
      partnerTenantId: relationship.partnerTenantId,
    },
    'Replace',
  );
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

export async function listRequests(relationship: Relationship): Promise<Keyed<RelationshipRequest>[]> {
  await ensureTables();
  const rows = relationships().listEntities<Record<string, unknown>>({
    queryOptions: {
      filter: requestRange(relationship),
    },
  });
  const requests: Keyed<RelationshipRequest>[] = [];
  for await (const row of rows) requests.push({ value: requestFromRow(row), etag: row.etag, key: String(row.rowKey) });
  return requests;
}

export async function findRequest(
  relationship: Relationship,
  requestId: string,
): Promise<Stored<RelationshipRequest> | undefined> {
  await ensureTables();
  try {
    const row = await relationships().getEntity<Record<string, unknown>>(
      relationship.partnerTenantId,
      requestKey(relationship.id, requestId.toLowerCase()),
    );
    return { value: requestFromRow(row), etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}
