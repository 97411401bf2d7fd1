import { DateTime } from 'luxon';
import { z } from 'zod';
import { readOnlyOnCreate, relationshipContract, requestContract } from './contracts';
import {
  AutoExtendDuration,
  parseAutoExtendDuration,
  parseRelationshipDuration,
  relationshipDurationDays,
} from './durations';
import { forbidden, invalid, notFound } from './errors';
import { isGuid } from './ids';
import { globalAdministratorRoleId, isBuiltInRole } from './roles';
import { parseBody } from './schema';
import { toGraphDateTime } from './time';

export const relationshipStatuses = [
  'created',
  'approvalPending',
  'approved',
  'activating',
  'active',
  'expiring',
  'expired',
  'terminationRequested',
  'terminating',
  'terminated',
  'unknownFutureValue',
] as const;
export type RelationshipStatus = (typeof relationshipStatuses)[number];

export interface CustomerParticipant {
  tenantId: string;
  displayName: string;
}

/** A GDAP relationship as the domain sees it: Graph's properties plus the partner and lock time. */
export interface Relationship {
  id: string;
  partnerTenantId: string;
  displayName: string;
  duration: string;
  autoExtendDuration: AutoExtendDuration;
  customer: CustomerParticipant | null;
  roleIds: string[];
  status: RelationshipStatus;
  createdDateTime: string;
  lastModifiedDateTime: string;
  activatedDateTime: string | null;
  endDateTime: string | null;
  /** When lockForApproval ran; the 90-day approval window counts from here. */
  lockedDateTime: string | null;
  /** How many of its changes sent webhook events: orders their delivery (webhooks.ts). Not in Graph. */
  webhookSequence?: number;
  /** The GDAP template it was made from (SPEC §15), never shown by Graph: its approval continues onboarding. */
  templateId?: string;
}

export const requestActions = ['lockForApproval', 'approve', 'reject', 'terminate'] as const;
export type RequestAction = (typeof requestActions)[number];
export const requestStatuses = ['created', 'pending', 'succeeded', 'failed', 'unknownFutureValue'] as const;
export type RequestStatus = (typeof requestStatuses)[number];

export interface RelationshipRequest {
  id: string;
  relationshipId: string;
  action: RequestAction;
  status: RequestStatus;
  createdDateTime: string;
  lastModifiedDateTime: string;
}

/** Who is asking, reduced to what the relationship rules need. */
export interface Actor {
  tenantId: string;
  isAdminAgent: boolean;
  /** Holds the customer-side GDAP permission (approve, reject, terminate as the customer). */
  managesCustomerRelationships: boolean;
}

const maxDisplayNameLength = 50;

const unifiedRolesSchema = z.strictObject({
  unifiedRoles: z.array(z.strictObject({ roleDefinitionId: z.string() })),
});

const createSchema = z.strictObject({
  displayName: z.string(),
  duration: z.string(),
  autoExtendDuration: z.string().optional(),
  // Graph's own create example sends customer.displayName; it is accepted and used only when the
  // service knows no better name for the tenant.
  customer: z.strictObject({ tenantId: z.string(), displayName: z.string().optional() }).nullable().optional(),
  accessDetails: unifiedRolesSchema,
});

const readOnlyProperties = readOnlyOnCreate(relationshipContract);

const updateSchema = createSchema.partial();

export type RelationshipInput = z.infer<typeof createSchema>;

export function validDisplayName(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length < 1 || value.length > maxDisplayNameLength) {
    throw invalid(`'displayName' must be 1 to ${maxDisplayNameLength} characters.`);
  }
  return value;
}

export function validRoleIds(accessDetails: z.infer<typeof unifiedRolesSchema>): string[] {
  const ids = accessDetails.unifiedRoles.map((role) => role.roleDefinitionId.toLowerCase());
  if (ids.length === 0) throw invalid(`'accessDetails.unifiedRoles' must contain at least one role.`);
  for (const id of ids) {
    if (!isGuid(id)) throw invalid(`'roleDefinitionId' ${JSON.stringify(id)} is not a valid GUID.`);
    if (!isBuiltInRole(id)) {
      throw invalid(
        `Role definition '${id}' is not a supported built-in Microsoft Entra role. Custom roles cannot be used in GDAP relationships.`,
      );
    }
  }
  if (new Set(ids).size !== ids.length) throw invalid(`'accessDetails.unifiedRoles' contains the same role twice.`);
  return ids;
}

function validCustomer(customer: RelationshipInput['customer']): CustomerParticipant | null {
  if (!customer) return null;
  if (!isGuid(customer.tenantId)) throw invalid(`'customer.tenantId' must be a tenant id (GUID).`);
  return { tenantId: customer.tenantId.toLowerCase(), displayName: customer.displayName ?? '' };
}

export function assertAutoExtendAllowed(roleIds: readonly string[], autoExtend: AutoExtendDuration): void {
  if (autoExtend === 'P180D' && roleIds.includes(globalAdministratorRoleId)) {
    throw invalid(
      `A relationship that includes the Global Administrator role cannot be auto-extended: set 'autoExtendDuration' to PT0S or remove the Global Administrator role.`,
    );
  }
}

/** Names are unique per partner compared case-insensitively. */
export function normalizeName(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

export function createRelationship(
  body: unknown,
  ids: { id: string; partnerTenantId: string },
  now: DateTime,
): Relationship {
  const input = parseBody(createSchema, body, readOnlyProperties);
  const roleIds = validRoleIds(input.accessDetails);
  const autoExtendDuration = parseAutoExtendDuration(input.autoExtendDuration ?? 'PT0S');
  assertAutoExtendAllowed(roleIds, autoExtendDuration);
  const timestamp = toGraphDateTime(now);
  return {
    id: ids.id,
    partnerTenantId: ids.partnerTenantId,
    displayName: validDisplayName(input.displayName),
    duration: parseRelationshipDuration(input.duration),
    autoExtendDuration,
    customer: validCustomer(input.customer),
    roleIds,
    status: 'created',
    createdDateTime: timestamp,
    lastModifiedDateTime: timestamp,
    activatedDateTime: null,
    endDateTime: null,
    lockedDateTime: null,
  };
}

/**
 * The default GDAP relationship of a new customer (SPEC §5.2) is active at once, with no
 * invitation: a `created` draft naming its customer goes straight to `active`, ending after its
 * duration.
 */
export function activateDefault(relationship: Relationship, now: DateTime): Relationship {
  if (relationship.status !== 'created' || !relationship.customer) {
    throw new Error('Only a new relationship naming its customer can be activated as a default relationship');
  }
  const timestamp = toGraphDateTime(now);
  return {
    ...relationship,
    status: 'active',
    lastModifiedDateTime: timestamp,
    activatedDateTime: timestamp,
    endDateTime: toGraphDateTime(now.plus({ days: relationshipDurationDays(relationship.duration) })),
  };
}

/**
 * PATCH rules of SPEC §2.2. While `created` the partner edits everything. On an `active`
 * relationship the partner may change autoExtendDuration and remove the Global Administrator
 * role (nothing else), and the customer's Global Administrator may remove roles, never add
 * them. Every other status is read-only.
 */
export function updateRelationship(
  current: Relationship,
  body: unknown,
  now: DateTime,
  editor: Perspective = 'partner',
): Relationship {
  const input = parseBody(updateSchema, body, readOnlyProperties);
  const changed = Object.keys(input) as (keyof RelationshipInput)[];
  if (current.status === 'active') {
    const editable = editor === 'partner' ? ['autoExtendDuration', 'accessDetails'] : ['accessDetails'];
    const notEditable = changed.find((name) => !editable.includes(name));
    if (notEditable) {
      throw invalid(
        `'${notEditable}' cannot be changed while the relationship is active; ${
          editor === 'partner'
            ? "only 'autoExtendDuration' can, and the Global Administrator role can be removed from 'accessDetails'"
            : "the customer can only remove roles from 'accessDetails'"
        }.`,
      );
    }
  } else if (current.status !== 'created' || editor !== 'partner') {
    throw invalid(`The relationship cannot be changed in status '${current.status}'.`);
  }
  const next: Relationship = { ...current };
  if (input.displayName !== undefined) next.displayName = validDisplayName(input.displayName);
  if (input.duration !== undefined) next.duration = parseRelationshipDuration(input.duration);
  if (input.customer !== undefined) next.customer = validCustomer(input.customer);
  if (input.accessDetails !== undefined) {
    next.roleIds = validRoleIds(input.accessDetails);
    if (current.status === 'active') assertRoleRemovalOnly(current, next.roleIds, editor);
  }
  if (input.autoExtendDuration !== undefined) {
    next.autoExtendDuration = parseAutoExtendDuration(input.autoExtendDuration);
  }
  assertAutoExtendAllowed(next.roleIds, next.autoExtendDuration);
  next.lastModifiedDateTime = toGraphDateTime(now);
  return next;
}

function assertRoleRemovalOnly(current: Relationship, roleIds: readonly string[], editor: Perspective): void {
  const added = roleIds.find((id) => !current.roleIds.includes(id));
  if (added) throw invalid(`'accessDetails': roles cannot be added to an active relationship ('${added}' is new).`);
  const removed = current.roleIds.filter((id) => !roleIds.includes(id));
  if (editor === 'partner' && removed.some((id) => id !== globalAdministratorRoleId)) {
    throw invalid(
      "'accessDetails': on an active relationship the partner can only remove the Global Administrator role.",
    );
  }
}

/** Whether an update removes roles from an active relationship (answered 202 with an operation). */
export function removesRoles(previous: Relationship, next: Relationship): boolean {
  return previous.status === 'active' && previous.roleIds.some((id) => !next.roleIds.includes(id));
}

export function assertDeletable(relationship: Relationship): void {
  if (relationship.status !== 'created') {
    throw invalid(
      `Only relationships in status 'created' can be deleted; this relationship is '${relationship.status}'.`,
    );
  }
}

/** The relationship as seen from the caller's tenant: partner, customer, or nobody (404). */
export type Perspective = 'partner' | 'customer';

export function perspectiveOf(relationship: Relationship, tenantId: string): Perspective | undefined {
  const tenant = tenantId.toLowerCase();
  if (relationship.partnerTenantId === tenant) return 'partner';
  // Drafts are the partner's business; a customer-agnostic invitation is open to any customer.
  if (relationship.status === 'created') return undefined;
  if (relationship.customer) return relationship.customer.tenantId === tenant ? 'customer' : undefined;
  return relationship.status === 'approvalPending' ? 'customer' : undefined;
}

const notFoundMessage = (id: string): string => `The delegated admin relationship '${id}' was not found.`;

export function assertVisible(relationship: Relationship | undefined, tenantId: string, id: string): Relationship {
  if (!relationship || !perspectiveOf(relationship, tenantId)) throw notFound(notFoundMessage(id));
  return relationship;
}

function wrongStatus(action: RequestAction, relationship: Relationship, expected: RelationshipStatus): Error {
  return invalid(
    `The '${action}' action is only allowed when the relationship status is '${expected}'; its current status is '${relationship.status}'.`,
  );
}

/**
 * Decides a request action (SPEC §2.1, §2.3, §3.1). The whole transition is one state change:
 * approve lands on `active` and terminate on `terminated`, so no crash can strand a relationship in
 * `activating` or `terminating`.
 */
export function applyRequestAction(
  relationship: Relationship,
  action: RequestAction,
  actor: Actor,
  now: DateTime,
  customerDisplayName?: string,
): Relationship {
  const perspective = perspectiveOf(relationship, actor.tenantId);
  if (!perspective) throw notFound(notFoundMessage(relationship.id));
  const timestamp = toGraphDateTime(now);
  const touched = { ...relationship, lastModifiedDateTime: timestamp };
  switch (action) {
    case 'lockForApproval':
      if (perspective !== 'partner' || !actor.isAdminAgent) {
        throw forbidden('Only an AdminAgent of the partner tenant can lock a relationship for approval.');
      }
      if (relationship.status !== 'created') throw wrongStatus(action, relationship, 'created');
      return { ...touched, status: 'approvalPending', lockedDateTime: timestamp };
    case 'approve':
    case 'reject': {
      if (perspective !== 'customer' || !actor.managesCustomerRelationships) {
        throw forbidden(
          `Only a Global Administrator or Customer Delegated Admin Relationship Administrator of the customer tenant can ${action} the relationship.`,
        );
      }
      if (relationship.status !== 'approvalPending') throw wrongStatus(action, relationship, 'approvalPending');
      const customer = relationship.customer ?? {
        tenantId: actor.tenantId.toLowerCase(),
        displayName: customerDisplayName ?? '',
      };
      if (action === 'reject') return { ...touched, customer, status: 'terminated', endDateTime: timestamp };
      const end = now.plus({ days: relationshipDurationDays(relationship.duration) });
      return {
        ...touched,
        customer: { ...customer, displayName: customerDisplayName || customer.displayName },
        status: 'active',
        activatedDateTime: timestamp,
        endDateTime: toGraphDateTime(end),
      };
    }
    case 'terminate':
      if (perspective === 'partner' ? !actor.isAdminAgent : !actor.managesCustomerRelationships) {
        throw forbidden(
          'Only an AdminAgent of the partner, or a Global Administrator or Customer Delegated Admin Relationship Administrator of the customer, can terminate the relationship.',
        );
      }
      if (relationship.status !== 'active') throw wrongStatus(action, relationship, 'active');
      return { ...touched, status: 'terminated', endDateTime: timestamp };
  }
}

export function parseRequestAction(body: unknown): RequestAction {
  const input = parseBody(z.strictObject({ action: z.string() }), body, readOnlyOnCreate(requestContract));
  const action = requestActions.find((candidate) => candidate === input.action);
  if (!action) {
    throw invalid(
      `Invalid value for 'action': ${JSON.stringify(input.action)}. Supported: ${requestActions.join(', ')}.`,
    );
  }
  return action;
}

export function newRequest(
  id: string,
  relationshipId: string,
  action: RequestAction,
  now: DateTime,
): RelationshipRequest {
  const timestamp = toGraphDateTime(now);
  return {
    id,
    relationshipId,
    action,
    status: 'succeeded',
    createdDateTime: timestamp,
    lastModifiedDateTime: timestamp,
  };
}
