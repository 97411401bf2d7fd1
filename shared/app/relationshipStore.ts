import { DateTime } from 'luxon';
import { AssignmentSet, needsAssignments, RelationshipChange } from '../domain/relationshipChanges';
import { Relationship } from '../domain/relationships';
import { Stored } from '../query/paging';
import {
  commitRelationshipChange,
  CommittedRelationshipChange,
  findRelationship,
  readAssignmentSet,
} from '../store/relationships';
import { finishFollowUps } from './jobs';

/**
 * Stores a relationship change and finishes its follow-ups at once (through the job that would
 * finish them after a crash). A follow-up that fails is left to its job: the change is stored.
 */
export async function storeRelationshipChange(
  change: RelationshipChange,
  now: DateTime,
): Promise<CommittedRelationshipChange> {
  const committed = await commitRelationshipChange(change);
  if (change.followUps.length > 0) {
    await finishFollowUps(change.followUps, now, (error) => console.error('A follow-up is left to its job', error));
  }
  return committed;
}

/** A relationship as read for a change, with its assignments when the change may touch them. */
export interface RelationshipState {
  stored: Stored<Relationship> | undefined;
  assignments?: AssignmentSet;
}

/**
 * Reads a relationship and, when `next` (what the change would make of it) affects its
 * assignments, them too: the assignment set is read after the relationship row, so an assignment
 * written in between is either in the set or changed the grant the change is conditional on.
 */
export async function readRelationshipFor(
  id: string,
  next: (relationship: Relationship) => Relationship | undefined,
): Promise<RelationshipState> {
  const stored = await findRelationship(id);
  if (!stored) return { stored };
  const after = next(stored.value);
  if (!after || !needsAssignments(stored.value, after)) return { stored };
  return { stored, assignments: await readAssignmentSet(stored.value) };
}
