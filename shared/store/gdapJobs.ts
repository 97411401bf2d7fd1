import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { chunkOf, GdapJob, GdapJobItem, ItemState } from '../domain/gdapJobs';
import { CollectionQuery, CollectionSpec } from '../query/odata';
import { Page, queryCollection, Stored } from './paging';
import { Entity } from './rows';
import { conditionalWrite, ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Bulk jobs (SPEC §15.4), in the GdapJobs table:
 *   PK job|{partner}               RK {jobId}    what was asked, by whom, canceled or not
 *   PK item|{jobId}|{chunk, 4 dig} RK {itemId}   one item, with all of its progress
 * A chunk's items share a partition and one queue message, so a worker reads them in one query.
 * Item ids are fixed-width positions, so RowKey order across the job's partitions is item order
 * and a page of items resumes after its last RowKey. Counts are read from the items: nothing a
 * worker writes is shared with another worker.
 */
const jobs = () => tableClient(tableNames.gdapJobs);

const jobPartition = (partnerTenantId: string): string => `job|${partnerTenantId}`;
const itemPartition = (jobId: string, chunk: number): string => `item|${jobId}|${String(chunk).padStart(4, '0')}`;
const itemRange = (jobId: string): string =>
  odata`PartitionKey ge ${`item|${jobId}|`} and PartitionKey lt ${`item|${jobId}}`}`;

function jobToRow(job: GdapJob, dispatched: boolean): Entity {
  return {
    partitionKey: jobPartition(job.partnerTenantId),
    rowKey: job.id,
    kind: job.kind,
    createdDateTime: job.createdDateTime,
    parameters: JSON.stringify(job.parameters),
    createdByTenantId: job.createdBy.tenantId,
    createdByUserId: job.createdBy.userId,
    total: job.total,
    canceledDateTime: job.canceledDateTime ?? '',
    baseUrl: job.baseUrl,
    dispatched,
  };
}

export interface StoredJob extends Stored<GdapJob> {
  /** Whether every item has been handed to the queue (a job whose creation was cut short is finished by its safety-net message). */
  dispatched: boolean;
}

function jobFromRow(row: TableEntityResult<Record<string, unknown>>): StoredJob {
  const partitionKey = String(row.partitionKey);
  return {
    value: {
      id: String(row.rowKey),
      partnerTenantId: partitionKey.slice('job|'.length),
      kind: row.kind as GdapJob['kind'],
      createdDateTime: String(row.createdDateTime),
      parameters: JSON.parse(String(row.parameters)) as GdapJob['parameters'],
      createdBy: { tenantId: String(row.createdByTenantId), userId: String(row.createdByUserId) },
      total: Number(row.total),
      canceledDateTime: typeof row.canceledDateTime === 'string' && row.canceledDateTime ? row.canceledDateTime : null,
      baseUrl: typeof row.baseUrl === 'string' ? row.baseUrl : '',
    },
    etag: row.etag,
    dispatched: row.dispatched === true,
  };
}

function itemToRow(item: GdapJobItem): Entity {
  return {
    partitionKey: itemPartition(item.jobId, item.chunk),
    rowKey: item.id,
    customerTenantId: item.customerTenantId ?? '',
    relationshipId: item.relationshipId ?? '',
    state: item.state,
    attempts: item.attempts,
    invitationUrl: item.invitationUrl ?? '',
    warnings: JSON.stringify(item.warnings),
    error: item.error ? JSON.stringify(item.error) : '',
    lastModifiedDateTime: item.lastModifiedDateTime,
  };
}

const optional = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function itemFromRow(row: Record<string, unknown>): GdapJobItem {
  const partitionKey = String(row.partitionKey);
  const id = String(row.rowKey);
  return {
    id,
    jobId: partitionKey.split('|')[1],
    chunk: chunkOf(id),
    customerTenantId: optional(row.customerTenantId),
    relationshipId: optional(row.relationshipId),
    state: row.state as ItemState,
    attempts: Number(row.attempts ?? 0),
    invitationUrl: optional(row.invitationUrl),
    warnings: row.warnings ? (JSON.parse(String(row.warnings)) as string[]) : [],
    error: optional(row.error) ? (JSON.parse(String(row.error)) as GdapJobItem['error']) : null,
    lastModifiedDateTime: String(row.lastModifiedDateTime),
  };
}

/** Parallel transactions while writing a new job's items. */
const writeParallelism = 8;

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Stores a new job: its items first (harmless without the job row, which nothing would find),
 * then the job row, not yet dispatched. Re-running it with the same job writes the same rows.
 */
export async function insertJob(job: GdapJob, items: readonly GdapJobItem[]): Promise<StoredJob> {
  await ensureTables();
  const byChunk = new Map<number, GdapJobItem[]>();
  for (const item of items) byChunk.set(item.chunk, [...(byChunk.get(item.chunk) ?? []), item]);
  await inParallel([...byChunk.values()], writeParallelism, async (chunk) => {
    await jobs().submitTransaction(chunk.map((item): TransactionAction => ['upsert', itemToRow(item), 'Replace']));
  });
  const response = await jobs().upsertEntity(jobToRow(job, false), 'Replace');
  return { value: job, etag: response.etag as string, dispatched: false };
}

export async function findJob(partnerTenantId: string, jobId: string): Promise<StoredJob | undefined> {
  await ensureTables();
  try {
    return jobFromRow(
      await jobs().getEntity<Record<string, unknown>>(jobPartition(partnerTenantId), jobId.toLowerCase()),
    );
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Records that every item was handed to the queue. */
export async function markDispatched(job: GdapJob): Promise<void> {
  await jobs().updateEntity(
    { partitionKey: jobPartition(job.partnerTenantId), rowKey: job.id, dispatched: true },
    'Merge',
  );
}

/** Records a cancel on a job still at `etag` (a `stale` error otherwise). */
export async function markCanceled(job: GdapJob, etag: string, at: string): Promise<void> {
  await conditionalWrite(
    jobs().updateEntity(
      { partitionKey: jobPartition(job.partnerTenantId), rowKey: job.id, canceledDateTime: at },
      'Merge',
      { etag },
    ),
  );
}

/** A partner's jobs (a partner has few: each holds up to 10,000 items). */
export async function listJobs(partnerTenantId: string): Promise<StoredJob[]> {
  await ensureTables();
  const found: StoredJob[] = [];
  const rows = jobs().listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${jobPartition(partnerTenantId)}` },
  });
  for await (const row of rows) found.push(jobFromRow(row));
  return found;
}

export async function findItem(jobId: string, id: string): Promise<Stored<GdapJobItem> | undefined> {
  await ensureTables();
  try {
    const row = await jobs().getEntity<Record<string, unknown>>(itemPartition(jobId, chunkOf(id)), id);
    return { value: itemFromRow(row), etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** The items of one chunk, in one query. */
export async function chunkItems(jobId: string, chunk: number): Promise<Stored<GdapJobItem>[]> {
  await ensureTables();
  const found: Stored<GdapJobItem>[] = [];
  const rows = jobs().listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${itemPartition(jobId, chunk)}` },
  });
  for await (const row of rows) found.push({ value: itemFromRow(row), etag: row.etag });
  return found;
}

/** Every item of a job (or only those in `states`), in item order. */
export async function* jobItems(jobId: string, states?: readonly ItemState[]): AsyncIterable<Stored<GdapJobItem>> {
  await ensureTables();
  const stateFilter = states?.length ? ` and (${states.map((state) => odata`state eq ${state}`).join(' or ')})` : '';
  const rows = jobs().listEntities<Record<string, unknown>>({
    queryOptions: { filter: itemRange(jobId) + stateFilter },
  });
  for await (const row of rows) yield { value: itemFromRow(row), etag: row.etag };
}

/** The states of a job's items, reading only that column: what its counts are made of. */
export async function itemStatesOf(jobId: string): Promise<{ states: ItemState[]; lastModifiedDateTime: string }> {
  await ensureTables();
  const states: ItemState[] = [];
  let lastModifiedDateTime = '';
  const rows = jobs().listEntities<{ state: ItemState; lastModifiedDateTime: string }>({
    queryOptions: { filter: itemRange(jobId), select: ['state', 'lastModifiedDateTime'] },
  });
  for await (const row of rows) {
    states.push(row.state);
    if (row.lastModifiedDateTime > lastModifiedDateTime) lastModifiedDateTime = row.lastModifiedDateTime;
  }
  return { states, lastModifiedDateTime };
}

/** A page of a job's items ($filter on state, $top, $skipToken), in item order. */
export function listItems(
  jobId: string,
  query: CollectionQuery,
  spec: CollectionSpec<GdapJobItem>,
): Promise<Page<GdapJobItem>> {
  return queryCollection({
    client: jobs(),
    sources: [{ partitions: itemRange(jobId), rowKeyPrefix: '' }],
    query,
    spec,
    fromRow: itemFromRow,
  });
}

/** Replaces an item still at `etag` (a `stale` error otherwise): the one way an item's state moves. */
export async function replaceItem(item: GdapJobItem, etag: string): Promise<Stored<GdapJobItem>> {
  const response = await conditionalWrite(jobs().updateEntity(itemToRow(item), 'Replace', { etag }));
  return { value: item, etag: response.etag as string };
}
