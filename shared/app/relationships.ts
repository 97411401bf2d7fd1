import { AccessAssignment } from '../domain/assignments';
import { DomainError, forbidden, notFound, stale } from '../domain/errors';
import { newGuid } from '../domain/ids';
import { Operation, succeededOperation } from '../domain/operations';
import {
  applyRequestAction,
  assertVisible,
  createRelationship as draftRelationship,
  newRequest,
  perspectiveOf,
  Relationship,
  RelationshipRequest,
  RequestAction,
  removesRoles,
  updateRelationship as editRelationship,
} from '../domain/relationships';
import {
  appRoles,
  hasAppRole,
  managesCustomerRelationships,
  mayRemoveCustomerRelationshipRoles,
  Principal,
} from '../http/principal';
import { displayNameOrSandboxDefault } from '../store/directory';
import { Stored } from '../store/paging';
import { assertPartnerMay } from '../store/partners';
import {
  findRelationship,
  insertRelationship,
  newRelationshipIdBesideName,
  replaceRelationship,
} from '../store/relationships';
import { Caller, causeOf } from './caller';

/**
 * Use cases of GDAP relationships (SPEC §2, §3.1), shared by the HTTP handlers and the bulk jobs
 * of SPEC §15: each reads, decides through the pure rules of shared/domain, and stores, deciding
 * again on a lost race. Authorization is from the caller's principal only.
 */

export function requireAdminAgent(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.adminAgent)) {
    throw forbidden('This action requires the AdminAgent role in the partner tenant.');
  }
}

/** The name the service knows for the customer tenant (Graph fills it from Entra ID), when it knows one. */
async function withCustomerName(relationship: Relationship): Promise<Relationship> {
  if (!relationship.customer) return relationship;
  const known = await displayNameOrSandboxDefault(relationship.customer.tenantId);
  return known ? { ...relationship, customer: { ...relationship.customer, displayName: known } } : relationship;
}

/** POST: a new relationship in `created` (SPEC §2), its name reserved in the same transaction. */
export async function createRelationship(body: unknown, caller: Caller): Promise<Stored<Relationship>> {
  requireAdminAgent(caller.principal);
  const partnerTenantId = caller.principal.tenantId;
  await assertPartnerMay(partnerTenantId, 'createGdap');
  const displayName =
    typeof body === 'object' && body !== null ? (body as { displayName?: unknown }).displayName : undefined;
  const id = newRelationshipIdBesideName(partnerTenantId, displayName);
  const relationship = draftRelationship(body, { id, partnerTenantId }, caller.now);
  return insertRelationship(await withCustomerName(relationship), causeOf(caller));
}

/**
 * Stores a relationship decided elsewhere by the domain (a template's draft, or one born active by
 * implied consent), under the same gate as a POST; `assignments` join its transaction.
 */
export async function createPlanned(
  relationship: Relationship,
  caller: Caller,
  assignments: readonly AccessAssignment[] = [],
): Promise<Stored<Relationship>> {
  requireAdminAgent(caller.principal);
  await assertPartnerMay(relationship.partnerTenantId, 'createGdap');
  return insertRelationship(await withCustomerName(relationship), causeOf(caller), { assignments });
}

/** Concurrent requests on one relationship race on its ETag; the losers decide again on fresh state. */
const maxDecisionAttempts = 5;

export interface RequestResult {
  request: RelationshipRequest;
  relationship: Relationship;
}

/**
 * POST …/requests (SPEC §2.1, §2.3, §3.1): lockForApproval, approve, reject, terminate, each one
 * state change with its request. `ifMatch` (optional, SPEC §14) names the version the client saw:
 * if it changed, 412 before any state rule; a lost race is then the client's 412 too.
 */
export async function requestAction(
  id: string,
  action: RequestAction,
  ifMatch: string | null | undefined,
  caller: Caller,
): Promise<RequestResult> {
  const { principal, now } = caller;
  const actor = {
    tenantId: principal.tenantId,
    isAdminAgent: hasAppRole(principal, appRoles.adminAgent),
    managesCustomerRelationships: managesCustomerRelationships(principal),
  };
  const approverName =
    action === 'approve' || action === 'reject' ? await displayNameOrSandboxDefault(principal.tenantId) : undefined;
  for (let attempt = 1; ; attempt++) {
    const current = await findRelationship(id);
    if (!current) throw notFound(`The delegated admin relationship '${id}' was not found.`);
    // A client that names the version it saw gets 412 if it changed, before any state rule (SPEC §14).
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== current.etag) {
      assertVisible(current.value, principal.tenantId, id);
      throw stale('The relationship was changed since the If-Match ETag was read: read it again and retry.');
    }
    const next = applyRequestAction(current.value, action, actor, now, approverName);
    // Account-state gate (SPEC §5.3): locking puts a new relationship before the customer, so it
    // counts as creating GDAP. A partner's terminate is allowed in every state, since it only
    // removes access; customer actions (approve, reject, terminate) are never gated.
    if (action === 'lockForApproval' && attempt === 1) await assertPartnerMay(next.partnerTenantId, 'createGdap');
    const created = newRequest(newGuid(), next.id, action, now);
    try {
      await replaceRelationship(current.value, next, current.etag, causeOf(caller), { request: created });
    } catch (error) {
      // A lost race is decided again on fresh state, unless the client pinned the version it saw.
      const pinned = ifMatch !== undefined && ifMatch !== '*';
      if (error instanceof DomainError && error.kind === 'stale' && !pinned && attempt < maxDecisionAttempts) continue;
      throw error;
    }
    return { request: created, relationship: next };
  }
}

export type UpdateResult =
  | { kind: 'updated'; stored: Stored<Relationship> }
  | { kind: 'accepted'; operation: Operation; relationship: Relationship };

/**
 * PATCH (SPEC §2.2): the partner's AdminAgent edits; on an active relationship the customer's
 * Global Administrator may remove roles. Removing roles from an active relationship is answered
 * with the operation that applied it (assignments lose those roles in the same transaction).
 * `ifMatch` is the storage ETag the client named, or `*`; `operationData` renders the operation's
 * `data` (the target entity as the API shows it).
 */
export async function updateRelationship(
  id: string,
  ifMatch: string,
  body: unknown,
  caller: Caller,
  operationData: (relationship: Relationship) => object,
): Promise<UpdateResult> {
  const { principal } = caller;
  const current = await findRelationship(id);
  const perspective = perspectiveOf(assertVisible(current?.value, principal.tenantId, id), principal.tenantId);
  const { value, etag: currentEtag } = current as Stored<Relationship>;
  if (perspective === 'partner') {
    requireAdminAgent(principal);
    // Account-state gate (SPEC §5.3); the customer's own edits are never gated.
    await assertPartnerMay(principal.tenantId, 'updateGdap');
  } else if (!mayRemoveCustomerRelationshipRoles(principal) || value.status !== 'active') {
    throw forbidden(
      "Only the partner can change a relationship; the customer's Global Administrator may only remove roles of an active one.",
    );
  }
  const next = await withCustomerName(editRelationship(value, body, caller.now, perspective));
  const expected = ifMatch === '*' ? currentEtag : ifMatch;
  if (!removesRoles(value, next)) {
    return { kind: 'updated', stored: await replaceRelationship(value, next, expected, causeOf(caller)) };
  }
  const operation = succeededOperation(
    newGuid(),
    value.id,
    'delegatedAdminRelationshipUpdate',
    operationData(next),
    caller.now,
  );
  await replaceRelationship(value, next, expected, causeOf(caller), { operation });
  return { kind: 'accepted', operation, relationship: next };
}
