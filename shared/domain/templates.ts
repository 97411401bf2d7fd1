import { DateTime } from 'luxon';
import { z } from 'zod';
import { AccessAssignment, isLive } from './assignments';
import { AutoExtendDuration, parseAutoExtendDuration, parseRelationshipDuration } from './durations';
import { invalid } from './errors';
import { isGuid } from './ids';
import {
  assertAutoExtendAllowed,
  createRelationship,
  Relationship,
  validDisplayName,
  validRoleIds,
} from './relationships';
import { parsePartnerCenterBody } from './schema';
import { toGraphDateTime } from './time';

/**
 * GDAP templates (SPEC §15.1): a role set and its security groups, saved once and applied to many
 * customers. Everything here is pure: validation, the relationship a template asks for, and how a
 * relationship's assignments differ from the template's (drift) and what repairs them.
 */
export interface TemplateAssignment {
  /** The security group (lower-case GUID). */
  groupId: string;
  roleIds: string[];
}

export interface GdapTemplate {
  id: string;
  partnerTenantId: string;
  displayName: string;
  description: string | null;
  duration: string;
  autoExtendDuration: AutoExtendDuration;
  assignments: TemplateAssignment[];
  relationshipNamePrefix: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
}

export const maxTemplateGroups = 50;
export const maxPrefixLength = 12;
export const defaultRelationshipNamePrefix = 'TPL';
/** Customers per assign, unassign or job call (SPEC §15.2, §15.4). */
export const maxTargetsPerCall = 10_000;

const unifiedRolesSchema = z.strictObject({
  unifiedRoles: z.array(z.strictObject({ roleDefinitionId: z.string() })),
});

const assignmentSchema = z.strictObject({
  accessContainer: z.strictObject({
    accessContainerId: z.string(),
    accessContainerType: z.string().optional(),
  }),
  accessDetails: unifiedRolesSchema,
});

const createSchema = z.strictObject({
  displayName: z.string(),
  description: z.string().nullable().optional(),
  duration: z.string(),
  autoExtendDuration: z.string().optional(),
  accessAssignments: z.array(assignmentSchema),
  relationshipNamePrefix: z.string().optional(),
});
const updateSchema = createSchema.partial();

const readOnly = ['id', 'unifiedRoles', 'createdDateTime', 'lastModifiedDateTime'];

function validAssignments(input: z.infer<typeof assignmentSchema>[]): TemplateAssignment[] {
  if (input.length < 1 || input.length > maxTemplateGroups) {
    throw invalid(`'accessAssignments' must hold 1 to ${maxTemplateGroups} security groups.`);
  }
  const seen = new Set<string>();
  return input.map((entry, index) => {
    const { accessContainerId, accessContainerType } = entry.accessContainer;
    if (accessContainerType !== undefined && accessContainerType !== 'securityGroup') {
      throw invalid(`'accessAssignments[${index}].accessContainer.accessContainerType' must be 'securityGroup'.`);
    }
    if (!isGuid(accessContainerId)) {
      throw invalid(
        `'accessAssignments[${index}].accessContainer.accessContainerId' must be a security group id (GUID).`,
      );
    }
    const groupId = accessContainerId.toLowerCase();
    if (seen.has(groupId)) throw invalid(`Security group '${groupId}' appears twice in 'accessAssignments'.`);
    seen.add(groupId);
    // The same rules as a relationship's roles: built-in Entra roles only, at least one, no repeats.
    return { groupId, roleIds: validRoleIds(entry.accessDetails) };
  });
}

function validPrefix(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,11}$/.test(value)) {
    throw invalid(
      `'relationshipNamePrefix' must be 1 to ${maxPrefixLength} letters, digits or hyphens, starting with a letter or digit.`,
    );
  }
  return value;
}

function validDescription(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (value.length > 1024) throw invalid(`'description' must be at most 1024 characters.`);
  return value;
}

/** The roles every relationship made from the template asks for: the union of its groups' roles. */
export function templateRoleIds(template: Pick<GdapTemplate, 'assignments'>): string[] {
  return [...new Set(template.assignments.flatMap((assignment) => assignment.roleIds))].sort();
}

function assertValid(template: GdapTemplate): GdapTemplate {
  // As for a relationship: GA cannot auto-extend (SPEC §2).
  assertAutoExtendAllowed(templateRoleIds(template), template.autoExtendDuration);
  return template;
}

export function createTemplate(
  body: unknown,
  ids: { id: string; partnerTenantId: string },
  now: DateTime,
): GdapTemplate {
  const input = parsePartnerCenterBody(createSchema, body, readOnly);
  const timestamp = toGraphDateTime(now);
  return assertValid({
    id: ids.id,
    partnerTenantId: ids.partnerTenantId,
    displayName: validDisplayName(input.displayName),
    description: validDescription(input.description),
    duration: parseRelationshipDuration(input.duration),
    autoExtendDuration: parseAutoExtendDuration(input.autoExtendDuration ?? 'PT0S'),
    assignments: validAssignments(input.accessAssignments),
    relationshipNamePrefix: validPrefix(input.relationshipNamePrefix ?? defaultRelationshipNamePrefix),
    createdDateTime: timestamp,
    lastModifiedDateTime: timestamp,
  });
}

export function updateTemplate(current: GdapTemplate, body: unknown, now: DateTime): GdapTemplate {
  const input = parsePartnerCenterBody(updateSchema, body, readOnly);
  const next: GdapTemplate = { ...current };
  if (input.displayName !== undefined) next.displayName = validDisplayName(input.displayName);
  if (input.description !== undefined) next.description = validDescription(input.description);
  if (input.duration !== undefined) next.duration = parseRelationshipDuration(input.duration);
  if (input.autoExtendDuration !== undefined) {
    next.autoExtendDuration = parseAutoExtendDuration(input.autoExtendDuration);
  }
  if (input.accessAssignments !== undefined) next.assignments = validAssignments(input.accessAssignments);
  if (input.relationshipNamePrefix !== undefined)
    next.relationshipNamePrefix = validPrefix(input.relationshipNamePrefix);
  next.lastModifiedDateTime = toGraphDateTime(now);
  return assertValid(next);
}

/** Whether a template change can change what its relationships' assignments should be. */
export function changesAssignments(previous: GdapTemplate, next: GdapTemplate): boolean {
  const key = (template: GdapTemplate) =>
    JSON.stringify(
      [...template.assignments]
        .map((assignment) => [assignment.groupId, [...assignment.roleIds].sort()])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  return key(previous) !== key(next);
}

/** A relationship's name from the template's prefix and 8 hex digits (SPEC §15.2). */
export function relationshipNameFor(template: Pick<GdapTemplate, 'relationshipNamePrefix'>, hex8: string): string {
  if (!/^[0-9a-f]{8}$/.test(hex8)) throw new Error('A relationship name suffix is 8 lower-case hex digits');
  return `${template.relationshipNamePrefix}_${hex8}`;
}

/**
 * The relationship a template asks of one customer, as a `created` draft: through the same rules
 * as a POST of it (SPEC §2), so a template can never make a relationship the API would refuse.
 */
export function relationshipFromTemplate(
  template: GdapTemplate,
  target: { id: string; customerTenantId: string; displayName: string },
  now: DateTime,
): Relationship {
  const draft = createRelationship(
    {
      displayName: target.displayName,
      duration: template.duration,
      autoExtendDuration: template.autoExtendDuration,
      customer: { tenantId: target.customerTenantId },
      accessDetails: { unifiedRoles: templateRoleIds(template).map((roleDefinitionId) => ({ roleDefinitionId })) },
    },
    { id: target.id, partnerTenantId: template.partnerTenantId },
    now,
  );
  return { ...draft, templateId: template.id };
}

export interface GroupRoles {
  accessContainerId: string;
  unifiedRoles: string[];
}

/** How a relationship's live assignments differ from its template's (SPEC §15.3). */
export interface Drift {
  missing: GroupRoles[];
  extra: GroupRoles[];
  changed: { accessContainerId: string; expected: string[]; actual: string[] }[];
  rolesNotInRelationship: string[];
}

export const noDrift = (drift: Drift): boolean =>
  drift.missing.length === 0 &&
  drift.extra.length === 0 &&
  drift.changed.length === 0 &&
  drift.rolesNotInRelationship.length === 0;

const sameRoles = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((id) => b.includes(id));

/**
 * What the template asks of this relationship: each group with the template's roles that the
 * relationship has (roles cannot be added to an active relationship, SPEC §2.2); a group left with
 * none cannot be assigned at all.
 */
export function expectedAssignments(template: GdapTemplate, relationship: Relationship): TemplateAssignment[] {
  return template.assignments
    .map((assignment) => ({
      groupId: assignment.groupId,
      roleIds: assignment.roleIds.filter((id) => relationship.roleIds.includes(id)).sort(),
    }))
    .filter((assignment) => assignment.roleIds.length > 0);
}

/** Without a relationship yet, every group of the template is missing. */
export function driftOf(
  template: GdapTemplate,
  relationship: Relationship | undefined,
  assignments: readonly AccessAssignment[],
): Drift {
  const live = assignments.filter(isLive);
  const expected = relationship ? expectedAssignments(template, relationship) : template.assignments;
  const byGroup = new Map(live.map((assignment) => [assignment.accessContainerId, assignment]));
  const expectedGroups = new Set(expected.map((assignment) => assignment.groupId));
  const drift: Drift = { missing: [], extra: [], changed: [], rolesNotInRelationship: [] };
  for (const want of expected) {
    const have = byGroup.get(want.groupId);
    if (!have) drift.missing.push({ accessContainerId: want.groupId, unifiedRoles: want.roleIds });
    else if (!sameRoles(have.roleIds, want.roleIds)) {
      drift.changed.push({ accessContainerId: want.groupId, expected: want.roleIds, actual: [...have.roleIds].sort() });
    }
  }
  for (const have of live) {
    if (!expectedGroups.has(have.accessContainerId)) {
      drift.extra.push({ accessContainerId: have.accessContainerId, unifiedRoles: [...have.roleIds].sort() });
    }
  }
  drift.rolesNotInRelationship = relationship
    ? templateRoleIds(template).filter((id) => !relationship.roleIds.includes(id))
    : [];
  return drift;
}

/** The writes that bring a relationship's assignments to its template: create, change, delete. */
export interface ReconcilePlan {
  create: TemplateAssignment[];
  update: { assignment: AccessAssignment; roleIds: string[] }[];
  remove: AccessAssignment[];
}

export function reconcilePlan(
  template: GdapTemplate,
  relationship: Relationship,
  assignments: readonly AccessAssignment[],
): ReconcilePlan {
  const live = assignments.filter(isLive);
  const expected = expectedAssignments(template, relationship);
  const byGroup = new Map(live.map((assignment) => [assignment.accessContainerId, assignment]));
  const expectedGroups = new Set(expected.map((assignment) => assignment.groupId));
  const plan: ReconcilePlan = { create: [], update: [], remove: [] };
  for (const want of expected) {
    const have = byGroup.get(want.groupId);
    if (!have) plan.create.push(want);
    else if (!sameRoles(have.roleIds, want.roleIds)) plan.update.push({ assignment: have, roleIds: want.roleIds });
  }
  plan.remove = live.filter((assignment) => !expectedGroups.has(assignment.accessContainerId));
  return plan;
}

/** The body of a POST of an access assignment for one template group (the same rules as the API's). */
export function assignmentBody(assignment: TemplateAssignment): Record<string, unknown> {
  return {
    accessContainer: { accessContainerId: assignment.groupId, accessContainerType: 'securityGroup' },
    accessDetails: { unifiedRoles: assignment.roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
  };
}

const targetsSchema = z.strictObject({
  customerTenantIds: z.array(z.string()),
  renew: z.boolean().optional(),
});

/** 1..10,000 distinct GUIDs, lower-cased (SPEC §15.2). */
export function validTargets(ids: readonly string[], property: string, kind: 'tenant' | 'relationship'): string[] {
  if (ids.length < 1 || ids.length > maxTargetsPerCall) {
    throw invalid(`'${property}' must hold 1 to ${maxTargetsPerCall} ids; it holds ${ids.length}.`);
  }
  const seen = new Set<string>();
  for (const raw of ids) {
    const id = raw.toLowerCase();
    const wellFormed = kind === 'tenant' ? isGuid(id) : /^[0-9a-f-]{73}$/.test(id);
    if (!wellFormed) {
      throw invalid(
        `'${property}' holds ${JSON.stringify(raw)}, which is not a ${kind === 'tenant' ? 'tenant id (GUID)' : 'relationship id'}.`,
      );
    }
    if (seen.has(id)) throw invalid(`'${property}' holds '${id}' twice.`);
    seen.add(id);
  }
  return [...seen];
}

export function parseAssignBody(body: unknown): { customerTenantIds: string[]; renew: boolean } {
  const input = parsePartnerCenterBody(targetsSchema, body);
  return {
    customerTenantIds: validTargets(input.customerTenantIds, 'customerTenantIds', 'tenant'),
    renew: input.renew ?? false,
  };
}

export function parseUnassignBody(body: unknown): string[] {
  const input = parsePartnerCenterBody(targetsSchema.omit({ renew: true }), body);
  return validTargets(input.customerTenantIds, 'customerTenantIds', 'tenant');
}
