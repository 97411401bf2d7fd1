import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { stale } from '../domain/errors';
import { AuditEntry, eventId } from '../domain/events';
import { isGuid } from '../domain/ids';
import {
  AccessApproval,
  AccessRequest,
  CaseChange,
  SupportCase,
  SupportEngineer,
  SupportRequest,
  supportRequestOf,
} from '../domain/support';
import { Stored } from './paging';
import { writeAuditEntries } from './events';
import { ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * Support requests and Microsoft Support access requests in Table Storage (SPEC §8, §12).
 *
 * SupportRequests: one partition per support request (PartitionKey = its id), so a request, its
 * access requests, their approvals and the audit entries of a change are written in one
 * entity-group transaction conditional on every row's ETag. Approve racing close or removal,
 * or a timer racing a person, therefore ends with exactly one winner; the loser re-reads.
 *   sr                    the support request
 *   areq|{id}             an access request (id = `{guid}-{supportRequestId}`)
 *   apr|{id}              an approval (id likewise carries the support request id)
 *   evt|{batchId}         audit entries of a change, until published to the tenants' logs
 *
 * SupportIndex: pointers for listings and the due-date index, written before the change they
 * point at (harmless when it does not happen: readers confirm against the case rows).
 *   tenant|{tid}          req|{id} filed in tid; filed|{id} filed by tid (a partner) for a customer
 *   resource|{tid}        {approvalId}: approvals in the resource tenant
 *   due|{job}             {expirationDateTime}|{accessRequestId}: pending requests by expiry
 *
 * SupportEngineers: engineer profiles (partition `engineer`) and, per engineer, the requests
 * assigned to them with whether they are still open (partition `assigned|{oid}`), i.e. their load.
 */
const cases = () => tableClient(tableNames.supportRequests);
const index = () => tableClient(tableNames.supportIndex);
const engineers = () => tableClient(tableNames.supportEngineers);

const requestRowKey = 'sr';
const accessRequestPrefix = 'areq|';
const approvalPrefix = 'apr|';
const eventsPrefix = 'evt|';
const engineerPartition = 'engineer';
const assignedPartition = (engineerId: string): string => `assigned|${engineerId}`;
const tenantPartition = (tenantId: string): string => `tenant|${tenantId}`;
const resourcePartition = (tenantId: string): string => `resource|${tenantId}`;
export const expiryJobId = 'expireSupportAccessRequests';
const duePartition = `due|${expiryJobId}`;

type Row = { partitionKey: string; rowKey: string } & Record<string, unknown>;

/** Rows keep the whole value as JSON (nested objects) and its status as a column for filters. */
function row(partitionKey: string, rowKey: string, kind: string, value: { status?: string }): Row {
  return { partitionKey, rowKey, kind, status: value.status, data: JSON.stringify(value) };
}

const parse = <T>(entity: Record<string, unknown>): T => JSON.parse(String(entity.data)) as T;

const requestRow = (request: SupportRequest): Row => row(request.id, requestRowKey, 'request', request);
const accessRequestRow = (item: AccessRequest): Row =>
  row(item.supportRequestId, `${accessRequestPrefix}${item.id}`, 'accessRequest', item);
const approvalRow = (item: AccessApproval): Row =>
  row(item.supportRequestId, `${approvalPrefix}${item.id}`, 'approval', item);

/** A case as read: every row with the ETag it had, and audit entries a crash left unpublished. */
export interface StoredCase {
  request: Stored<SupportRequest>;
  accessRequests: Stored<AccessRequest>[];
  approvals: Stored<AccessApproval>[];
  pendingEvents: { rowKey: string; audits: AuditEntry[] }[];
}

export function caseValue(stored: StoredCase): SupportCase {
  return {
    request: stored.request.value,
    accessRequests: stored.accessRequests.map((item) => item.value),
    approvals: stored.approvals.map((item) => item.value),
  };
}

// ---------------------------------------------------------------------------------------------
// Engineers
// ---------------------------------------------------------------------------------------------

export async function findEngineer(id: string): Promise<Stored<SupportEngineer> | undefined> {
  if (!isGuid(id)) return undefined;
  await ensureTables();
  try {
    const entity = await engineers().getEntity<Record<string, unknown>>(engineerPartition, id.toLowerCase());
    return { value: parse<SupportEngineer>(entity), etag: entity.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Creates or replaces an engineer profile (last writer wins: a profile is one person's settings). */
export async function upsertEngineer(engineer: SupportEngineer): Promise<Stored<SupportEngineer>> {
  await ensureTables();
  const response = await engineers().upsertEntity(
    { partitionKey: engineerPartition, rowKey: engineer.id, data: JSON.stringify(engineer) },
    'Replace',
  );
  return { value: engineer, etag: response.etag ?? '' };
}

export async function listEngineers(): Promise<Stored<SupportEngineer>[]> {
  await ensureTables();
  const found: Stored<SupportEngineer>[] = [];
  const rows = engineers().listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${engineerPartition}` },
  });
  for await (const entity of rows) found.push({ value: parse<SupportEngineer>(entity), etag: entity.etag });
  return found;
}

/**
 * Open support requests assigned to an engineer: the rows marked open, each confirmed against its
 * request (a crash may have left a row for a request never stored, or not yet marked closed; the
 * latter is repaired here).
 */
export async function openRequestCount(engineerId: string): Promise<number> {
  await ensureTables();
  const ids: string[] = [];
  const rows = engineers().listEntities({
    queryOptions: {
      filter: odata`PartitionKey eq ${assignedPartition(engineerId)} and open eq ${true}`,
      select: ['RowKey'],
    },
  });
  for await (const entity of rows) ids.push(String(entity.rowKey));
  const requests = await Promise.all(ids.map((id) => findSupportRequest(id)));
  let count = 0;
  for (const stored of requests) {
    if (stored?.value.status === 'open') count++;
    else if (stored) await recordAssignment(stored.value);
  }
  return count;
}

async function recordAssignment(request: SupportRequest): Promise<void> {
  if (!request.assignedEngineer) return;
  await engineers().upsertEntity(
    {
      partitionKey: assignedPartition(request.assignedEngineer.id),
      rowKey: request.id,
      open: request.status === 'open',
    },
    'Replace',
  );
}

/** Support request ids assigned to an engineer. */
export async function listEngineerRequestIds(engineerId: string): Promise<string[]> {
  await ensureTables();
  const ids: string[] = [];
  const rows = engineers().listEntities({
    queryOptions: { filter: odata`PartitionKey eq ${assignedPartition(engineerId)}`, select: ['RowKey'] },
  });
  for await (const entity of rows) ids.push(String(entity.rowKey));
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Support requests and cases
// ---------------------------------------------------------------------------------------------

/**
 * Stores a new support request. Its listing pointers and the engineer's load row go first, so a
 * request is never stored without them; a crash before the request row leaves pointers that
 * readers skip (they confirm every pointer against the request row).
 */
export async function insertSupportRequest(request: SupportRequest): Promise<Stored<SupportRequest>> {
  await ensureTables();
  const pointers: Promise<unknown>[] = [
    index().upsertEntity({ partitionKey: tenantPartition(request.tenantId), rowKey: `req|${request.id}` }, 'Replace'),
    recordAssignment(request),
  ];
  if (request.createdBy.viaPartner) {
    pointers.push(
      index().upsertEntity(
        { partitionKey: tenantPartition(request.createdBy.tenantId), rowKey: `filed|${request.id}` },
        'Replace',
      ),
    );
  }
  await Promise.all(pointers);
  const response = await cases().createEntity(requestRow(request));
  return { value: request, etag: response.etag ?? '' };
}

/** Support request ids a tenant filed in (`tenant`) or, as a partner, for its customers (`partner`). */
export async function listTenantRequestIds(tenantId: string): Promise<{ id: string; as: 'tenant' | 'partner' }[]> {
  await ensureTables();
  const ids: { id: string; as: 'tenant' | 'partner' }[] = [];
  const rows = index().listEntities({
    queryOptions: { filter: odata`PartitionKey eq ${tenantPartition(tenantId)}`, select: ['RowKey'] },
  });
  for await (const entity of rows) {
    const [kind, id] = String(entity.rowKey).split('|');
    ids.push({ id, as: kind === 'filed' ? 'partner' : 'tenant' });
  }
  return ids;
}

export async function findSupportRequest(id: string): Promise<Stored<SupportRequest> | undefined> {
  if (!isGuid(id)) return undefined;
  await ensureTables();
  try {
    const entity = await cases().getEntity<Record<string, unknown>>(id.toLowerCase(), requestRowKey);
    return { value: parse<SupportRequest>(entity), etag: entity.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The whole case of a support request in one partition query, or undefined. */
export async function readCase(supportRequestId: string): Promise<StoredCase | undefined> {
  if (!isGuid(supportRequestId)) return undefined;
  await ensureTables();
  const rows = cases().listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${supportRequestId.toLowerCase()}` },
  });
  let request: Stored<SupportRequest> | undefined;
  const accessRequests: Stored<AccessRequest>[] = [];
  const approvals: Stored<AccessApproval>[] = [];
  const pendingEvents: StoredCase['pendingEvents'] = [];
  for await (const entity of rows as AsyncIterable<TableEntityResult<Record<string, unknown>>>) {
    const key = String(entity.rowKey);
    if (key === requestRowKey) request = { value: parse(entity), etag: entity.etag };
    else if (key.startsWith(accessRequestPrefix)) accessRequests.push({ value: parse(entity), etag: entity.etag });
    else if (key.startsWith(approvalPrefix)) approvals.push({ value: parse(entity), etag: entity.etag });
    else if (key.startsWith(eventsPrefix)) pendingEvents.push({ rowKey: key, audits: parse(entity) });
  }
  if (!request) return undefined;
  const byCreation = <T extends { createdDateTime: string; id: string }>(a: Stored<T>, b: Stored<T>): number =>
    a.value.createdDateTime.localeCompare(b.value.createdDateTime) || a.value.id.localeCompare(b.value.id);
  accessRequests.sort(byCreation);
  approvals.sort(byCreation);
  return { request, accessRequests, approvals, pendingEvents };
}

/** The case an access request or approval id belongs to (its id carries the support request id). */
export async function readCaseOf(childId: string): Promise<StoredCase | undefined> {
  const supportRequestId = supportRequestOf(childId);
  return supportRequestId ? readCase(supportRequestId) : undefined;
}

/** Copies audit entries to the tenants' logs (ids make a repeat harmless), then drops their row. */
async function publish(partitionKey: string, rowKey: string, audits: readonly AuditEntry[]): Promise<void> {
  await writeAuditEntries(audits);
  await cases().deleteEntity(partitionKey, rowKey).catch(ignoreStatus(404));
}

/** Table Storage takes at most 100 actions per transaction; the case rules keep a change far below. */
const maxActions = 100;

/**
 * Stores a change to a case in one transaction conditional on the ETags the case was read with;
 * losing to another writer is a `stale` error (the caller re-reads and decides again). Pointers and
 * due-date entries for new rows go first; the engineer's load row and the audit logs follow.
 */
export async function commitCase(current: StoredCase, change: CaseChange): Promise<StoredCase> {
  await ensureTables();
  const partitionKey = current.request.value.id;
  // Leftovers of a crash are published first so events stay in order of the changes.
  for (const pending of current.pendingEvents) await publish(partitionKey, pending.rowKey, pending.audits);

  const etagOf = <T extends { id: string }>(items: Stored<T>[], id: string): string | undefined =>
    items.find((item) => item.value.id === id)?.etag;
  const newAccessRequests = change.accessRequests.filter((item) => !etagOf(current.accessRequests, item.id));
  const newApprovals = change.approvals.filter((item) => !etagOf(current.approvals, item.id));
  await Promise.all([
    ...newAccessRequests
      .filter((item) => item.status === 'pending')
      .map((item) =>
        index().upsertEntity(
          {
            partitionKey: duePartition,
            rowKey: `${item.expirationDateTime}|${item.id}`,
            accessRequestId: item.id,
            dueAt: item.expirationDateTime,
          },
          'Replace',
        ),
      ),
    ...newApprovals.map((item) =>
      index().upsertEntity({ partitionKey: resourcePartition(item.resourceTenantId), rowKey: item.id }, 'Replace'),
    ),
  ]);

  type Slot =
    { kind: 'request' } | { kind: 'accessRequest'; value: AccessRequest } | { kind: 'approval'; value: AccessApproval };
  const slots: Slot[] = [];
  const actions: TransactionAction[] = [];
  if (change.request) {
    actions.push(['update', requestRow(change.request), 'Replace', { etag: current.request.etag }]);
    slots.push({ kind: 'request' });
  } else if (change.requireRequestUnchanged) {
    // A no-op merge that fails if the request changed since it was read (e.g. closed meanwhile).
    const { status } = current.request.value;
    actions.push(['update', { partitionKey, rowKey: requestRowKey, status }, 'Merge', { etag: current.request.etag }]);
    slots.push({ kind: 'request' });
  }
  for (const value of change.accessRequests) {
    const etag = etagOf(current.accessRequests, value.id);
    actions.push(etag ? ['update', accessRequestRow(value), 'Replace', { etag }] : ['create', accessRequestRow(value)]);
    slots.push({ kind: 'accessRequest', value });
  }
  for (const value of change.approvals) {
    const etag = etagOf(current.approvals, value.id);
    actions.push(etag ? ['update', approvalRow(value), 'Replace', { etag }] : ['create', approvalRow(value)]);
    slots.push({ kind: 'approval', value });
  }
  const eventsRowKey = `${eventsPrefix}${eventId(...change.audits.map((audit) => audit.id))}`;
  if (change.audits.length > 0) {
    actions.push([
      'create',
      { partitionKey, rowKey: eventsRowKey, kind: 'events', data: JSON.stringify(change.audits) },
    ]);
  }
  if (actions.length === 0) return current;
  if (actions.length > maxActions)
    throw new Error(`A support case change needs ${actions.length} actions (max ${maxActions})`);

  let etags: (string | undefined)[];
  try {
    const response = await cases().submitTransaction(actions);
    etags = response.subResponses.map((sub) => sub.etag);
  } catch (error) {
    if (isStatus(error, 412) || isStatus(error, 404) || isStatus(error, 409)) {
      throw stale('The support request changed while this request was being handled: read it again and retry.');
    }
    throw error;
  }

  const next: StoredCase = {
    request: current.request,
    accessRequests: [...current.accessRequests],
    approvals: [...current.approvals],
    pendingEvents: [],
  };
  slots.forEach((slot, position) => {
    const etag = etags[position] ?? '';
    if (slot.kind === 'request') {
      next.request = { value: change.request ?? current.request.value, etag };
      return;
    }
    const list = (slot.kind === 'accessRequest' ? next.accessRequests : next.approvals) as Stored<{ id: string }>[];
    const at = list.findIndex((item) => item.value.id === slot.value.id);
    if (at >= 0) list[at] = { value: slot.value, etag };
    else list.push({ value: slot.value, etag });
  });

  if (change.request) await recordAssignment(change.request);
  if (change.audits.length > 0) await publish(partitionKey, eventsRowKey, change.audits);
  return next;
}

/**
 * Makes the side rows of a closed request agree with it again (the engineer's load row), for a
 * close repeated after a crash between its transaction and that write.
 */
export async function resyncSideRows(request: SupportRequest): Promise<void> {
  await ensureTables();
  await recordAssignment(request);
}

// ---------------------------------------------------------------------------------------------
// Approvals of a resource tenant
// ---------------------------------------------------------------------------------------------

/** Approvals whose resource tenant is `tenantId`, confirmed against their case rows. */
export async function listResourceApprovals(tenantId: string): Promise<Stored<AccessApproval>[]> {
  await ensureTables();
  const ids: string[] = [];
  const rows = index().listEntities({
    queryOptions: { filter: odata`PartitionKey eq ${resourcePartition(tenantId)}`, select: ['RowKey'] },
  });
  for await (const entity of rows) ids.push(String(entity.rowKey));
  const found = await Promise.all(ids.map((id) => findApproval(id)));
  return found.filter(
    (item): item is Stored<AccessApproval> => item !== undefined && item.value.resourceTenantId === tenantId,
  );
}

export async function findApproval(id: string): Promise<Stored<AccessApproval> | undefined> {
  const supportRequestId = supportRequestOf(id);
  if (!supportRequestId) return undefined;
  await ensureTables();
  try {
    const entity = await cases().getEntity<Record<string, unknown>>(
      supportRequestId,
      `${approvalPrefix}${id.toLowerCase()}`,
    );
    return { value: parse<AccessApproval>(entity), etag: entity.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Due-date index of pending access requests (SPEC §4)
// ---------------------------------------------------------------------------------------------

export interface DueExpiry {
  rowKey: string;
  accessRequestId: string;
}

/** Pending access requests whose expiration is at or before `now` (a Graph timestamp), oldest first. */
export async function dueExpiries(now: string, limit: number): Promise<DueExpiry[]> {
  await ensureTables();
  // '~' sorts after every character of an id, so the bound includes everything due exactly at `now`.
  const upTo = `${now}|~`;
  const pages = index()
    .listEntities<{ accessRequestId: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${duePartition} and RowKey le ${upTo}` },
    })
    .byPage({ maxPageSize: Math.min(limit, 1000) });
  const due: DueExpiry[] = [];
  for await (const page of pages) {
    for (const entity of page) {
      due.push({ rowKey: String(entity.rowKey), accessRequestId: entity.accessRequestId });
      if (due.length >= limit) return due;
    }
  }
  return due;
}

/** Removed only once the expiry it called for is stored (or found unnecessary). */
export async function removeDueExpiry(entry: DueExpiry): Promise<void> {
  await index().deleteEntity(duePartition, entry.rowKey).catch(ignoreStatus(404));
}
