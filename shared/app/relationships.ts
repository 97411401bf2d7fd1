import { AccessAssignment } from '../domain/assignments';
import { DomainError, forbidden, notFound, stale } from '../domain/errors';
import { newGuid } from '../domain/ids';
import { Operation, succeededOperation } from '../domain/operations';
import {
  appRoles,
  canReadPartnerResources,
  hasAppRole,
  managesCustomerRelationships,
  mayRemoveCustomerRelationshipRoles,
  Principal,
} from '../domain/principal';
import {
  planCreate,
  planDelete,
  planTransition,
  RelationshipChange,
  relationshipAfter,
} from '../domain/relationshipChanges';
import {
  Actor,
  applyRequestAction,
  assertDeletable,
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
import { Keyed, Stored } from '../query/paging';
import { displayNameOrSandboxDefault } from '../store/directory';
import { assertPartnerMay } from '../store/partners';
import { findChild, findRelationship, listChildren, newRelationshipIdBesideName } from '../store/relationships';
import { childKinds, operationFromRow } from '../store/rows';
import { actingAs, Caller } from './caller';
import { decideAndCommit } from './commit';
import { readRelationshipFor, storeRelationshipChange } from './relationshipStore';

/**
 * Use cases of GDAP relationships (SPEC §2, §3.1): each reads, decides through the pure rules and
 * plans of shared/domain, and stores through the one executor, deciding again on a lost race.
 * Authorization is from the caller's token only; another tenant's relationship is a 404.
 */

const relationshipNotFound = (id: string) => notFound(`The delegated admin relationship '${id}' was not found.`);

function requireAdminAgent(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.adminAgent)) {
    throw forbidden('This action requires the AdminAgent role in the partner tenant.');
  }
}

/**
 * A relationship the caller may read: partner readers (AdminAgent, HelpdeskAgent, Global
 * Administrator) or a customer holding the customer-side GDAP permission (Global Administrator,
 * Customer Delegated Admin Relationship Administrator). Anyone else's is a 404.
 */
export function assertReadable<T extends Stored<Relationship>>(
  stored: T | undefined,
  id: string,
  principal: Principal,
): T {
  const relationship = assertVisible(stored?.value, principal.tenantId, id);
  const perspective = perspectiveOf(relationship, principal.tenantId);
  const allowed =
    perspective === 'partner' ? canReadPartnerResources(principal) : managesCustomerRelationships(principal);
  if (!allowed) {
    throw forbidden(
      perspective === 'partner'
        ? 'Reading relationships requires the AdminAgent or HelpdeskAgent role, or Global Administrator.'
        : "Only the customer's Global Administrator or Customer Delegated Admin Relationship Administrator can read this relationship.",
    );
  }
  return stored as T;
}

export async function readRelationship(id: string, principal: Principal): Promise<Stored<Relationship>> {
  return assertReadable(await findRelationship(id), id, principal);
}

/**
 * Which operations a reader of a relationship sees (SPEC §3.3): the partner all of them; the
 * customer only those of changes to the relationship itself, never an access assignment's, whose
 * data names the partner's security groups.
 */
export function operationVisible(operation: Operation, relationship: Relationship, principal: Principal): boolean {
  return (
    perspectiveOf(relationship, principal.tenantId) === 'partner' ||
    operation.operationType === 'delegatedAdminRelationshipUpdate'
  );
}

export async function readOperations(
  id: string,
  principal: Principal,
): Promise<{ relationship: Stored<Relationship>; operations: Keyed<Operation>[] }> {
  const relationship = await readRelationship(id, principal);
  const operations = await listChildren(childKinds.operation, relationship.value, operationFromRow);
  return {
    relationship,
    operations: operations.filter((item) => operationVisible(item.value, relationship.value, principal)),
  };
}

export async function readOperation(id: string, operationId: string, principal: Principal): Promise<Stored<Operation>> {
  const relationship = await readRelationship(id, principal);
  const stored = await findChild(childKinds.operation, relationship.value, operationId, operationFromRow);
  if (!stored || !operationVisible(stored.value, relationship.value, principal)) {
    throw notFound(`The operation '${operationId}' was not found.`);
  }
  return stored;
}

/** The name the service knows for a customer tenant (Graph fills it from Entra ID), if any. */
async function knownCustomerName(tenantId: string | undefined): Promise<string | undefined> {
  return tenantId ? displayNameOrSandboxDefault(tenantId) : undefined;
}

function withCustomerName(relationship: Relationship, known: string | undefined): Relationship {
  if (!relationship.customer || !known) return relationship;
  return { ...relationship, customer: { ...relationship.customer, displayName: known } };
}

/** The customer tenant a body names, when it names a well-formed one (validation comes later). */
function customerInBody(body: unknown): string | undefined {
  const customer = (body as { customer?: { tenantId?: unknown } } | null)?.customer;
  return typeof customer?.tenantId === 'string' ? customer.tenantId.toLowerCase() : undefined;
}

/** POST: a new relationship in `created` (SPEC §2), its name reserved in the same transaction. */
export async function createRelationship(body: unknown, caller: Caller): Promise<Stored<Relationship>> {
  requireAdminAgent(caller.principal);
  const partnerTenantId = caller.principal.tenantId;
  await assertPartnerMay(partnerTenantId, 'createGdap');
  const displayName = (body as { displayName?: unknown } | null)?.displayName;
  const id = newRelationshipIdBesideName(partnerTenantId, displayName);
  const draft = draftRelationship(body, { id, partnerTenantId }, caller.now);
  return createPlanned(withCustomerName(draft, await knownCustomerName(draft.customer?.tenantId)), caller);
}

/**
 * A relationship another aggregate's rules decided (a GDAP template's, SPEC §15.2), under the
 * same role check, account-state gate and customer name as a POST.
 */
export async function createDecided(
  relationship: Relationship,
  caller: Caller,
  assignments: readonly AccessAssignment[] = [],
): Promise<Stored<Relationship>> {
  requireAdminAgent(caller.principal);
  await assertPartnerMay(relationship.partnerTenantId, 'createGdap');
  const known = await knownCustomerName(relationship.customer?.tenantId);
  return createPlanned(withCustomerName(relationship, known), caller, assignments);
}

/**
 * Stores a relationship decided outside (a customer's default GDAP, born active; a template's,
 * SPEC §15.2, born active by implied consent with its `assignments` in the same transaction).
 */
export async function createPlanned(
  relationship: Relationship,
  caller: Caller,
  assignments: readonly AccessAssignment[] = [],
): Promise<Stored<Relationship>> {
  return decideAndCommit({
    ...actingAs(caller),
    read: async () => undefined,
    decide: (_state, context) => {
      const change = planCreate(relationship, context, assignments);
      // What the change stores (with its webhook sequence), so a caller that goes on from it is current.
      const stored = relationshipAfter(change) as Relationship;
      return { change, answer: (committed) => ({ value: stored, etag: committed?.relationshipEtag as string }) };
    },
    commit: (change: RelationshipChange) => storeRelationshipChange(change, caller.now),
  });
}

export type UpdateResult =
  { kind: 'updated'; stored: Stored<Relationship> } | { kind: 'accepted'; operation: Operation };

/**
 * PATCH (SPEC §2.2): the partner's AdminAgent edits; on an active relationship the customer's
 * Global Administrator may remove roles. Removing roles from an active relationship is answered
 * with the operation that applied it (assignments lose those roles in the same transaction).
 * `ifMatch` is the storage ETag the client named, or `*`.
 */
export async function updateRelationship(
  id: string,
  ifMatch: string,
  body: unknown,
  caller: Caller,
  operationData: (relationship: Relationship) => object,
): Promise<UpdateResult> {
  const { principal } = caller;
  const operationId = newGuid();
  const perspectiveIn = (current: Relationship) => perspectiveOf(current, principal.tenantId) ?? 'partner';
  return decideAndCommit({
    ...actingAs(caller),
    // The client's own version is the condition: a lost race is its 412.
    retry: ifMatch === '*',
    read: async () => {
      const state = await readRelationshipFor(id, (current) =>
        attempt(() => editRelationship(current, body, caller.now, perspectiveIn(current))),
      );
      if (!state.stored) throw relationshipNotFound(id);
      await authorizeEdit(state.stored.value, principal);
      const knownName = await knownCustomerName(customerInBody(body) ?? state.stored.value.customer?.tenantId);
      return { ...state, knownName };
    },
    decide: (state, context) => {
      const current = state.stored as Stored<Relationship>;
      const next = withCustomerName(
        editRelationship(current.value, body, caller.now, perspectiveIn(current.value)),
        state.knownName,
      );
      const expected = ifMatch === '*' ? current.etag : ifMatch;
      const operation = removesRoles(current.value, next)
        ? succeededOperation(
            operationId,
            current.value.id,
            'delegatedAdminRelationshipUpdate',
            operationData(next),
            caller.now,
          )
        : undefined;
      const change = planTransition({ value: current.value, etag: expected }, next, context, {
        operation,
        assignments: state.assignments,
      });
      return {
        change,
        answer: (stored): UpdateResult =>
          operation
            ? { kind: 'accepted', operation }
            : {
                kind: 'updated',
                stored: { value: relationshipAfter(change) as Relationship, etag: stored?.relationshipEtag as string },
              },
      };
    },
    commit: (change: RelationshipChange) => storeRelationshipChange(change, caller.now),
  });
}

/**
 * Who may edit: the partner's AdminAgent (gated by account state), or on an active relationship the
 * customer's Global Administrator, who may remove roles (a Customer Delegated Admin Relationship
 * Administrator, who lacks the role-assignment permission, may not).
 */
async function authorizeEdit(relationship: Relationship, principal: Principal): Promise<void> {
  const perspective = perspectiveOf(
    assertVisible(relationship, principal.tenantId, relationship.id),
    principal.tenantId,
  );
  if (perspective === 'partner') {
    requireAdminAgent(principal);
    // Account-state gate (SPEC §5.3); the customer's own edits are never gated.
    await assertPartnerMay(principal.tenantId, 'updateGdap');
  } else if (!mayRemoveCustomerRelationshipRoles(principal) || relationship.status !== 'active') {
    throw forbidden(
      "Only the partner can change a relationship; the customer's Global Administrator may only remove roles of an active one.",
    );
  }
}

/** Runs a decision for what it would read, not what it would say: errors come again when deciding. */
function attempt<T>(decide: () => T): T | undefined {
  try {
    return decide();
  } catch (error) {
    if (error instanceof DomainError) return undefined;
    throw error;
  }
}

/** DELETE of a draft (SPEC §2.2): 204, and the name is free at once. */
export async function deleteRelationship(id: string, ifMatch: string, caller: Caller): Promise<void> {
  const { principal } = caller;
  await decideAndCommit({
    ...actingAs(caller),
    retry: ifMatch === '*',
    read: async () => {
      const stored = await findRelationship(id);
      const relationship = assertVisible(stored?.value, principal.tenantId, id);
      if (perspectiveOf(relationship, principal.tenantId) !== 'partner') {
        throw forbidden("Only the partner can change a relationship; the customer acts through 'requests'.");
      }
      requireAdminAgent(principal);
      await assertPartnerMay(principal.tenantId, 'updateGdap');
      return stored as Stored<Relationship>;
    },
    decide: (stored, context) => {
      assertDeletable(stored.value);
      return {
        change: planDelete({ value: stored.value, etag: ifMatch === '*' ? stored.etag : ifMatch }, context),
        answer: () => undefined,
      };
    },
    commit: (change: RelationshipChange) => storeRelationshipChange(change, caller.now),
  });
}

export interface RequestResult {
  request: RelationshipRequest;
  relationship: Relationship;
}

/**
 * POST …/requests (SPEC §2.1, §2.3, §3.1): lockForApproval, approve, reject, terminate, each one
 * state change with its request. `ifMatch` (optional, SPEC §14) names the version the client saw:
 * if it changed, 412 before any state rule; and a lost race is then the client's 412 too.
 */
export async function requestAction(
  id: string,
  action: RequestAction,
  ifMatch: string | null | undefined,
  caller: Caller,
): Promise<RequestResult> {
  const { principal, now } = caller;
  const actor: Actor = {
    tenantId: principal.tenantId,
    isAdminAgent: hasAppRole(principal, appRoles.adminAgent),
    managesCustomerRelationships: managesCustomerRelationships(principal),
  };
  const approverName =
    action === 'approve' || action === 'reject' ? await displayNameOrSandboxDefault(principal.tenantId) : undefined;
  const pinned = ifMatch !== undefined && ifMatch !== '*';
  let gated = false;
  const request = newRequest(newGuid(), id.toLowerCase(), action, now);
  return decideAndCommit({
    ...actingAs(caller),
    retry: !pinned,
    read: async () => {
      const state = await readRelationshipFor(id, (current) =>
        attempt(() => applyRequestAction(current, action, actor, now, approverName)),
      );
      if (!state.stored) throw relationshipNotFound(id);
      // A client that names the version it saw gets 412 if it changed, before any state rule (SPEC §14).
      if (pinned && ifMatch !== state.stored.etag) {
        assertVisible(state.stored.value, principal.tenantId, id);
        throw stale('The relationship was changed since the If-Match ETag was read: read it again and retry.');
      }
      return state;
    },
    decide: (state, context) => {
      const current = state.stored as Stored<Relationship>;
      const next = applyRequestAction(current.value, action, actor, now, approverName);
      const change = planTransition(current, next, context, {
        request: { ...request, relationshipId: next.id },
        assignments: state.assignments,
      });
      return {
        change,
        answer: () => ({
          request: { ...request, relationshipId: next.id },
          relationship: relationshipAfter(change) as Relationship,
        }),
      };
    },
    commit: async (change) => {
      // Account-state gate (SPEC §5.3): locking puts a new relationship before the customer, so it
      // counts as creating GDAP. A partner's terminate is allowed in every state, since it only
      // removes access; customer actions (approve, reject, terminate) are never gated.
      if (action === 'lockForApproval' && !gated) {
        await assertPartnerMay(change.relationship.partnerTenantId, 'createGdap');
        gated = true;
      }
      return storeRelationshipChange(change, now);
    },
  });
}

/** One relationship of a bulk auto-extend (SPEC §9): the same rule and write as a PATCH of it. */
export async function setAutoExtend(id: string, autoExtendDuration: string, caller: Caller): Promise<void> {
  const partnerTenantId = caller.principal.tenantId;
  await decideAndCommit({
    ...actingAs(caller),
    read: () => findRelationship(id),
    decide: (stored, context) => {
      // Only the partner's own relationships: anything else does not exist for this call (SPEC §1).
      if (!stored || stored.value.partnerTenantId !== partnerTenantId) throw relationshipNotFound(id);
      const next = editRelationship(stored.value, { autoExtendDuration }, caller.now, 'partner');
      if (next.autoExtendDuration === stored.value.autoExtendDuration) return { answer: () => undefined };
      return { change: planTransition(stored, next, context), answer: () => undefined };
    },
    commit: (change: RelationshipChange) => storeRelationshipChange(change, caller.now),
  });
}
