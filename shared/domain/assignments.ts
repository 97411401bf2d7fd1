import { DateTime } from 'luxon';
import { z } from 'zod';
import { assignmentContract, readOnlyOnCreate, readOnlyOnUpdate } from './contracts';
import { conflict, invalid } from './errors';
import { isGuid } from './ids';
import { Relationship } from './relationships';
import { parseBody } from './schema';
import { toGraphDateTime } from './time';
import { nextAssignmentSequence } from './webhooks';

/** Access assignments (SPEC §3.2): a security group of the partner holding some of a relationship's roles. */
export const assignmentStatuses = ['pending', 'active', 'deleting', 'deleted', 'error', 'unknownFutureValue'] as const;
export type AssignmentStatus = (typeof assignmentStatuses)[number];

export interface AccessAssignment {
  id: string;
  relationshipId: string;
  accessContainerId: string;
  roleIds: string[];
  status: AssignmentStatus;
  createdDateTime: string;
  lastModifiedDateTime: string;
  /** How many of its changes sent webhook events (all of them do): orders their delivery. Not in Graph. */
  webhookSequence?: number;
}

const readOnlyOnCreateOf = readOnlyOnCreate(assignmentContract);

const accessDetailsSchema = z.strictObject({
  unifiedRoles: z.array(z.strictObject({ roleDefinitionId: z.string() })),
});

const createSchema = z.strictObject({
  accessContainer: z.strictObject({
    accessContainerId: z.string(),
    accessContainerType: z.string().optional(),
  }),
  accessDetails: accessDetailsSchema,
});

const updateSchema = z.strictObject({ accessDetails: accessDetailsSchema });

export const isLive = (assignment: AccessAssignment): boolean =>
  assignment.status !== 'deleted' && assignment.status !== 'deleting' && assignment.status !== 'error';

function assertRelationshipActive(relationship: Relationship): void {
  if (relationship.status !== 'active') {
    throw invalid(
      `Access assignments can only be managed on an active relationship; this relationship is '${relationship.status}'.`,
    );
  }
}

/** Roles of an assignment: at least one, no repeats, all among the relationship's roles. */
function validRoles(accessDetails: z.infer<typeof accessDetailsSchema>, relationship: Relationship): string[] {
  const roleIds = accessDetails.unifiedRoles.map((role) => role.roleDefinitionId.toLowerCase());
  if (roleIds.length === 0) throw invalid(`'accessDetails.unifiedRoles' must contain at least one role.`);
  if (new Set(roleIds).size !== roleIds.length)
    throw invalid(`'accessDetails.unifiedRoles' contains the same role twice.`);
  const outside = roleIds.find((id) => !relationship.roleIds.includes(id));
  if (outside) {
    throw invalid(
      `Role '${outside}' is not granted by the relationship: an access assignment can only hold roles of its relationship.`,
    );
  }
  return roleIds;
}

export function createAssignment(
  body: unknown,
  relationship: Relationship,
  existing: readonly AccessAssignment[],
  id: string,
  now: DateTime,
): AccessAssignment {
  const input = parseBody(createSchema, body, readOnlyOnCreateOf);
  assertRelationshipActive(relationship);
  const { accessContainerId, accessContainerType } = input.accessContainer;
  if (accessContainerType !== undefined && accessContainerType !== 'securityGroup') {
    throw invalid(`'accessContainer.accessContainerType' must be 'securityGroup'.`);
  }
  if (!isGuid(accessContainerId))
    throw invalid(`'accessContainer.accessContainerId' must be a security group id (GUID).`);
  const group = accessContainerId.toLowerCase();
  if (existing.some((assignment) => assignment.accessContainerId === group && isLive(assignment))) {
    throw conflict(`Security group '${group}' already has an access assignment on this relationship.`);
  }
  const timestamp = toGraphDateTime(now);
  return {
    id,
    relationshipId: relationship.id,
    accessContainerId: group,
    roleIds: validRoles(input.accessDetails, relationship),
    status: 'active',
    createdDateTime: timestamp,
    lastModifiedDateTime: timestamp,
    webhookSequence: nextAssignmentSequence(undefined),
  };
}

/** The new roles of an assignment, or undefined when the PATCH changes nothing. */
export function updateAssignmentRoles(
  current: AccessAssignment,
  body: unknown,
  relationship: Relationship,
  now: DateTime,
): AccessAssignment | undefined {
  const input = parseBody(updateSchema, body, readOnlyOnUpdate(assignmentContract));
  assertRelationshipActive(relationship);
  if (!isLive(current)) throw invalid(`A '${current.status}' access assignment cannot be changed.`);
  const roleIds = validRoles(input.accessDetails, relationship);
  const same = roleIds.length === current.roleIds.length && roleIds.every((id) => current.roleIds.includes(id));
  return same ? undefined : changed(current, { roleIds, lastModifiedDateTime: toGraphDateTime(now) });
}

export function deleteAssignment(
  current: AccessAssignment,
  relationship: Relationship,
  now: DateTime,
): AccessAssignment {
  assertRelationshipActive(relationship);
  if (!isLive(current)) throw invalid(`The access assignment is already '${current.status}'.`);
  return changed(current, { status: 'deleted', lastModifiedDateTime: toGraphDateTime(now) });
}

/** An assignment after a change: every change sends a webhook event, so each moves its sequence on. */
function changed(current: AccessAssignment, update: Partial<AccessAssignment>): AccessAssignment {
  return { ...current, ...update, webhookSequence: nextAssignmentSequence(current) };
}

/**
 * What a relationship change does to its assignments: when it stops being active every live
 * assignment is deleted; when roles are removed, assignments lose them and an assignment left
 * with none is deleted. Only the assignments that change are returned.
 */
export function assignmentsAfter(
  next: Relationship,
  assignments: readonly AccessAssignment[],
  timestamp: string,
): AccessAssignment[] {
  const result: AccessAssignment[] = [];
  for (const assignment of assignments.filter(isLive)) {
    if (next.status !== 'active') {
      result.push(changed(assignment, { status: 'deleted', lastModifiedDateTime: timestamp }));
      continue;
    }
    const roleIds = assignment.roleIds.filter((id) => next.roleIds.includes(id));
    if (roleIds.length === assignment.roleIds.length) continue;
    result.push(
      roleIds.length === 0
        ? changed(assignment, { status: 'deleted', lastModifiedDateTime: timestamp })
        : changed(assignment, { roleIds, lastModifiedDateTime: timestamp }),
    );
  }
  return result;
}

/** Whether a relationship change can touch assignments at all (so the store loads them only then). */
export function affectsAssignments(previous: Relationship, next: Relationship): boolean {
  if (previous.status !== 'active') return false;
  return next.status !== 'active' || previous.roleIds.some((id) => !next.roleIds.includes(id));
}
