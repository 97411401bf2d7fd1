import {
  AccessAssignment,
  createAssignment as decideAssignment,
  deleteAssignment as decideDeletion,
  updateAssignmentRoles,
} from '../domain/assignments';
import { forbidden, invalid, notFound, stale } from '../domain/errors';
import { newGuid } from '../domain/ids';
import { Operation, succeededOperation } from '../domain/operations';
import { assertVisible, perspectiveOf, Relationship } from '../domain/relationships';
import { appRoles, canReadPartnerResources, hasAppRole, Principal } from '../http/principal';
import { assignmentsPerInsert, insertAssignments, replaceAssignment } from '../store/assignments';
import { Stored } from '../store/paging';
import { assertPartnerMay } from '../store/partners';
import { findChild, findRelationship } from '../store/relationships';
import { assignmentFromRow, childKinds } from '../store/rows';
import { Caller, causeOf } from './caller';

/**
 * Use cases of access assignments (SPEC §3.2), shared by the HTTP handlers and the template jobs
 * of SPEC §15: the partner's own business, so a customer gets 404.
 */

/** The partner's relationship, for reading (partner readers) or writing (AdminAgent, account-state gate). */
export async function partnerRelationship(
  id: string,
  principal: Principal,
  write: boolean,
): Promise<Stored<Relationship>> {
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

export async function findAssignment(relationship: Relationship, id: string): Promise<Stored<AccessAssignment>> {
  const stored = await findChild(childKinds.assignment, relationship, id, assignmentFromRow);
  if (!stored) throw notFound(`The access assignment '${id}' was not found.`);
  return stored;
}

export interface CreatedAssignment {
  assignment: AccessAssignment;
  etag: string;
}

/** POST: applied at once, so it is stored `active` (the HTTP answer shows `pending`, as Graph's create does). */
export async function createAssignment(
  relationshipId: string,
  body: unknown,
  caller: Caller,
): Promise<CreatedAssignment> {
  return (await createAssignments(relationshipId, [body], caller))[0];
}

/**
 * Creates several assignments of one relationship (one body each, the rules of a POST of each),
 * stored in one transaction: a template's groups after an approval cost one write, not one per group.
 */
export async function createAssignments(
  relationshipId: string,
  bodies: readonly unknown[],
  caller: Caller,
): Promise<CreatedAssignment[]> {
  const relationship = await partnerRelationship(relationshipId, caller.principal, true);
  // One live assignment per group is kept by its reservation row, inserted with it (a taken group
  // is a 409 from the transaction), so the relationship's assignments are not read first.
  const created: CreatedAssignment[] = [];
  for (let start = 0; start < bodies.length; start += assignmentsPerInsert) {
    const assignments: AccessAssignment[] = [];
    for (const body of bodies.slice(start, start + assignmentsPerInsert)) {
      // Each is decided against those before it, so one call cannot hold a group twice.
      const earlier = [...created.map((item) => item.assignment), ...assignments];
      assignments.push(decideAssignment(body, relationship.value, earlier, newGuid(), caller.now));
    }
    const stored = await insertAssignments(relationship.value, assignments, causeOf(caller));
    created.push(...stored.map(({ value, etag }) => ({ assignment: value, etag })));
  }
  // A termination that raced these inserts must not leave live assignments behind.
  const after = await findRelationship(relationship.value.id);
  if (!after || after.value.status !== 'active') {
    for (const { assignment, etag } of created) {
      await replaceAssignment(
        relationship.value,
        assignment,
        { ...assignment, status: 'deleted' },
        etag,
        causeOf(caller),
      );
    }
    throw invalid('The relationship stopped being active while the access assignment was being created.');
  }
  return created;
}

export type AssignmentUpdate =
  { kind: 'unchanged'; stored: Stored<AccessAssignment> } | { kind: 'accepted'; operation: Operation };

/** PATCH of the roles: an operation that applied them, or nothing when they are the same. */
export async function updateAssignment(
  relationshipId: string,
  assignmentId: string,
  ifMatch: string,
  body: unknown,
  caller: Caller,
  operationData: (assignment: AccessAssignment) => object,
): Promise<AssignmentUpdate> {
  const relationship = await partnerRelationship(relationshipId, caller.principal, true);
  const current = await findAssignment(relationship.value, assignmentId);
  const next = updateAssignmentRoles(current.value, body, relationship.value, caller.now);
  const expected = ifMatch === '*' ? current.etag : ifMatch;
  if (!next) {
    // Nothing to write, but a stale If-Match is still refused as it would be on a write.
    if (expected !== current.etag) throw stale('The If-Match ETag does not match the current version of the entity.');
    return { kind: 'unchanged', stored: current };
  }
  const operation = succeededOperation(
    newGuid(),
    relationship.value.id,
    'delegatedAdminAccessAssignmentUpdate',
    operationData(next),
    caller.now,
  );
  await replaceAssignment(relationship.value, current.value, next, expected, causeOf(caller), operation);
  return { kind: 'accepted', operation };
}

/** DELETE: the assignment stays as `deleted` history and its group is free again. */
export async function deleteAssignment(
  relationshipId: string,
  assignmentId: string,
  ifMatch: string,
  caller: Caller,
): Promise<void> {
  const relationship = await partnerRelationship(relationshipId, caller.principal, true);
  const current = await findAssignment(relationship.value, assignmentId);
  const next = decideDeletion(current.value, relationship.value, caller.now);
  await replaceAssignment(
    relationship.value,
    current.value,
    next,
    ifMatch === '*' ? current.etag : ifMatch,
    causeOf(caller),
  );
}
