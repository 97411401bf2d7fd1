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
  const partitionKey = relationshipPartition(relationship);
  const events = await prepareEvents(partitionKey, assignmentEventsOf(relationship, undefined, assignment, cause));
  let etag: string | undefined;
  try {
    const response = await submitChildren([
      ['create', assignmentToRow(partitionKey, assignment)],
      ['create', groupReservation(partitionKey, assignment)],
      ...events.actions,
    ]);
    etag = response.subResponses[0]?.etag;
  } catch (error) {
    if (isStatus(error, 409)) {
      throw conflict(
        `Security group '${assignment.accessContainerId}' already has an access assignment on this relationship.`,
      );
    }
    throw error;
  }
  await events.publish();
  if (!etag) throw new Error('The transaction response carries no ETag for the assignment row');
  return { value: assignment, etag };
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
