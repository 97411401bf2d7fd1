import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { conflict } from '../domain/errors';
import { partnerTenantOfRelationship } from '../domain/ids';
import { normalizeName, Relationship, RelationshipRequest } from '../domain/relationships';
import { CollectionQuery, CollectionSpec } from '../http/odata';
import { Keyed, Page, pageInMemory, queryPartition, Stored } from './paging';
import { conditionalWrite, encodeKey, ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Relationships table, one partition per partner tenant, so that a relationship, its name
 * reservation and its requests change together in one entity-group transaction:
 *   rel|{id}                 the relationship
 *   name|{lower-case name}   reserves the display name (unique per partner, SPEC §2)
 *   req|{id}|{requestId}     a request on the relationship (SPEC §3.1)
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

function toRow(relationship: Relationship): { partitionKey: string; rowKey: string } & Record<string, unknown> {
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

async function reserveNameWith(relationship: Relationship, actions: TransactionAction[]): Promise<void> {
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
      await relationships().submitTransaction([reservation, ...actions]);
      return;
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      if (attempt > 0 || !(await releaseOrphanedName(relationship.partnerTenantId, relationship.displayName))) {
        throw nameTaken(relationship.displayName);
      }
    }
  }
}

/** Inserts a new relationship together with its name reservation, atomically. */
export async function insertRelationship(relationship: Relationship): Promise<Stored<Relationship>> {
  await ensureTables();
  if (relationship.customer) await addCustomerPointer(relationship);
  await reserveNameWith(relationship, [['create', toRow(relationship)]]);
  const stored = await findRelationship(relationship.id);
  if (!stored) throw new Error(`Relationship ${relationship.id} vanished right after it was created`);
  return stored;
}

/**
 * Replaces a relationship if its row still has `etag` (412 otherwise), moving the name
 * reservation in the same transaction when the name changed.
 */
export async function replaceRelationship(
  previous: Relationship,
  next: Relationship,
  etag: string,
  request?: RelationshipRequest,
): Promise<Stored<Relationship>> {
  await ensureTables();
  if (next.customer && next.customer.tenantId !== previous.customer?.tenantId) await addCustomerPointer(next);
  const actions: TransactionAction[] = [['update', toRow(next), 'Replace', { etag }]];
  if (request) actions.push(['create', requestToRow(next.partnerTenantId, request)]);
  if (nameKey(previous.displayName) !== nameKey(next.displayName)) {
    actions.push(['delete', { partitionKey: previous.partnerTenantId, rowKey: nameKey(previous.displayName) }]);
    await conditionalWrite(reserveNameWith(next, actions));
  } else {
    await conditionalWrite(relationships().submitTransaction(actions));
  }
  const stored = await findRelationship(next.id);
  if (!stored) throw new Error(`Relationship ${next.id} vanished right after it was updated`);
  return stored;
}

/** Deletes the relationship if its row still has `etag`, then frees its name. */
export async function deleteRelationship(relationship: Relationship, etag: string): Promise<void> {
  await ensureTables();
  await conditionalWrite(
    relationships().deleteEntity(relationship.partnerTenantId, relationshipKey(relationship.id), { etag }),
  );
  // Requests and the reservation go after the row: a crash here leaves only rows the next writer releases.
  const leftovers = relationships().listEntities({
    queryOptions: {
      filter: requestRange(relationship),
    },
  });
  const deletions: TransactionAction[] = [
    ['delete', { partitionKey: relationship.partnerTenantId, rowKey: nameKey(relationship.displayName) }],
  ];
  for await (const row of leftovers)
    deletions.push(['delete', { partitionKey: relationship.partnerTenantId, rowKey: String(row.rowKey) }]);
  for (let start = 0; start < deletions.length; start += 100) {
    await relationships()
      .submitTransaction(deletions.slice(start, start + 100))
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
