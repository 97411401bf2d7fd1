import { randomUUID } from 'node:crypto';
import { config } from '../config';
import { writesNothing } from '../domain/change';
import { DueEntry, jobIds } from '../domain/jobs';
import {
  expireIfApprovalLapsed,
  expiryWarningDue,
  isCurrentExpiryWarning,
  processEndDate,
  purgeDue,
} from '../domain/maintenance';
import { planDelete, planExpiryWarning, planFinishAssignments, planTransition } from '../domain/relationshipChanges';
import { Relationship } from '../domain/relationships';
import { TransactionRefused } from '../store/executor';
import { recoverOutbound } from '../store/outbox';
import {
  commitRelationshipChange,
  findRelationship,
  findRelationshipOrTombstone,
  readAssignmentSet,
  removeTombstone,
} from '../store/relationships';
import { actingAsSystem } from './caller';
import { decideAndCommit } from './commit';
import { defineDueJob, DueJob, JobRun } from './jobs';
import { readRelationshipFor, storeRelationshipChange } from './relationshipStore';

/**
 * The maintenance jobs of SPEC §4 (and the service's own: follow-ups, the outbox). Each handles
 * one due entry: it reads what the entry names, applies the pure decision of
 * shared/domain/maintenance.ts, and stores the change through the same executor as the HTTP API,
 * conditional on what it read. A change the entry no longer calls for (the state moved on) is
 * nothing to do; the runner (jobs.ts) removes the entry either way once the handler returns.
 */
const schedules = config().jobSchedules;

/** Applies a job's decision to the entry's relationship; undefined when it calls for nothing now. */
async function transition(
  entry: DueEntry,
  run: JobRun,
  decide: (relationship: Relationship) => Relationship | undefined,
  label: (next: Relationship) => string,
): Promise<string | undefined> {
  return decideAndCommit({
    ...actingAsSystem(run.now),
    read: () => {
      run.count('relationshipsRead');
      return readRelationshipFor(entry.subjectId, decide);
    },
    decide: (state, context) => {
      const next = state.stored && decide(state.stored.value);
      if (!state.stored || !next) return { answer: () => undefined };
      return {
        change: planTransition(state.stored, next, context, { assignments: state.assignments }),
        answer: () => label(next),
      };
    },
    commit: (change) => storeRelationshipChange(change, run.now),
  });
}

export const expirePendingRequests = defineDueJob({
  id: jobIds.expirePendingRequests,
  schedule: schedules.expirePendingRequests,
  counters: ['relationshipsRead'],
  handle: (entry, run) =>
    transition(
      entry,
      run,
      (relationship) => expireIfApprovalLapsed(relationship, run.now),
      () => 'expired',
    ),
});

export const processEndDates = defineDueJob({
  id: jobIds.processEndDates,
  schedule: schedules.processEndDates,
  counters: ['relationshipsRead'],
  handle: (entry, run) =>
    transition(
      entry,
      run,
      (relationship) => processEndDate(relationship, run.now),
      (next) => (next.status === 'active' ? 'extended' : 'expired'),
    ),
});

export const sendExpiryWarnings = defineDueJob({
  id: jobIds.sendExpiryWarnings,
  schedule: schedules.sendExpiryWarnings,
  counters: ['relationshipsRead'],
  followUps: true,
  handle: async (entry, run) => {
    run.count('relationshipsRead');
    const stored = await findRelationship(entry.subjectId);
    if (!stored || !isCurrentExpiryWarning(stored.value, entry)) return undefined;
    const send = expiryWarningDue(stored.value, entry, run.now);
    const context = { ...actingAsSystem(run.now), changeId: randomUUID() };
    const change = planExpiryWarning(stored.value, entry, send, context);
    if (writesNothing(change)) return undefined;
    try {
      await commitRelationshipChange(change);
    } catch (error) {
      // Another run (or instance) sent this warning first: its marker is there.
      if (error instanceof TransactionRefused && error.reason === 'exists') return undefined;
      throw error;
    }
    return send ? `warned${entry.days}Days` : undefined;
  },
});

/**
 * Purges a relationship 365 days after it ended (tombstone and events in one transaction, its
 * name free at once), then removes its rows; a tombstone a crash left (or a deleted
 * relationship's) is finished here too, since the deletion scheduled this entry before it.
 */
export const purgeEnded = defineDueJob({
  id: jobIds.purgeEnded,
  schedule: schedules.purgeEnded,
  counters: ['relationshipsRead'],
  handle: async (entry, run) => {
    run.count('relationshipsRead');
    const found = await findRelationshipOrTombstone(entry.subjectId);
    if (found?.tombstone) {
      await removeTombstone(found.value);
      return 'purged';
    }
    return decideAndCommit({
      ...actingAsSystem(run.now),
      read: () => findRelationship(entry.subjectId),
      decide: (stored, context) =>
        stored && purgeDue(stored.value, run.now)
          ? { change: planDelete(stored, context), answer: () => 'purged' }
          : { answer: () => undefined },
      commit: (change) => storeRelationshipChange(change, run.now),
    });
  },
});

/** The share of a relationship change's consequences that did not fit its transaction (SPEC §2.1). */
export const finishRelationshipChanges = defineDueJob({
  id: jobIds.finishRelationshipChanges,
  schedule: schedules.finishRelationshipChanges,
  handle: async (entry, run) => {
    let stored = 0;
    for (;;) {
      const more = await decideAndCommit({
        ...actingAsSystem(run.now),
        read: async () => {
          const found = await findRelationship(entry.subjectId);
          return found && { stored: found, assignments: await readAssignmentSet(found.value) };
        },
        decide: (state, context) => {
          const change = state && planFinishAssignments(state.stored.value, state.assignments, context);
          if (!change || change.writes.length === 0) return { answer: () => false };
          // The plan names a further follow-up while more remain: this loop is it.
          return { change: { ...change, followUps: [] }, answer: () => change.followUps.length > 0 };
        },
        commit: async (change) => {
          await commitRelationshipChange(change);
          stored++;
        },
      });
      if (!more) break;
    }
    return stored > 0 ? 'finished' : undefined;
  },
});

/**
 * The outbox's recovery (shared/store/outbox.ts): rows a crash stranded between a change and
 * their publication, published if the change was stored. Runs on real time, whatever the
 * sandbox clock says.
 */
export const publishEvents = defineDueJob({
  id: jobIds.publishEvents,
  schedule: schedules.publishEvents,
  clock: 'real',
  counters: ['published'],
  handle: async (entry, run) => {
    const published = await recoverOutbound(entry);
    run.count('published', published);
    return undefined;
  },
});

export const maintenanceJobs: DueJob[] = [
  expirePendingRequests,
  processEndDates,
  sendExpiryWarnings,
  purgeEnded,
  finishRelationshipChanges,
  publishEvents,
];
