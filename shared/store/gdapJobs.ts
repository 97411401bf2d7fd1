import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import {
  chunkOf,
  GdapJob,
  GdapJobItem,
  ItemState,
  itemStates,
  ItemTally,
  movedTally,
  tallyOf,
} from '../domain/gdapJobs';
import { DomainError } from '../domain/errors';
import { CollectionQuery, CollectionSpec } from '../query/odata';
import { Page, queryCollection, Stored } from './paging';
import { Entity } from './rows';
import { conditionalWrite, ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Bulk jobs (SPEC §15.4), in the GdapJobs table:
 *   PK job|{partner}               RK {jobId}    what was asked, by whom, canceled or not
 *   PK item|{jobId}|{chunk, 4 dig} RK {itemId}   one item, with all of its progress
 *   PK item|{jobId}|{chunk, 4 dig} RK ~tally     how many of the chunk's items are in each state
 * A chunk's items share a partition and one queue message, so a worker reads them in one query.
 * Item ids are fixed-width positions, so RowKey order across the job's partitions is item order
 * and a page of items resumes after its last RowKey ('~' sorts after every id). An item moves
 * only in a transaction that moves its chunk's tally too, so a job's counts are one query of at
 * most 400 tallies, exact, instead of every item (which a portal polling a 10,000-item job read
 * each time). Only the items of one chunk share a tally, and one message handles a chunk at a time.
 */
const jobs = () => tableClient(tableNames.gdapJobs);

const jobPartition = (partnerTenantId: string): string => `job|${partnerTenantId}`;
const itemPartition = (jobId: string, chunk: number): string => `item|${jobId}|${String(chunk).padStart(4, '0')}`;
const tallyRowKey = '~tally';
const jobRange = (jobId: string): string =>
  odata`PartitionKey ge ${`item|${jobId}|`} and PartitionKey lt ${`item|${jobId}}`}`;
const itemRange = (jobId: string): string => `${jobRange(jobId)} and ${odata`RowKey lt ${tallyRowKey}`}`;

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
    await jobs().submitTransaction([
      ...chunk.map((item): TransactionAction => ['upsert', itemToRow(item), 'Replace']),
      ['upsert', tallyToRow(job.id, chunk[0].chunk, tallyOf(chunk)), 'Replace'],
    ]);
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

/** The items of one chunk, in one query (which also brings the chunk's tally for its writer). */
export async function chunkItems(jobId: string, chunk: number): Promise<Stored<GdapJobItem>[]> {
  await ensureTables();
  const items: Stored<GdapJobItem>[] = [];
  const rows = jobs().listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${itemPartition(jobId, chunk)}` },
  });
  for await (const row of rows) {
    if (row.rowKey === tallyRowKey) chunkWriter(jobId, chunk).know({ value: tallyFromRow(row), etag: row.etag });
    else items.push({ value: itemFromRow(row), etag: row.etag });
  }
  return items;
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

/** The tallies of a job's chunks (one per chunk written so far): what its counts are made of. */
export async function jobTallies(jobId: string): Promise<ItemTally[]> {
  await ensureTables();
  const tallies: ItemTally[] = [];
  const rows = jobs().listEntities<Record<string, unknown>>({
    queryOptions: { filter: `${jobRange(jobId)} and ${odata`RowKey eq ${tallyRowKey}`}` },
  });
  for await (const row of rows) tallies.push(tallyFromRow(row));
  return tallies;
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

function tallyToRow(jobId: string, chunk: number, tally: ItemTally): Entity {
  return { partitionKey: itemPartition(jobId, chunk), rowKey: tallyRowKey, ...tally };
}

function tallyFromRow(row: Record<string, unknown>): ItemTally {
  const tally = { lastModifiedDateTime: String(row.lastModifiedDateTime ?? '') } as ItemTally;
  for (const state of itemStates) tally[state] = Number(row[state] ?? 0);
  return tally;
}

/** Attempts at moving an item while other writers keep moving its chunk's tally, a few ms apart. */
const tallyAttempts = 20;

/**
 * The chunk's tally kept moving under every attempt: like storage too busy to answer, a transient
 * failure (the item's move is retried later), never taken for the item's own refusal.
 */
export class TallyContended extends Error {
  constructor() {
    super("The chunk's tally kept changing under the item's move: it is tried again later.");
    this.name = 'TallyContended';
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The writer of one chunk's items in this process: each item moves in one transaction with the
 * chunk's tally, one at a time (the chunk's workers and the approvals continuing its items would
 * only refuse each other's tally otherwise), at the tally's last known ETag. A refusal with the
 * tally unchanged is the item's own: `stale`, as for any conditional write; a tally moved by
 * another instance is read again and the move tried again. (Exported for tests that play two instances.)
 */
export class ChunkWriter {
  private last: Promise<unknown> = Promise.resolve();
  private current?: Stored<ItemTally>;

  constructor(
    private readonly jobId: string,
    private readonly chunk: number,
  ) {}

  /** A tally just read with the chunk's items, unless a write of this process is under way. */
  know(tally: Stored<ItemTally>): void {
    this.current ??= tally;
  }

  replaceItem(item: GdapJobItem, previous: Stored<GdapJobItem>): Promise<Stored<GdapJobItem>> {
    const write = this.last.then(() => this.write(item, previous));
    this.last = write.catch(() => undefined);
    return write;
  }

  private async write(item: GdapJobItem, previous: Stored<GdapJobItem>): Promise<Stored<GdapJobItem>> {
    for (let attempt = 1; ; attempt++) {
      const tally = (this.current ??= await this.read());
      const next = movedTally(tally.value, previous.value.state, item);
      try {
        const response = await conditionalWrite(
          jobs().submitTransaction([
            ['update', itemToRow(item), 'Replace', { etag: previous.etag }],
            ['update', tallyToRow(this.jobId, this.chunk, next), 'Replace', { etag: tally.etag }],
          ]),
        );
        const [itemEtag, tallyEtag] = response.subResponses.map((sub) => sub.etag as string);
        this.current = { value: next, etag: tallyEtag };
        return { value: item, etag: itemEtag };
      } catch (error) {
        if (!(error instanceof DomainError && error.kind === 'stale')) throw error;
        this.current = await this.read();
        // The tally is as it was: the item itself changed.
        if (this.current.etag === tally.etag) throw error;
        if (attempt >= tallyAttempts) throw new TallyContended();
        await pause(Math.random() * 5 * attempt);
      }
    }
  }

  /** The stored tally; one the chunk lacks (a job stored before tallies) is counted from its items. */
  private async read(): Promise<Stored<ItemTally>> {
    const partitionKey = itemPartition(this.jobId, this.chunk);
    try {
      const row = await jobs().getEntity<Record<string, unknown>>(partitionKey, tallyRowKey);
      return { value: tallyFromRow(row), etag: row.etag };
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    const items = await chunkItems(this.jobId, this.chunk);
    const tally = tallyOf(items.map((stored) => stored.value));
    try {
      const response = await jobs().createEntity(tallyToRow(this.jobId, this.chunk, tally));
      return { value: tally, etag: response.etag as string };
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      return this.read();
    }
  }
}

/** This process's chunk writers, the most recently used kept (a few hundred bytes each). */
const chunkWriters = new Map<string, ChunkWriter>();
const keptChunkWriters = 2000;

function chunkWriter(jobId: string, chunk: number): ChunkWriter {
  const key = `${jobId}|${chunk}`;
  let writer = chunkWriters.get(key);
  if (writer) {
    chunkWriters.delete(key);
  } else {
    writer = new ChunkWriter(jobId, chunk);
    if (chunkWriters.size >= keptChunkWriters) chunkWriters.delete(chunkWriters.keys().next().value as string);
  }
  chunkWriters.set(key, writer);
  return writer;
}

/**
 * Replaces an item still as it was read (a `stale` error otherwise), moving its chunk's tally in
 * the same transaction: the one way an item's state moves.
 */
export function replaceItem(item: GdapJobItem, previous: Stored<GdapJobItem>): Promise<Stored<GdapJobItem>> {
  return chunkWriter(item.jobId, item.chunk).replaceItem(item, previous);
}
