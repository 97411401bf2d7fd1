import { DateTime } from 'luxon';
import { config } from '../shared/config';
import { DomainError } from '../shared/domain/errors';
import { ChangeCause, expiryWarnings } from '../shared/domain/events';
import {
  DueEntry,
  expireIfApprovalLapsed,
  expiryWarningDue,
  isCurrentExpiryWarning,
  nextExpiryWarning,
  jobIds,
  processEndDate,
  purgeDue,
  RelationshipJobId,
} from '../shared/domain/maintenance';
import { Relationship } from '../shared/domain/relationships';
import { toGraphDateTime } from '../shared/domain/time';
import { JobReport, registerJob } from '../shared/jobs';
import { addDueEntries, dueEntries, DueRow, removeDueEntry } from '../shared/store/dueIndex';
import { deliverOnce, dueRecoveryEntries, eventRecoveryJob, recoverEvents } from '../shared/store/events';
import { Stored } from '../shared/store/paging';
import { deleteRelationship, findRelationship, replaceRelationship } from '../shared/store/relationships';

/**
 * The maintenance timers of SPEC §4. Each job reads only the due-date index entries that are due,
 * applies the pure decision of shared/domain/maintenance.ts through the same repository as the
 * HTTP API (ETag-conditional), and removes an entry only after its change is stored. Two runs at
 * once, or a run resumed after a crash, find either the work still to do or nothing.
 */

/** Entries fetched per index query; a run continues until nothing due is left. */
const batchSize = 1000;
/** Relationships handled at once within a batch. */
const parallelism = 16;
/** A relationship changed under us is decided again on fresh state, a few times at most. */
const maxAttempts = 5;

const systemCause = (now: DateTime): ChangeCause => ({ initiatedBy: { kind: 'system' }, at: toGraphDateTime(now) });

/** What handling one due entry did: a label for the report, or nothing. */
type Outcome = string | undefined;

/** Counts what a run reads, so benchmarks can show that cost follows the due items only. */
interface JobContext {
  now: DateTime;
  indexEntriesRead: number;
  relationshipsRead: number;
}

async function readRelationship(context: JobContext, id: string): Promise<Stored<Relationship> | undefined> {
  context.relationshipsRead++;
  return findRelationship(id);
}

/**
 * Applies `decide` to the entry's relationship and stores the result. Losing a race to another
 * writer is not an error: the fresh state is decided again and usually needs nothing any more.
 */
async function applyDecision(
  context: JobContext,
  entry: DueEntry,
  decide: (relationship: Relationship) => Relationship | undefined,
  label: (previous: Relationship, next: Relationship) => string,
): Promise<Outcome> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const stored = await readRelationship(context, entry.relationshipId);
    const next = stored && decide(stored.value);
    if (!stored || !next) return undefined;
    try {
      await replaceRelationship(stored.value, next, stored.etag, systemCause(context.now));
      return label(stored.value, next);
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === 'stale')) throw error;
    }
  }
  return undefined;
}

/**
 * Handles every entry of `job` due by `now`, in batches. With `followUps` (handling an entry may
 * schedule another, already due when the clock has jumped) it reads again until nothing new is due.
 */
async function runOverDueEntries(
  job: RelationshipJobId,
  now: DateTime,
  handle: (context: JobContext, entry: DueEntry) => Promise<Outcome>,
  options: { followUps?: boolean } = {},
): Promise<JobReport> {
  const context: JobContext = { now, indexEntriesRead: 0, relationshipsRead: 0 };
  const outcomes: Record<string, string[]> = {};
  const seen = new Set<string>();
  let due = 0;
  for (;;) {
    const fetched = await dueEntries(job, toGraphDateTime(now), batchSize);
    context.indexEntriesRead += fetched.length;
    const rows = fetched.filter((row) => !seen.has(row.rowKey));
    if (rows.length === 0) break;
    due += rows.length;
    rows.forEach((row) => seen.add(row.rowKey));
    await forEachLimited(rows, parallelism, async (row: DueRow) => {
      const outcome = await handle(context, row.entry);
      if (outcome) (outcomes[outcome] ??= []).push(row.entry.relationshipId);
      await removeDueEntry(row);
    });
    if (rows.length < batchSize && !options.followUps) break;
  }
  const { indexEntriesRead, relationshipsRead } = context;
  return { due, indexEntriesRead, relationshipsRead, ...outcomes };
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(workers);
}

export function expirePendingRequests(now: DateTime): Promise<JobReport> {
  return runOverDueEntries(jobIds.expirePendingRequests, now, (context, entry) =>
    applyDecision(
      context,
      entry,
      (relationship) => expireIfApprovalLapsed(relationship, now),
      () => 'expired',
    ),
  );
}

export function processEndDates(now: DateTime): Promise<JobReport> {
  return runOverDueEntries(jobIds.processEndDates, now, (context, entry) =>
    applyDecision(
      context,
      entry,
      (relationship) => processEndDate(relationship, now),
      (_previous, next) => (next.status === 'active' ? 'extended' : 'expired'),
    ),
  );
}

export function sendExpiryWarnings(now: DateTime): Promise<JobReport> {
  return runOverDueEntries(
    jobIds.sendExpiryWarnings,
    now,
    async (context, entry) => {
      const stored = await readRelationship(context, entry.relationshipId);
      if (!stored || !isCurrentExpiryWarning(stored.value, entry)) return undefined;
      // The next warning is scheduled before this entry goes, whether or not this one is sent
      // (auto-extension may be switched off before then).
      const next = nextExpiryWarning(stored.value, entry.days);
      if (next) await addDueEntries([next]);
      if (!expiryWarningDue(stored.value, entry, now)) return undefined;
      const warnings = expiryWarnings(stored.value, entry.days ?? 0, toGraphDateTime(now));
      const sent = await Promise.all(warnings.map(deliverOnce));
      return sent.some(Boolean) ? `warned${entry.days}Days` : undefined;
    },
    { followUps: true },
  );
}

export function purgeEnded(now: DateTime): Promise<JobReport> {
  return runOverDueEntries(jobIds.purgeEnded, now, async (context, entry) => {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const stored = await readRelationship(context, entry.relationshipId);
      if (!stored || !purgeDue(stored.value, now)) return undefined;
      try {
        await deleteRelationship(stored.value, stored.etag, systemCause(now));
        return 'purged';
      } catch (error) {
        if (!(error instanceof DomainError && error.kind === 'stale')) throw error;
      }
    }
    return undefined;
  });
}

/**
 * Publishes audit entries and notifications a crash stranded between a change and its
 * publication (see shared/store/events.ts): one point read of each due entry's witness row.
 */
export async function publishEvents(realNow: DateTime): Promise<JobReport> {
  let due = 0;
  let published = 0;
  for (;;) {
    const rows = await dueRecoveryEntries(toGraphDateTime(realNow), batchSize);
    due += rows.length;
    await forEachLimited(rows, parallelism, async (row) => {
      published += await recoverEvents(row);
    });
    if (rows.length < batchSize) break;
  }
  return { due, published };
}

const schedules = config().jobSchedules;
registerJob({
  id: jobIds.expirePendingRequests,
  schedule: schedules.expirePendingRequests,
  run: expirePendingRequests,
});
registerJob({ id: jobIds.processEndDates, schedule: schedules.processEndDates, run: processEndDates });
registerJob({ id: jobIds.sendExpiryWarnings, schedule: schedules.sendExpiryWarnings, run: sendExpiryWarnings });
registerJob({ id: jobIds.purgeEnded, schedule: schedules.purgeEnded, run: purgeEnded });
// Recovery runs on real time, whatever the sandbox clock says (see shared/store/events.ts).
registerJob({ id: eventRecoveryJob, schedule: schedules.publishEvents, run: () => publishEvents(DateTime.utc()) });
