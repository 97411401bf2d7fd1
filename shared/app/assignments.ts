import {
  AccessAssignment,
  createAssignment as newAssignment,
  deleteAssignment as deletedAssignment,
  updateAssignmentRoles,
} from '../domain/assignments';
import { conflict, forbidden, notFound, stale } from '../domain/errors';
import { newGuid } from '../domain/ids';
import { Operation, succeededOperation } from '../domain/operations';
import { appRoles, canReadPartnerResources, hasAppRole, Principal } from '../domain/principal';
import { planAssignmentChange, planAssignmentCreate, planAssignmentsCreate } from '../domain/relationshipChanges';
import { assertVisible, perspectiveOf, Relationship } from '../domain/relationships';
import { Keyed, Stored } from '../query/paging';
import { TransactionRefused } from '../store/executor';
import { assertPartnerMay } from '../store/partners';
import { commitRelationshipChange, findChild, findRelationship, listChildren } from '../store/relationships';
import { assignmentFromRow, childKinds } from '../store/rows';
import { actingAs, Caller } from './caller';
import { decideAndCommit } from './commit';

/**
 * Use cases of access assignments (SPEC §3.2), the partner's own business: customers get 404.
 * Every write relies on the relationship's grant (domain/relationshipChanges.ts), so one racing a
 * termination or a role removal either fails and is decided again, or is in that change's view.
 */

/** The relationship, if the caller is its partner with the right to read (or write) its assignments. */
async function partnerRelationship(id: string, principal: Principal, write: boolean): Promise<Stored<Relationship>> {
  const stored = await findRelationship(id);
  const relationship = assertVisible(stored?.value, principal.tenantId, id);
  if (perspectiveOf(relationship, principal.tenantId) !== 'partner') {
    throw notFound(`The delegated admin relationship '${id}' was not found.`);
  }
  if (write && !hasAppRole(principal, appRoles.adminAgent)) {
    throw forbidden('Managing access assignments requires the AdminAgent role in the partner tenant.');
  }
  if (!write && !canReadPartnerResources(principal)) {
    throw forbidden(
      'Reading access assignments requires the AdminAgent or HelpdeskAgent role, or Global Administrator.',
    );
  }
  if (write) await assertPartnerMay(principal.tenantId, 'updateGdap');
  return stored as Stored<Relationship>;
}

async function findAssignment(relationship: Relationship, id: string): Promise<Stored<AccessAssignment>> {
  const stored = await findChild(childKinds.assignment, relationship, id, assignmentFromRow);
  if (!stored) throw notFound(`The access assignment '${id}' was not found.`);
  return stored;
}

const groupTaken = (group: string) =>
  conflict(`Security group '${group}' already has an access assignment on this relationship.`);

/** POST: stored `active` (it is applied in the same request); the HTTP answer shows it `pending`, as Graph does. */
export async function createAssignment(
  relationshipId: string,
  body: unknown,
  caller: Caller,
): Promise<Stored<AccessAssignment>> {
  const id = newGuid();
  let group = '';
  try {
    return await decideAndCommit({
      ...actingAs(caller),
      read: () => partnerRelationship(relationshipId, caller.principal, true),
      decide: (relationship, context) => {
        // One live assignment per group is kept by its reservation row, inserted with it.
        const assignment = newAssignment(body, relationship.value, [], id, caller.now);
        group = assignment.accessContainerId;
        return {
          change: planAssignmentCreate(relationship.value, assignment, context),
          answer: (stored) => ({ value: assignment, etag: stored?.assignmentEtag as string }),
        };
      },
      commit: commitRelationshipChange,
    });
  } catch (error) {
    if (error instanceof TransactionRefused && error.reason === 'exists') throw groupTaken(group);
    throw error;
  }
}

/** Assignments one `createAssignments` transaction holds (two actions and an audit entry each). */
export const assignmentsPerCreate = 30;

/**
 * Several assignments of one relationship, one body each with the rules of a POST of each, in
 * one transaction (all or none: a group already assigned makes it a 409): a template's groups
 * after an approval cost one write, not one per group (SPEC §15.2).
 */
export async function createAssignments(
  relationshipId: string,
  bodies: readonly unknown[],
  caller: Caller,
): Promise<Stored<AccessAssignment>[]> {
  if (bodies.length > assignmentsPerCreate) throw new Error(`At most ${assignmentsPerCreate} assignments per call`);
  const ids = bodies.map(() => newGuid());
  try {
    return await decideAndCommit({
      ...actingAs(caller),
      read: () => partnerRelationship(relationshipId, caller.principal, true),
      decide: (relationship, context) => {
        const assignments: AccessAssignment[] = [];
        // Each is decided against those before it, so one call cannot hold a group twice.
        bodies.forEach((body, index) =>
          assignments.push(newAssignment(body, relationship.value, assignments, ids[index], caller.now)),
        );
        return {
          change: planAssignmentsCreate(relationship.value, assignments, context),
          answer: () => assignments.map((value) => ({ value, etag: '' })),
        };
      },
      commit: commitRelationshipChange,
    });
  } catch (error) {
    if (error instanceof TransactionRefused && error.reason === 'exists') {
      throw conflict('One of the security groups already has an access assignment on this relationship.');
    }
    throw error;
  }
}

export async function listAssignments(
  relationshipId: string,
  principal: Principal,
): Promise<Keyed<AccessAssignment>[]> {
  const relationship = await partnerRelationship(relationshipId, principal, false);
  return listChildren(childKinds.assignment, relationship.value, assignmentFromRow);
}

export async function readAssignment(
  relationshipId: string,
  assignmentId: string,
  principal: Principal,
): Promise<Stored<AccessAssignment>> {
  const relationship = await partnerRelationship(relationshipId, principal, false);
  return findAssignment(relationship.value, assignmentId);
}

export type AssignmentUpdate =
  | { kind: 'unchanged'; stored: Stored<AccessAssignment> }
  | { kind: 'accepted'; operation: Operation; relationshipId: string };

/** PATCH (roles only, If-Match): the operation that applied the new roles, or unchanged. */
export async function updateAssignment(
  relationshipId: string,
  assignmentId: string,
  ifMatch: string,
  body: unknown,
  caller: Caller,
  operationData: (assignment: AccessAssignment) => object,
): Promise<AssignmentUpdate> {
  const operationId = newGuid();
  return decideAndCommit({
    ...actingAs(caller),
    retry: ifMatch === '*',
    read: async () => {
      const relationship = await partnerRelationship(relationshipId, caller.principal, true);
      return { relationship, current: await findAssignment(relationship.value, assignmentId) };
    },
    decide: ({ relationship, current }, context) => {
      const next = updateAssignmentRoles(current.value, body, relationship.value, caller.now);
      const expected = ifMatch === '*' ? current.etag : ifMatch;
      if (!next) {
        // Nothing to write, but a stale If-Match is still refused as it would be on a write.
        if (expected !== current.etag)
          throw stale('The If-Match ETag does not match the current version of the entity.');
        return { answer: (): AssignmentUpdate => ({ kind: 'unchanged', stored: current }) };
      }
      const operation = succeededOperation(
        operationId,
        relationship.value.id,
        'delegatedAdminAccessAssignmentUpdate',
        operationData(next),
        caller.now,
      );
      return {
        change: planAssignmentChange(
          relationship.value,
          { value: current.value, etag: expected },
          next,
          context,
          operation,
        ),
        answer: (): AssignmentUpdate => ({ kind: 'accepted', operation, relationshipId: relationship.value.id }),
      };
    },
    commit: commitRelationshipChange,
  });
}

/** DELETE (If-Match): the assignment stays listed as `deleted` history and its group is free again. */
export async function deleteAssignment(
  relationshipId: string,
  assignmentId: string,
  ifMatch: string,
  caller: Caller,
): Promise<void> {
  await decideAndCommit({
    ...actingAs(caller),
    retry: ifMatch === '*',
    read: async () => {
      const relationship = await partnerRelationship(relationshipId, caller.principal, true);
      return { relationship, current: await findAssignment(relationship.value, assignmentId) };
    },
    decide: ({ relationship, current }, context) => {
      const next = deletedAssignment(current.value, relationship.value, caller.now);
      const expected = ifMatch === '*' ? current.etag : ifMatch;
      return {
        change: planAssignmentChange(relationship.value, { value: current.value, etag: expected }, next, context),
        answer: () => undefined,
      };
    },
    commit: commitRelationshipChange,
  });
}
