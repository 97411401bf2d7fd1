import { createHash } from 'node:crypto';
import { AccessAssignment, affectsAssignments, assignmentsAfter } from './assignments';
import { Change, ChangeContext, ChangeEvent, emptyChange, eventsOfChange, stampEvents, Versioned } from './change';
import { assignmentEventsOf, eventsOf, expiryWarnings } from './events';
import { DueEntry, jobIds } from './jobs';
import { dueEntriesFor, nextExpiryWarning } from './maintenance';
import { Operation } from './operations';
import { Relationship, RelationshipRequest } from './relationships';
import { assignmentWebhookEvents, expiringWebhookEvents, withWebhookSequence } from './webhooks';

/**
 * The plans of every change to a relationship and what lives beside it in its partition (its
 * requests, access assignments, operations, events): pure functions from the state as read to the
 * `Change` the store executes. What one `lockForApproval` writes is all in `planTransition`.
 */

export type RelationshipWrite =
  /** The relationship row: inserted (no ETag) or merged, with the request that changed it. */
  | { kind: 'relationship'; value: Relationship; etag: string | null; request?: RelationshipRequest }
  /** A relationship deleted with children: its row stays, marked, until they are removed. */
  | { kind: 'tombstone'; value: Relationship; etag: string }
  /** A draft (which has no children): marked like a tombstone, and its row removed right after. */
  | { kind: 'remove'; value: Relationship; etag: string }
  /** An assignment: inserted with its group reservation, or replaced (a deleted one frees its group). */
  | { kind: 'assignment'; value: AccessAssignment; etag: string | null }
  /** The grant (below): created, deleted, or touched by an assignment write that relies on it. */
  | { kind: 'grant'; relationshipId: string; key: string; action: 'create' | 'delete' | 'touch' }
  | { kind: 'operation'; value: Operation }
  /** Marks an expiry warning sent: an insert, so only the first sender of `key` succeeds. */
  | { kind: 'warningSent'; relationshipId: string; key: string };

/** The customer's index row of a relationship it takes part in (written before, confirmed by readers). */
export interface CustomerPointer {
  customerTenantId: string;
  relationshipId: string;
  partnerTenantId: string;
}

export type { Versioned };

export interface RelationshipChange extends Change<RelationshipWrite, CustomerPointer> {
  /** Whose partition the transaction is in. */
  relationship: Pick<Relationship, 'id' | 'partnerTenantId'>;
  /** Display names taken and given back (shared/store/names.ts). */
  names: { reserve?: string; release?: string };
}

/**
 * A relationship's *grant*: a row present exactly while the relationship is active, keyed by its
 * role set. Every assignment write that relies on the relationship being active with those roles
 * touches it (an unconditional merge, which fails only if it is gone, so concurrent assignment
 * writes do not contend), and every change that ends the relationship or removes roles deletes it
 * in its own transaction (and creates the next one while still active). An assignment write after
 * such a change therefore fails and is decided again on the new state. One that committed before
 * the change, but after the change read the assignments, is left to the change's follow-up, which
 * reads them again once the change is stored and applies the change to them too (issue 15).
 */
export function grantKey(roleIds: readonly string[]): string {
  return createHash('sha256')
    .update([...roleIds].sort().join(','))
    .digest('hex')
    .slice(0, 16);
}

/** The assignments of a relationship as read with its grant (one query). */
export interface AssignmentSet {
  assignments: Versioned<AccessAssignment>[];
  /** The key of the grant, absent while the relationship is not active. */
  grant?: string;
}

/** Assignment changes carried in the relationship's own transaction (Table Storage allows 100 actions). */
export const assignmentsPerTransaction = 40;

function change(relationship: Pick<Relationship, 'id' | 'partnerTenantId'>): RelationshipChange {
  return { ...emptyChange<RelationshipWrite, CustomerPointer>(), relationship, names: {} };
}

/** Whether a change makes the relationship appear to a customer (drafts never do): its pointer goes first. */
function becomesVisibleToCustomer(previous: Relationship | undefined, next: Relationship): boolean {
  if (!next.customer || next.status === 'created') return false;
  return !previous || previous.status === 'created' || previous.customer?.tenantId !== next.customer.tenantId;
}

function pointerOf(relationship: Relationship): CustomerPointer[] {
  return relationship.customer
    ? [
        {
          customerTenantId: relationship.customer.tenantId,
          relationshipId: relationship.id,
          partnerTenantId: relationship.partnerTenantId,
        },
      ]
    : [];
}

/** The relationship a change leaves (what its relationship write stores), if it writes one. */
export function relationshipAfter(plan: RelationshipChange): Relationship | undefined {
  const write = plan.writes.find((each) => each.kind === 'relationship');
  return write?.kind === 'relationship' ? write.value : undefined;
}

/** Assignments a relationship born active can carry in its own creation (two actions and an audit entry each). */
export const assignmentsAtCreation = 30;

/**
 * A new relationship: its row and name in one transaction, with its audit entry; a default one is
 * born active (and sends its first webhook event, so its webhook sequence starts at 1), and one
 * born active by implied consent (SPEC §15.2) with its template's assignments.
 */
export function planCreate(
  created: Relationship,
  context: ChangeContext,
  assignments: readonly AccessAssignment[] = [],
): RelationshipChange {
  const relationship = withWebhookSequence(undefined, created);
  if (assignments.length > 0 && relationship.status !== 'active') {
    throw new Error('Only a relationship born active can be created with access assignments');
  }
  if (assignments.length > assignmentsAtCreation) {
    throw new Error(`At most ${assignmentsAtCreation} access assignments fit a relationship's creation`);
  }
  const plan = change(relationship);
  plan.writes.push({ kind: 'relationship', value: relationship, etag: null });
  for (const value of assignments) plan.writes.push({ kind: 'assignment', value, etag: null });
  if (relationship.status === 'active') {
    plan.writes.push({
      kind: 'grant',
      relationshipId: relationship.id,
      key: grantKey(relationship.roleIds),
      action: 'create',
    });
  }
  plan.names.reserve = relationship.displayName;
  // A relationship may be born active (default GDAP of a new customer): its end date is due too.
  plan.schedule.push(...dueEntriesFor(undefined, relationship));
  if (becomesVisibleToCustomer(undefined, relationship)) plan.pointers.push(...pointerOf(relationship));
  plan.events = stampEvents(
    [
      ...eventsOfChange(eventsOf(undefined, relationship, context.initiatedBy, context.at)),
      ...assignments.flatMap((assignment) =>
        eventsOfChange(assignmentEventsOf(relationship, undefined, assignment, context)),
      ),
    ],
    context.changeId,
  );
  return plan;
}

/** Whether `planTransition` needs the relationship's assignments (only then are they read). */
export const needsAssignments = affectsAssignments;

/** What a template's relationship settled as, which its onboarding continues from (SPEC §15.2). */
export interface SettledOnboarding {
  partnerTenantId: string;
  relationshipId: string;
  templateId: string;
  customerTenantId: string | null;
  status: Relationship['status'];
}

export function settledOnboarding(relationship: Relationship): SettledOnboarding {
  return {
    partnerTenantId: relationship.partnerTenantId,
    relationshipId: relationship.id,
    templateId: relationship.templateId as string,
    customerTenantId: relationship.customer?.tenantId ?? null,
    status: relationship.status,
  };
}

/**
 * Any change of an existing relationship (an edit, a request action, a job's decision): its row
 * merged at the ETag it was read with, the request or operation that records it, its name moved,
 * the due entries and customer pointer its new state needs, its events, and what it does to its
 * assignments (SPEC §2.1, §2.2): up to `assignmentsPerTransaction` in the same transaction, the
 * rest as a follow-up that the use case finishes at once and the job after a crash. A change that
 * sends webhook events moves the relationship's webhook sequence on in its own transaction, so
 * their order is the order of the changes (webhooks.ts).
 */
export function planTransition(
  current: Versioned<Relationship>,
  decided: Relationship,
  context: ChangeContext,
  extras: { request?: RelationshipRequest; operation?: Operation; assignments?: AssignmentSet } = {},
): RelationshipChange {
  const previous = current.value;
  const next = withWebhookSequence(previous, decided);
  const plan = change(next);
  plan.writes.push({ kind: 'relationship', value: next, etag: current.etag, request: extras.request });
  if (extras.operation) plan.writes.push({ kind: 'operation', value: extras.operation });
  if (previous.displayName !== next.displayName) {
    plan.names = { reserve: next.displayName, release: previous.displayName };
  }
  plan.schedule.push(...dueEntriesFor(previous, next));
  if (becomesVisibleToCustomer(previous, next)) plan.pointers.push(...pointerOf(next));
  if (previous.status !== 'active' && next.status === 'active') {
    plan.writes.push({ kind: 'grant', relationshipId: next.id, key: grantKey(next.roleIds), action: 'create' });
  }
  // A template's relationship that the customer answered (or let expire) continues its onboarding
  // (SPEC §15.2): a follow-up of this very change, finished right after it and by its job after a crash.
  if (next.templateId && previous.status === 'approvalPending' && next.status !== 'approvalPending') {
    plan.followUps.push({
      job: jobIds.continueTemplateOnboarding,
      dueAt: context.at,
      subjectId: next.id,
      data: JSON.stringify(settledOnboarding(next)),
    });
  }
  plan.events = stampEvents(
    eventsOfChange(eventsOf(previous, next, context.initiatedBy, context.at)),
    context.changeId,
  );
  if (affectsAssignments(previous, next)) {
    if (!extras.assignments) throw new Error('This change affects assignments: read them with the relationship');
    planAssignmentConsequences(plan, next, extras.assignments, context, true);
  }
  return plan;
}

/**
 * What `next` does to the assignments as read: the grant swapped for the new role set (or
 * removed once the relationship ends), each live assignment cut to the relationship's roles or
 * deleted (each with its webhook event; their audit entry is the relationship's), up to one
 * transaction's share, and a follow-up that reads them again once this is stored (for the rest,
 * and for any written meanwhile).
 */
function planAssignmentConsequences(
  plan: RelationshipChange,
  next: Relationship,
  set: AssignmentSet,
  context: ChangeContext,
  relationshipChanged: boolean,
): void {
  const nextKey = next.status === 'active' ? grantKey(next.roleIds) : undefined;
  if (relationshipChanged && set.grant !== nextKey) {
    if (set.grant) plan.writes.push({ kind: 'grant', relationshipId: next.id, key: set.grant, action: 'delete' });
    if (nextKey) plan.writes.push({ kind: 'grant', relationshipId: next.id, key: nextKey, action: 'create' });
  }
  const read = new Map(set.assignments.map((item) => [item.value.id, item]));
  const changed = assignmentsAfter(
    next,
    set.assignments.map((item) => item.value),
    context.at,
  );
  for (const value of changed.slice(0, assignmentsPerTransaction)) {
    const current = read.get(value.id) as Versioned<AccessAssignment>;
    plan.writes.push({ kind: 'assignment', value, etag: current.etag });
    plan.events.push(
      ...assignmentWebhookEvents(next, current.value, value, context.initiatedBy, context.at).map(
        (event): ChangeEvent => ({ type: 'webhook', value: event }),
      ),
    );
  }
  if (relationshipChanged || changed.length > assignmentsPerTransaction)
    plan.followUps.push(finishLater(next, context.at));
}

function finishLater(relationship: Relationship, at: string): DueEntry {
  return { job: jobIds.finishRelationshipChanges, dueAt: at, subjectId: relationship.id };
}

/**
 * The follow-up of a relationship change that did not fit its transaction: the next share of
 * assignments the relationship's current state still changes, conditional on their ETags (and a
 * further follow-up while more remain). Nothing to do is an empty plan.
 */
export function planFinishAssignments(
  relationship: Relationship,
  set: AssignmentSet,
  context: ChangeContext,
): RelationshipChange {
  const plan = change(relationship);
  planAssignmentConsequences(plan, relationship, set, context, false);
  return plan;
}

/**
 * A relationship deleted (a draft on DELETE, an ended one when purged): a draft has no children,
 * so its row goes in the transaction; an ended one is tombstoned there, and its children removed
 * by a follow-up of the purge job. Either way its name is free at once.
 */
export function planDelete(current: Versioned<Relationship>, context: ChangeContext): RelationshipChange {
  const relationship = current.value;
  const plan = change(relationship);
  const hasChildren = relationship.activatedDateTime !== null;
  plan.writes.push({ kind: hasChildren ? 'tombstone' : 'remove', value: relationship, etag: current.etag });
  if (hasChildren) plan.followUps.push({ job: jobIds.purgeEnded, dueAt: context.at, subjectId: relationship.id });
  plan.names.release = relationship.displayName;
  plan.events = stampEvents(
    eventsOfChange(eventsOf(relationship, undefined, context.initiatedBy, context.at)),
    context.changeId,
  );
  return plan;
}

/**
 * An expiry warning (SPEC §4, §9): the next one of the chain is scheduled whether or not this one
 * is sent (auto-extension may be switched off before then); when it is due, the notifications
 * and webhook events go with a marker that only the first sender can insert. Their ids derive
 * from what they announce.
 */
export function planExpiryWarning(
  relationship: Relationship,
  entry: DueEntry,
  send: boolean,
  context: ChangeContext,
): RelationshipChange {
  const plan = change(relationship);
  const next = nextExpiryWarning(relationship, entry.days);
  if (next) plan.schedule.push(next);
  if (send) {
    const days = entry.days ?? 0;
    const key = `${relationship.endDateTime ?? ''}|${days}`;
    plan.writes.push({ kind: 'warningSent', relationshipId: relationship.id, key });
    plan.events = eventsOfChange({
      audits: [],
      notifications: expiryWarnings(relationship, days, context.at),
      webhooks: expiringWebhookEvents(relationship, days, context.at),
    });
  }
  return plan;
}

/**
 * A new assignment (SPEC §3.2): its row and group reservation (one live assignment per group)
 * with the partner's audit entry, relying on the relationship's grant for its roles.
 */
export function planAssignmentCreate(
  relationship: Relationship,
  assignment: AccessAssignment,
  context: ChangeContext,
): RelationshipChange {
  const plan = change(relationship);
  plan.writes.push(
    { kind: 'assignment', value: assignment, etag: null },
    { kind: 'grant', relationshipId: relationship.id, key: grantKey(relationship.roleIds), action: 'touch' },
  );
  plan.events = stampEvents(
    eventsOfChange(assignmentEventsOf(relationship, undefined, assignment, context)),
    context.changeId,
  );
  return plan;
}

/**
 * Several new assignments of one relationship in one transaction (a template's groups after an
 * approval): as many `planAssignmentCreate`s, relying on the grant once.
 */
export function planAssignmentsCreate(
  relationship: Relationship,
  assignments: readonly AccessAssignment[],
  context: ChangeContext,
): RelationshipChange {
  const plan = change(relationship);
  for (const value of assignments) plan.writes.push({ kind: 'assignment', value, etag: null });
  plan.writes.push({
    kind: 'grant',
    relationshipId: relationship.id,
    key: grantKey(relationship.roleIds),
    action: 'touch',
  });
  plan.events = stampEvents(
    assignments.flatMap((assignment) =>
      eventsOfChange(assignmentEventsOf(relationship, undefined, assignment, context)),
    ),
    context.changeId,
  );
  return plan;
}

/** An assignment updated (new roles, with the operation that records it) or deleted, at the ETag given. */
export function planAssignmentChange(
  relationship: Relationship,
  current: Versioned<AccessAssignment>,
  next: AccessAssignment,
  context: ChangeContext,
  operation?: Operation,
): RelationshipChange {
  const plan = change(relationship);
  plan.writes.push({ kind: 'assignment', value: next, etag: current.etag });
  // New roles must still be the relationship's; a deletion needs no grant (the assignment's ETag guards it).
  if (next.status !== 'deleted') {
    plan.writes.push({
      kind: 'grant',
      relationshipId: relationship.id,
      key: grantKey(relationship.roleIds),
      action: 'touch',
    });
  }
  if (operation) plan.writes.push({ kind: 'operation', value: operation });
  plan.events = stampEvents(
    eventsOfChange(assignmentEventsOf(relationship, current.value, next, context)),
    context.changeId,
  );
  return plan;
}
