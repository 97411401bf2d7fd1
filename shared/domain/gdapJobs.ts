import { z } from 'zod';
import { parseAutoExtendDuration } from './durations';
import { invalid } from './errors';
import type { Initiator } from './events';
import { parsePartnerCenterBody } from './schema';
import { validTargets } from './templates';

/**
 * Bulk jobs (SPEC §15.4): what a job and its items are, how their states move, and what a job's
 * counts and status are. Items carry all of a job's progress, and each chunk of 25 a tally of its
 * items' states; the job row only says what was asked, by whom, and whether it was canceled, so
 * workers on several instances never contend on one row for the whole job.
 */
export const gdapJobsQueue = 'gdap-jobs';
/**
 * Approvals, rejections and expiries of template relationships have a queue of their own, so the
 * reaction to a customer's answer never waits behind the chunks of a large job.
 */
export const gdapApprovalsQueue = 'gdap-approvals';

export const jobKinds = [
  'assignTemplate',
  'reconcileTemplate',
  'removeGlobalAdministrator',
  'setAutoExtend',
  'terminate',
  'removeDap',
] as const;
export type JobKind = (typeof jobKinds)[number];
/** Kinds a client creates with `POST /v1/gdapJobs`; the template kinds come from the template routes. */
export const postableJobKinds = ['removeGlobalAdministrator', 'setAutoExtend', 'terminate', 'removeDap'] as const;

export const jobStatuses = ['notStarted', 'running', 'succeeded', 'partiallySucceeded', 'failed', 'canceled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

export const itemStates = ['queued', 'running', 'awaitingApproval', 'completed', 'failed', 'canceled'] as const;
export type ItemState = (typeof itemStates)[number];

export interface JobParameters {
  templateId?: string;
  renew?: boolean;
  thenAutoExtend?: boolean;
  autoExtendDuration?: string;
  force?: boolean;
}

export interface GdapJob {
  id: string;
  partnerTenantId: string;
  kind: JobKind;
  createdDateTime: string;
  parameters: JobParameters;
  /** The partner user who asked: every change a job makes is theirs in the audit log (SPEC §15, item 6). */
  createdBy: Required<Pick<Initiator, 'tenantId' | 'userId'>>;
  total: number;
  canceledDateTime: string | null;
  /** Where the job was asked for (PUBLIC_BASE_URL or the request's origin): its invitation links point there. */
  baseUrl: string;
}

export interface ItemError {
  code: string;
  message: string;
}

export interface GdapJobItem {
  id: string;
  jobId: string;
  /** Which message carries it: items of one chunk share a partition and a queue message. */
  chunk: number;
  customerTenantId: string | null;
  relationshipId: string | null;
  state: ItemState;
  attempts: number;
  invitationUrl: string | null;
  warnings: string[];
  error: ItemError | null;
  lastModifiedDateTime: string;
}

export const isSettled = (state: ItemState): boolean =>
  state === 'completed' || state === 'failed' || state === 'canceled';

/** Items per queue message (and per storage partition of a job's items). */
export const itemsPerChunk = 25;

/** An item's id is its position in the job (fixed width, so ids sort in order); its chunk follows from it. */
export const itemId = (index: number): string => String(index).padStart(5, '0');
export const chunkOf = (id: string): number => Math.floor(Number(id) / itemsPerChunk);
export const isItemId = (value: string): boolean => /^\d{5}$/.test(value);

/** The items of a new job: one per target, in order, chunked for the queue. */
export function newItems(
  jobId: string,
  targets: readonly string[],
  targetKind: 'customer' | 'relationship',
  at: string,
): GdapJobItem[] {
  return targets.map((target, index) => ({
    id: itemId(index),
    jobId,
    chunk: Math.floor(index / itemsPerChunk),
    customerTenantId: targetKind === 'customer' ? target : null,
    relationshipId: targetKind === 'relationship' ? target : null,
    state: 'queued',
    attempts: 0,
    invitationUrl: null,
    warnings: [],
    error: null,
    lastModifiedDateTime: at,
  }));
}

export interface JobCounts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  canceled: number;
}

/**
 * How many of a chunk's items are in each state, and when one last moved: kept beside the items
 * and moved with each of them, so a job's counts come from its tallies, never from every item.
 */
export type ItemTally = Record<ItemState, number> & { lastModifiedDateTime: string };

export function tallyOf(items: readonly Pick<GdapJobItem, 'state' | 'lastModifiedDateTime'>[]): ItemTally {
  const tally: ItemTally = { ...emptyStates(), lastModifiedDateTime: '' };
  for (const item of items) {
    tally[item.state]++;
    if (item.lastModifiedDateTime > tally.lastModifiedDateTime) tally.lastModifiedDateTime = item.lastModifiedDateTime;
  }
  return tally;
}

/** The tally once one item moved from `from` to its new state. */
export function movedTally(
  tally: ItemTally,
  from: ItemState,
  item: Pick<GdapJobItem, 'state' | 'lastModifiedDateTime'>,
): ItemTally {
  const next: ItemTally = { ...tally, [from]: tally[from] - 1 };
  next[item.state]++;
  if (item.lastModifiedDateTime > next.lastModifiedDateTime) next.lastModifiedDateTime = item.lastModifiedDateTime;
  return next;
}

function emptyStates(): Record<ItemState, number> {
  return Object.fromEntries(itemStates.map((state) => [state, 0])) as Record<ItemState, number>;
}

/** A job's counts from its chunks' tallies. */
export function countTallies(tallies: readonly ItemTally[]): JobCounts {
  const counts: JobCounts = { total: 0, succeeded: 0, failed: 0, pending: 0, canceled: 0 };
  for (const tally of tallies) {
    for (const state of itemStates) {
      const n = tally[state];
      counts.total += n;
      if (state === 'completed') counts.succeeded += n;
      else if (state === 'failed') counts.failed += n;
      else if (state === 'canceled') counts.canceled += n;
      else counts.pending += n;
    }
  }
  return counts;
}

/** A job is running while any item is pending; then its outcome follows from its items. */
export function jobStatus(job: Pick<GdapJob, 'canceledDateTime'>, counts: JobCounts): JobStatus {
  const started = counts.pending < counts.total || counts.total === 0;
  if (counts.pending > 0) return started ? 'running' : 'notStarted';
  if (job.canceledDateTime && counts.canceled > 0) return 'canceled';
  if (counts.failed === 0) return 'succeeded';
  return counts.succeeded > 0 ? 'partiallySucceeded' : 'failed';
}

const createSchema = z.strictObject({
  kind: z.string(),
  relationshipIds: z.array(z.string()).optional(),
  customerTenantIds: z.array(z.string()).optional(),
  thenAutoExtend: z.boolean().optional(),
  autoExtendDuration: z.string().optional(),
  force: z.boolean().optional(),
});

export interface JobRequest {
  kind: (typeof postableJobKinds)[number];
  targets: string[];
  targetKind: 'customer' | 'relationship';
  parameters: JobParameters;
}

/** `POST /v1/gdapJobs` (SPEC §15.4): each kind names its own targets and options, and only those. */
export function parseJobRequest(body: unknown): JobRequest {
  const input = parsePartnerCenterBody(createSchema, body);
  const kind = postableJobKinds.find((candidate) => candidate === input.kind);
  if (!kind) {
    throw invalid(
      `Invalid value for 'kind': ${JSON.stringify(input.kind)}. Supported: ${postableJobKinds.join(', ')}.`,
    );
  }
  const allowed: Record<JobRequest['kind'], string[]> = {
    removeGlobalAdministrator: ['relationshipIds', 'thenAutoExtend'],
    setAutoExtend: ['relationshipIds', 'autoExtendDuration'],
    terminate: ['relationshipIds'],
    removeDap: ['customerTenantIds', 'force'],
  };
  const extra = Object.keys(input).find((name) => name !== 'kind' && !allowed[kind].includes(name));
  if (extra) throw invalid(`Invalid request body: property '${extra}' is not supported for jobs of kind '${kind}'.`);
  if (kind === 'removeDap') {
    if (!input.customerTenantIds)
      throw invalid(`Invalid request body: required property 'customerTenantIds' is missing.`);
    return {
      kind,
      targets: validTargets(input.customerTenantIds, 'customerTenantIds', 'tenant'),
      targetKind: 'customer',
      parameters: { force: input.force ?? false },
    };
  }
  if (!input.relationshipIds) throw invalid(`Invalid request body: required property 'relationshipIds' is missing.`);
  const parameters: JobParameters = {};
  if (kind === 'removeGlobalAdministrator') parameters.thenAutoExtend = input.thenAutoExtend ?? false;
  if (kind === 'setAutoExtend') {
    if (input.autoExtendDuration === undefined) {
      throw invalid(`Invalid request body: required property 'autoExtendDuration' is missing.`);
    }
    parameters.autoExtendDuration = parseAutoExtendDuration(input.autoExtendDuration);
  }
  return {
    kind,
    targets: validTargets(input.relationshipIds, 'relationshipIds', 'relationship'),
    targetKind: 'relationship',
    parameters,
  };
}

/** Items a retry puts back in the queue: the failed ones (each rerun counts as an attempt). */
export const isRetryable = (item: GdapJobItem): boolean => item.state === 'failed';

/** Items a cancel stops: any not yet done. A running item finishes its step, then sees the cancel. */
export const isCancelable = (item: GdapJobItem): boolean =>
  item.state === 'queued' || item.state === 'awaitingApproval';
