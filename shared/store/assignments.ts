import { TransactionAction } from '@azure/data-tables';
import { AccessAssignment } from '../domain/assignments';
import { conflict } from '../domain/errors';
import { assignmentEventsOf, ChangeCause } from '../domain/events';
import { Operation } from '../domain/operations';
import { Relationship } from '../domain/relationships';
import { prepareEvents } from './events';
import { Stored } from './paging';
import { submitChildren } from './relationships';
import { assignmentToRow, groupReservation, operationToRow, relationshipPartition } from './rows';
import { conditionalWrite, isStatus } from './tables';

/**
 * Access assignments live in their relationship's partition (rows.ts). A `grp|` reservation row created in
 * the same transaction keeps one live assignment per security group, whatever races.
 */
export async function insertAssignment(
  relationship: Relationship,
  assignment: AccessAssignment,
  cause: ChangeCause,
): Promise<Stored<AccessAssignment>> {
  return (await insertAssignments(relationship, [assignment], cause))[0];
}

/** Assignments one transaction holds: two rows and an audit entry each, within Table Storage's 100 actions. */
export const assignmentsPerInsert = 33;

/**
 * Inserts several assignments of one relationship in one transaction (all or none: a group that
 * already has one makes it a 409 conflict).
 */
export async function insertAssignments(
  relationship: Relationship,
  assignments: readonly AccessAssignment[],
  cause: ChangeCause,
): Promise<Stored<AccessAssignment>[]> {
  if (assignments.length === 0) return [];
  if (assignments.length > assignmentsPerInsert) {
    throw new Error(`At most ${assignmentsPerInsert} access assignments fit one transaction`);
  }
  const partitionKey = relationshipPartition(relationship);
  const audits = assignments.flatMap(
    (assignment) => assignmentEventsOf(relationship, undefined, assignment, cause).audits,
  );
  const events = await prepareEvents(partitionKey, { audits, notifications: [] });
  let response;
  try {
    response = await submitChildren([
      ...assignments.flatMap((assignment): TransactionAction[] => [
        ['create', assignmentToRow(partitionKey, assignment)],
        ['create', groupReservation(partitionKey, assignment)],
      ]),
      ...events.actions,
    ]);
  } catch (error) {
    if (isStatus(error, 409)) {
      const groups = assignments.map((assignment) => `'${assignment.accessContainerId}'`).join(', ');
      throw conflict(
        assignments.length === 1
          ? `Security group ${groups} already has an access assignment on this relationship.`
          : `One of the security groups ${groups} already has an access assignment on this relationship.`,
      );
    }
    throw error;
  }
  await events.publish();
  return assignments.map((value, index) => {
    const etag = response.subResponses[index * 2]?.etag;
    if (!etag) throw new Error('The transaction response carries no ETag for an assignment row');
    return { value, etag };
  });
}

/** Replaces an assignment if its row still has `etag`; a deleted one frees its security group. */
export async function replaceAssignment(
  relationship: Relationship,
  previous: AccessAssignment,
  next: AccessAssignment,
  etag: string,
  cause: ChangeCause,
  operation?: Operation,
): Promise<Stored<AccessAssignment>> {
  const partitionKey = relationshipPartition(relationship);
  const events = await prepareEvents(partitionKey, assignmentEventsOf(relationship, previous, next, cause));
  const actions: TransactionAction[] = [
    ['update', assignmentToRow(partitionKey, next), 'Replace', { etag }],
    ...events.actions,
  ];
  if (next.status === 'deleted') actions.push(['delete', groupReservation(partitionKey, next)]);
  if (operation) actions.push(['create', operationToRow(partitionKey, operation)]);
  const response = await conditionalWrite(submitChildren(actions));
  await events.publish();
  const updatedEtag = response.subResponses[0]?.etag;
  if (!updatedEtag) throw new Error('The transaction response carries no ETag for the assignment row');
  return { value: next, etag: updatedEtag };
}
