import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { stale } from '../domain/errors';
import { isGuid } from '../domain/ids';
import {
  AccessApproval,
  AccessRequest,
  SupportCase,
  SupportEngineer,
  SupportRequest,
  supportRequestOf,
} from '../domain/support';
import { isLogEvent, webhookEventsOf } from '../domain/change';
import { SupportChange, SupportPointer, VersionedCase } from '../domain/supportChanges';
import { dueEntryWrites } from './dueIndex';
import { eventRow } from './events';
import { execute, TransactionRefused } from './executor';
import { Stored } from './paging';
import { RowOp } from './rowOps';
import { Entity, tenantPartitionOf } from './rows';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';
import { webhookOutbound } from './webhooks';

/**
 * Support requests and Microsoft Support access requests in Table Storage (SPEC §8, §12).
 *
 * SupportRequests: one partition per support request (PartitionKey = its id), so a request, its
 * access requests and their approvals change in one entity-group transaction conditional on every
 * row's ETag. Approve racing close or removal, or a timer racing a person, therefore ends with
 * exactly one winner; the loser re-reads.
 *   sr                    the support request
 *   areq|{id}             an access request (id = `{guid}-{supportRequestId}`)
 *   apr|{id}              an approval (id likewise carries the support request id)
 *   chg|{changeId}        a change's witness for the outbox (its audit entries go to other tables)
 *
 * SupportIndex: pointers for listings, written before the change they point at (harmless when it
 * does not happen: readers confirm against the case rows).
 *   tenant|{tid}          req|{id} filed in tid; filed|{id} filed by tid (a partner) for a customer
 *   resource|{tid}        {approvalId}: approvals in the resource tenant
 * Pending access requests are due for expiry in the one due index (dueIndex.ts).
 *
 * SupportEngineers: engineer profiles (partition `engineer`) and, per engineer, the requests
 * assigned to them with whether they are still open (partition `assigned|{oid}`), i.e. their load.
 *
 * Audit entries (SPEC §8.5) go to the tenants' logs in the Tenants table, in the partition the
 * support request's id names, through the outbox, with the change's witness row as the proof it
 * was stored.
 */
const cases = () => tableClient(tableNames.supportRequests);
const index = () => tableClient(tableNames.supportIndex);
const engineers = () => tableClient(tableNames.supportEngineers);

const requestRowKey = 'sr';
const accessRequestPrefix = 'areq|';
const approvalPrefix = 'apr|';
const witnessPrefix = 'chg|';
const engineerPartition = 'engineer';
const assignedPartition = (engineerId: string): string => `assigned|${engineerId}`;
const tenantPartition = (tenantId: string): string => `tenant|${tenantId}`;
const resourcePartition = (tenantId: string): string => `resource|${tenantId}`;

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

/** A case as read: every row with the ETag it had. */
export type StoredCase = VersionedCase;

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
    engineerLoadRow({
      kind: 'engineerLoad',
      engineerId: request.assignedEngineer.id,
      supportRequestId: request.id,
      open: request.status === 'open',
    }),
    'Replace',
  );
}

function engineerLoadRow(pointer: Extract<SupportPointer, { kind: 'engineerLoad' }>): Entity {
  return { partitionKey: assignedPartition(pointer.engineerId), rowKey: pointer.supportRequestId, open: pointer.open };
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
  for await (const entity of rows as AsyncIterable<TableEntityResult<Record<string, unknown>>>) {
    const key = String(entity.rowKey);
    if (key === requestRowKey) request = { value: parse(entity), etag: entity.etag };
    else if (key.startsWith(accessRequestPrefix)) accessRequests.push({ value: parse(entity), etag: entity.etag });
    else if (key.startsWith(approvalPrefix)) approvals.push({ value: parse(entity), etag: entity.etag });
  }
  if (!request) return undefined;
  const byCreation = <T extends { createdDateTime: string; id: string }>(a: Stored<T>, b: Stored<T>): number =>
    a.value.createdDateTime.localeCompare(b.value.createdDateTime) || a.value.id.localeCompare(b.value.id);
  accessRequests.sort(byCreation);
  approvals.sort(byCreation);
  return { request, accessRequests, approvals };
}

/** The case an access request or approval id belongs to (its id carries the support request id). */
export async function readCaseOf(childId: string): Promise<StoredCase | undefined> {
  const supportRequestId = supportRequestOf(childId);
  return supportRequestId ? readCase(supportRequestId) : undefined;
}

/** Table Storage takes at most 100 actions per transaction; the case rules keep a change far below. */
const maxActions = 100;

function pointerRow(pointer: SupportPointer): RowOp {
  switch (pointer.kind) {
    case 'filedIn':
      return {
        table: tableNames.supportIndex,
        mode: 'upsert',
        entity: {
          partitionKey: tenantPartition(pointer.tenantId),
          rowKey: `${pointer.as === 'tenant' ? 'req' : 'filed'}|${pointer.supportRequestId}`,
        },
      };
    case 'resourceApproval':
      return {
        table: tableNames.supportIndex,
        mode: 'upsert',
        entity: { partitionKey: resourcePartition(pointer.tenantId), rowKey: pointer.approvalId },
      };
    case 'engineerLoad':
      return { table: tableNames.supportEngineers, mode: 'upsert', entity: engineerLoadRow(pointer) };
  }
}

function actionOf(write: SupportChange['writes'][number]): TransactionAction {
  switch (write.kind) {
    case 'request':
      return write.etag === null
        ? ['create', requestRow(write.value)]
        : ['update', requestRow(write.value), 'Replace', { etag: write.etag }];
    case 'requestUnchanged': {
      // A no-op merge that fails if the request changed since it was read (e.g. closed meanwhile).
      const { id, status } = write.value;
      return ['update', { partitionKey: id, rowKey: requestRowKey, status }, 'Merge', { etag: write.etag }];
    }
    case 'accessRequest':
      return write.etag === null
        ? ['create', accessRequestRow(write.value)]
        : ['update', accessRequestRow(write.value), 'Replace', { etag: write.etag }];
    case 'approval':
      return write.etag === null
        ? ['create', approvalRow(write.value)]
        : ['update', approvalRow(write.value), 'Replace', { etag: write.etag }];
  }
}

/**
 * Stores a change to a case in one transaction conditional on the ETags the case was read with;
 * losing to another writer is a `stale` error (the caller re-reads and decides again). Pointers and
 * due entries go first; the audit entries, the engineer's load row of a closed request and the
 * webhook deliveries of subscribed tenants (SPEC §16) follow through the outbox, with a witness
 * row in the transaction. Returns the case as now stored.
 */
export async function commitSupportChange(
  current: StoredCase | undefined,
  change: SupportChange,
  changeId: string,
): Promise<StoredCase> {
  const partitionKey = change.supportRequestId;
  const actions = change.writes.map(actionOf);
  const webhooks = await webhookOutbound(webhookEventsOf(change.events));
  const outbound: RowOp[] = [
    ...change.events.filter(isLogEvent).map((event): RowOp => {
      const logPartition = tenantPartitionOf(event.value.tenantId, partitionKey);
      return { table: tableNames.tenants, mode: 'insert', entity: eventRow(event, logPartition) };
    }),
    ...change.afterwards.map(pointerRow),
    ...(webhooks?.rows ?? []),
  ];
  const witness = { table: tableNames.supportRequests, partitionKey, rowKey: `${witnessPrefix}${changeId}` };
  if (outbound.length > 0) actions.push(['create', { partitionKey, rowKey: witness.rowKey }]);
  if (actions.length > maxActions)
    throw new Error(`A support case change needs ${actions.length} actions (max ${maxActions})`);
  let etags: (string | undefined)[];
  try {
    ({ etags } = await execute({
      before: [...dueEntryWrites(change.schedule), ...change.pointers.map(pointerRow)],
      transaction: { table: tableNames.supportRequests, actions },
      outbound: outbound.length > 0 ? { changeId, rows: outbound, messages: webhooks?.messages, witness } : undefined,
      after: [],
    }));
  } catch (error) {
    if (error instanceof TransactionRefused) {
      throw stale('The support request changed while this request was being handled: read it again and retry.');
    }
    throw error;
  }
  return nextCase(current, change, etags);
}

/** The case after a stored change: each written row with the ETag the transaction gave it. */
function nextCase(current: StoredCase | undefined, change: SupportChange, etags: (string | undefined)[]): StoredCase {
  const next: StoredCase = current
    ? { request: current.request, accessRequests: [...current.accessRequests], approvals: [...current.approvals] }
    : { request: { value: undefined as unknown as SupportRequest, etag: '' }, accessRequests: [], approvals: [] };
  const put = <T extends { id: string }>(list: Stored<T>[], value: T, etag: string): void => {
    const at = list.findIndex((item) => item.value.id === value.id);
    if (at >= 0) list[at] = { value, etag };
    else list.push({ value, etag });
  };
  change.writes.forEach((write, position) => {
    const etag = etags[position] ?? '';
    if (write.kind === 'request' || write.kind === 'requestUnchanged') next.request = { value: write.value, etag };
    else if (write.kind === 'accessRequest') put(next.accessRequests, write.value, etag);
    else put(next.approvals, write.value, etag);
  });
  return next;
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
