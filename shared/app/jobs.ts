import { DateTime } from 'luxon';
import { DueEntry, JobId } from '../domain/jobs';
import { toGraphDateTime } from '../domain/time';
import { dueEntries, DueRow, dueRow, removeDueEntry } from '../store/dueIndex';
import { crashPoint } from '../store/faults';

/**
 * The one job runner (ARCHITECTURE "Jobs"). A job is its id (domain/jobs.ts), its schedule and a
 * handler for one due entry; the runner owns the rest: reading only the entries that are due, in
 * batches, handling them with bounded parallelism, removing an entry only after its handler has
 * stored what it called for, and counting exactly what happened. Every handler is idempotent and
 * decides on fresh state, so two runs at once, or a run resumed after a crash, do each thing once.
 * The timer that starts a run is a thin dispatcher (functions/maintenance.ts); a job whose due set
 * outgrows one instance would hand each batch to a Storage queue here (`handleBatch` is the seam).
 */
export interface DueJob {
  id: JobId;
  /** NCRONTAB schedule (with seconds) of its timer. */
  schedule: string;
  /** Whose time decides what is due: the service clock (default), or real time (the outbox). */
  clock?: 'service' | 'real';
  /** Handling an entry may schedule another that is already due (a clock jump): read again until none is. */
  followUps?: boolean;
  /** Counters the report shows even when nothing added to them. */
  counters?: string[];
  /** Outcome labels the report lists even when no entry had them. */
  outcomes?: string[];
  /** Handles one due entry; returns a label under which the report lists its subject, or nothing. */
  handle(entry: DueEntry, run: JobRun): Promise<string | undefined>;
}

/**
 * One run of a job: its `now`, and counters the handlers add to (reported as they are).
 * `afterCommit`: the entries are follow-ups of a change this process has just stored
 * (`finishFollowUps`), so what they carry about it is true; a run of the job (after a crash)
 * cannot know whether their change was stored, and reads.
 */
export class JobRun {
  readonly counters: Record<string, number> = {};

  constructor(
    readonly now: DateTime,
    readonly afterCommit = false,
  ) {}

  count(name: string, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by;
  }
}

/** What a run did, returned by the sandbox jobs route and logged by the timer. */
export type JobReport = Record<string, unknown>;

/** Entries fetched per index query; a run continues until nothing due is left. */
const batchSize = 1000;
/** Entries handled at once within a batch. */
const parallelism = 16;

const jobs = new Map<JobId, DueJob>();

export function defineDueJob(job: DueJob): DueJob {
  jobs.set(job.id, job);
  return job;
}

export function findJob(id: string): DueJob | undefined {
  return jobs.get(id as JobId);
}

export function listJobs(): DueJob[] {
  return [...jobs.values()];
}

/** The `now` a job's run uses: the service clock's, or real time for jobs that must not wait on it. */
export function jobNow(job: DueJob, serviceNow: DateTime): DateTime {
  return job.clock === 'real' ? DateTime.utc() : serviceNow;
}

export async function runDueJob(job: DueJob, now: DateTime): Promise<JobReport> {
  const run = new JobRun(now);
  for (const name of job.counters ?? []) run.count(name, 0);
  const outcomes: Record<string, string[]> = Object.fromEntries((job.outcomes ?? []).map((label) => [label, []]));
  const seen = new Set<string>();
  let due = 0;
  let indexEntriesRead = 0;
  for (;;) {
    const fetched = await dueEntries(job.id, toGraphDateTime(now), batchSize);
    indexEntriesRead += fetched.length;
    const rows = fetched.filter((row) => !seen.has(`${row.partitionKey}\n${row.rowKey}`));
    if (rows.length === 0) break;
    due += rows.length;
    rows.forEach((row) => seen.add(`${row.partitionKey}\n${row.rowKey}`));
    for (const [label, subject] of await handleBatch(job, rows, run)) (outcomes[label] ??= []).push(subject);
    if (fetched.length < batchSize && !job.followUps) break;
  }
  return { due, indexEntriesRead, ...run.counters, ...outcomes };
}

/** Handles one batch of due entries, at most `parallelism` at a time; returns what each did. */
export async function handleBatch(job: DueJob, rows: readonly DueRow[], run: JobRun): Promise<[string, string][]> {
  const done: [string, string][] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const row = rows[next++];
      const outcome = await job.handle(row.entry, run);
      if (outcome) done.push([outcome, row.entry.subjectId]);
      crashPoint('beforeDueEntryRemoved');
      await removeDueEntry(row);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, rows.length) }, worker));
  return done;
}

/**
 * Finishes a change's follow-ups (due entries it wrote before its transaction) right after it is
 * stored, through the same handlers the jobs use, and removes each once done. One that fails is
 * left to its job: the change itself is stored.
 */
export async function finishFollowUps(
  entries: readonly DueEntry[],
  now: DateTime,
  onError: (error: unknown) => void,
): Promise<void> {
  for (const entry of entries) {
    const job = jobs.get(entry.job);
    if (!job) continue;
    try {
      await job.handle(entry, new JobRun(now, true));
      await removeDueEntry(dueRow(entry));
    } catch (error) {
      if (error instanceof Error && error.name === 'SimulatedCrash') throw error;
      onError(error);
    }
  }
}
