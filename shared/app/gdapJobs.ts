import { DateTime } from 'luxon';
import { refreshServiceClock, serviceNow } from '../clock';
import { DomainError, invalid, notFound } from '../domain/errors';
import {
  GdapJob,
  GdapJobItem,
  gdapJobsQueue,
  isCancelable,
  isRetryable,
  isSettled,
  ItemError,
  itemsPerChunk,
  JobKind,
  JobParameters,
  newItems,
} from '../domain/gdapJobs';
import { isGuid, newGuid } from '../domain/ids';
import { toGraphDateTime } from '../domain/time';
import { graphErrorCodes, statusOfKind } from '../http/errors';
import { Stored } from '../store/paging';
import {
  chunkItems,
  findItem,
  findJob,
  insertJob,
  jobItems,
  markCanceled,
  markDispatched,
  replaceItem,
  TallyContended,
  StoredJob,
} from '../store/gdapJobs';
import { sendQueueMessage } from '../store/queues';
import { isStorageUnavailable } from '../store/storageBudget';
import { Caller, partnerAdminAgent, ServedCaller } from './caller';

/**
 * The job runner of SPEC §15.4. A job's items are handed to the `gdap-jobs` Storage queue a chunk
 * per message, so every instance takes its share; each item is idempotent (what it creates is
 * recorded before it is created), so a message handled twice, or resumed after a crash, repeats
 * nothing. Transient failures (a lost ETag race, storage 5xx, a dropped connection) are retried
 * with backoff inside the item; what still fails ends the item `failed` with the reason, and a
 * message the worker itself cannot get through ends in the poison queue, whose handler fails its
 * items with the reason. The work of each kind lives with its aggregate (`itemWorkers`).
 */

/** How an item ended: a domain refusal keeps its Graph code; anything else is the service's fault. */
export function itemErrorOf(error: unknown): ItemError {
  if (error instanceof DomainError) return { code: graphErrorCodes[statusOfKind[error.kind]], message: error.message };
  return { code: 'internalServerError', message: error instanceof Error ? error.message : String(error) };
}

/** What an item's work decided: its next state and what the item shows. */
export interface ItemOutcome {
  state: 'completed' | 'awaitingApproval' | 'failed';
  relationshipId?: string;
  invitationUrl?: string;
  warnings?: string[];
  error?: ItemError;
}

export interface ItemContext {
  job: GdapJob;
  item: GdapJobItem;
  /** The job's creator, acting now: every change the job makes is theirs (SPEC §15, item 6). */
  caller: Caller;
  /** Per message: one template read for all of a chunk's items. */
  cache: Map<string, Promise<unknown>>;
}

export type ItemWorker = (context: ItemContext) => Promise<ItemOutcome>;

const itemWorkers = new Map<JobKind, ItemWorker>();

/** Each kind's work is registered by its aggregate's use cases (templates.ts, fleetActions.ts). */
export function registerItemWorker(kind: JobKind, worker: ItemWorker): void {
  itemWorkers.set(kind, worker);
}

export type JobMessage =
  | { type: 'dispatch'; partnerTenantId: string; jobId: string }
  | { type: 'chunk'; partnerTenantId: string; jobId: string; chunk: number }
  | { type: 'cancel'; partnerTenantId: string; jobId: string };

/** How long the safety-net dispatch waits: a job's creation is long finished by then. */
const dispatchSafetyNetSeconds = 60;
/**
 * Items of one message handled at once. The listener runs up to 24 messages per instance, so this
 * is up to 48 items in flight: more only queues at the storage account and costs the host memory
 * (3, 72 in flight, was slower and 5–8 MiB larger in the templates benchmark, docs/benchmarks.md).
 */
const itemParallelism = 2;
/** Tries of an item's work against transient failures, with exponential backoff in between. */
const transientAttempts = 5;
const backoffBaseMs = 100;

export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Creates a job with one item per target and hands it to the queue. A safety-net message sent
 * first, delayed, dispatches the job should this process die before it does.
 */
export async function createJob(
  request: {
    kind: JobKind;
    targets: readonly string[];
    targetKind: 'customer' | 'relationship';
    parameters: JobParameters;
  },
  caller: ServedCaller,
): Promise<GdapJob> {
  const partnerTenantId = caller.principal.tenantId;
  const at = toGraphDateTime(caller.now);
  const job: GdapJob = {
    id: newGuid(),
    partnerTenantId,
    kind: request.kind,
    createdDateTime: at,
    parameters: request.parameters,
    createdBy: { tenantId: partnerTenantId, userId: caller.principal.objectId },
    total: request.targets.length,
    canceledDateTime: null,
    baseUrl: caller.baseUrl,
  };
  await sendQueueMessage(
    gdapJobsQueue,
    { type: 'dispatch', partnerTenantId, jobId: job.id },
    { visibilityDelaySeconds: dispatchSafetyNetSeconds },
  );
  await insertJob(job, newItems(job.id, request.targets, request.targetKind, at));
  await dispatch(job);
  return job;
}

/** One message per chunk, then the job is marked dispatched. Repeating it only repeats messages. */
async function dispatch(job: GdapJob): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(job.total / itemsPerChunk) }, (_, chunk) => chunk);
  await inParallel(chunks, 16, (chunk) =>
    sendQueueMessage(gdapJobsQueue, { type: 'chunk', partnerTenantId: job.partnerTenantId, jobId: job.id, chunk }),
  );
  await markDispatched(job);
}

/** A lost ETag race, or storage not answering (timeouts, refused connections, its own 5xx). */
function isTransient(error: unknown): boolean {
  if (error instanceof DomainError) return error.kind === 'stale';
  if (error instanceof TallyContended) return true;
  return isStorageUnavailable(error);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs work, retrying transient failures with exponential backoff (real time, never the sandbox clock). */
export async function withTransientRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || attempt >= transientAttempts) throw error;
      await sleep(backoffBaseMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
  }
}

async function currentNow(): Promise<DateTime> {
  await refreshServiceClock();
  return serviceNow();
}

type SettledListener = (item: GdapJobItem) => void;
const settledListeners = new Set<SettledListener>();

/** Called for every item this process settles (the two-instance test counts who did what). */
export function onItemSettled(listener: SettledListener): () => void {
  settledListeners.add(listener);
  return () => settledListeners.delete(listener);
}

/** Settles an item with its outcome; the write is conditional, so of two workers one records it. */
async function settle(stored: Stored<GdapJobItem>, outcome: ItemOutcome | { state: 'canceled' }, now: DateTime) {
  const item = stored.value;
  const next: GdapJobItem = {
    ...item,
    state: outcome.state,
    // A run from the queue is an attempt; settling a wait (approval, cancel) is not.
    attempts: item.state === 'queued' && outcome.state !== 'canceled' ? item.attempts + 1 : item.attempts,
    relationshipId: ('relationshipId' in outcome && outcome.relationshipId) || item.relationshipId,
    invitationUrl:
      ('invitationUrl' in outcome && outcome.invitationUrl) ||
      (outcome.state === 'awaitingApproval' ? item.invitationUrl : null),
    warnings: ('warnings' in outcome && outcome.warnings) || [],
    error: ('error' in outcome && outcome.error) || null,
    lastModifiedDateTime: toGraphDateTime(now),
  };
  try {
    const written = await replaceItem(next, stored);
    settledListeners.forEach((listener) => listener(next));
    return written;
  } catch (error) {
    // Another worker settled it first (a message handled twice): its record stands.
    if (error instanceof DomainError && error.kind === 'stale') return undefined;
    throw error;
  }
}

/** Thrown once a message's items are done, when some of them met storage trouble past their retries. */
export class RetryLater extends Error {
  constructor(count: number) {
    super(`${count} item(s) met transient storage failures past their retries: the message is delivered again.`);
    this.name = 'RetryLater';
  }
}

/**
 * Does one item's work and records the outcome; a refusal is the item's failure. Storage trouble
 * that outlasts the item's own retries is not: the item stays as it was, and the caller has the
 * message delivered again (after its last delivery, the poison handler fails the item with the reason).
 */
export async function runItem(
  job: GdapJob,
  stored: Stored<GdapJobItem>,
  cache: ItemContext['cache'],
  work?: ItemWorker,
): Promise<'settled' | 'retryLater'> {
  const now = await currentNow();
  const worker = work ?? itemWorkers.get(job.kind);
  if (!worker) throw new Error(`No worker is registered for jobs of kind '${job.kind}'`);
  const caller = partnerAdminAgent(job.createdBy.tenantId, job.createdBy.userId, now);
  let outcome: ItemOutcome;
  try {
    outcome = await withTransientRetries(() => worker({ job, item: stored.value, caller, cache }));
  } catch (error) {
    if (isTransient(error)) return 'retryLater';
    if (!(error instanceof DomainError)) console.error(`Job ${job.id} item ${stored.value.id} failed`, error);
    outcome = { state: 'failed', error: itemErrorOf(error) };
  }
  await withTransientRetries(() => settle(stored, outcome, now));
  return 'settled';
}

/** A chunk message: the chunk's items not yet done, a few at a time. */
async function runChunk(partnerTenantId: string, jobId: string, chunk: number): Promise<void> {
  const job = await findJob(partnerTenantId, jobId);
  if (!job) return;
  const items = await chunkItems(jobId, chunk);
  const now = await currentNow();
  const cache: ItemContext['cache'] = new Map();
  let retryLater = 0;
  await inParallel(items, itemParallelism, async (stored) => {
    if (isSettled(stored.value.state) || stored.value.state === 'awaitingApproval') return;
    // A canceled job's items are never acted on again.
    if (job.value.canceledDateTime) return void (await settle(stored, { state: 'canceled' }, now));
    try {
      if ((await runItem(job.value, stored, cache)) === 'retryLater') retryLater++;
    } catch (error) {
      // Even the item's outcome could not be written: the message comes back for it.
      if (!isTransient(error)) throw error;
      retryLater++;
    }
  });
  if (retryLater > 0) throw new RetryLater(retryLater);
}

/** The safety net: dispatches a job whose creation stopped before it did. */
async function runDispatch(partnerTenantId: string, jobId: string): Promise<void> {
  const job = await findJob(partnerTenantId, jobId);
  if (job && !job.dispatched) await dispatch(job.value);
}

/**
 * A cancel's sweep: every item not yet done is canceled. An item a worker is on at that moment
 * keeps its cancel: the worker's outcome, conditional on the item it read, is not recorded.
 */
async function runCancel(jobId: string): Promise<void> {
  const now = await currentNow();
  const pending: Stored<GdapJobItem>[] = [];
  for await (const item of jobItems(jobId, ['queued', 'awaitingApproval'])) pending.push(item);
  await inParallel(pending, 16, async (stored) => {
    if (isCancelable(stored.value)) await settle(stored, { state: 'canceled' }, now);
  });
}

export async function handleJobMessage(message: JobMessage): Promise<void> {
  switch (message.type) {
    case 'dispatch':
      return runDispatch(message.partnerTenantId, message.jobId);
    case 'chunk':
      return runChunk(message.partnerTenantId, message.jobId, message.chunk);
    case 'cancel':
      return runCancel(message.jobId);
  }
}

/**
 * A message that failed every delivery (in the poison queue): its items end `failed` with the
 * reason, never silently pending.
 */
export async function handlePoisonedJobMessage(message: JobMessage, reason: string): Promise<number> {
  const now = await currentNow();
  const error = { code: 'internalServerError', message: reason };
  const settleFailed = async (stored: Stored<GdapJobItem>) => {
    if (isSettled(stored.value.state)) return;
    await settle(stored, { state: 'failed', error }, now);
  };
  let targets: Stored<GdapJobItem>[] = [];
  if (message.type === 'chunk') targets = await chunkItems(message.jobId, message.chunk);
  if (message.type === 'dispatch') {
    for await (const item of jobItems(message.jobId, ['queued'])) targets.push(item);
  }
  await inParallel(targets, 16, settleFailed);
  return targets.length;
}

/** Settles one awaiting item from outside the queue's chunks (the approval continuation). */
export async function continueItem(
  partnerTenantId: string,
  jobId: string,
  itemId: string,
  work: ItemWorker,
): Promise<'continued' | 'notYetAwaiting' | 'done'> {
  const [job, stored] = await Promise.all([findJob(partnerTenantId, jobId), findItem(jobId, itemId)]);
  if (!job || !stored) return 'done';
  if (stored.value.state === 'queued' || stored.value.state === 'running') return 'notYetAwaiting';
  if (stored.value.state !== 'awaitingApproval') return 'done';
  if (job.value.canceledDateTime) {
    await settle(stored, { state: 'canceled' }, await currentNow());
    return 'done';
  }
  if ((await runItem(job.value, stored, new Map(), work)) === 'retryLater') throw new RetryLater(1);
  return 'continued';
}

/** The poison's reason, for the message's items. */
export const poisonReason =
  'The item could not be processed: its queue message failed every delivery and was moved to the poison queue.';

/** Cancel (SPEC §15.4): items not yet done are never acted on again. */
export async function cancelJob(job: StoredJob, caller: Caller): Promise<void> {
  if (!job.value.canceledDateTime) await markCanceled(job.value, job.etag, toGraphDateTime(caller.now));
  await sendQueueMessage(gdapJobsQueue, {
    type: 'cancel',
    partnerTenantId: job.value.partnerTenantId,
    jobId: job.value.id,
  });
}

/** Retry (SPEC §15.4): the failed items go back to the queue; each rerun counts as an attempt. */
export async function retryJob(job: StoredJob, caller: Caller): Promise<number> {
  if (job.value.canceledDateTime) throw invalid('A canceled job cannot be retried: create a new one.');
  const chunks = new Set<number>();
  const failed: Stored<GdapJobItem>[] = [];
  for await (const item of jobItems(job.value.id, ['failed'])) failed.push(item);
  const at = toGraphDateTime(caller.now);
  await inParallel(failed, 16, async (stored) => {
    if (!isRetryable(stored.value)) return;
    await replaceItem(
      { ...stored.value, state: 'queued', error: null, warnings: [], lastModifiedDateTime: at },
      stored,
    );
    chunks.add(stored.value.chunk);
  });
  await inParallel([...chunks], 16, (chunk) =>
    sendQueueMessage(gdapJobsQueue, {
      type: 'chunk',
      partnerTenantId: job.value.partnerTenantId,
      jobId: job.value.id,
      chunk,
    }),
  );
  return failed.length;
}

export async function readJob(partnerTenantId: string, jobId: string): Promise<StoredJob> {
  // Job ids are GUIDs: anything else names nothing (and never reaches storage as a key).
  const job = isGuid(jobId) ? await findJob(partnerTenantId, jobId) : undefined;
  if (!job) throw notFound(`The job '${jobId}' was not found.`);
  return job;
}
