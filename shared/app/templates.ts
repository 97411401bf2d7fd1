import { randomBytes } from 'node:crypto';
import { AccessAssignment, createAssignment as decideAssignment } from '../domain/assignments';
import { conflict, DomainError, forbidden, invalid, notFound } from '../domain/errors';
import { gdapApprovalsQueue, GdapJob, gdapJobsQueue } from '../domain/gdapJobs';
import { isGuid, newGuid } from '../domain/ids';
import { activateDefault, Relationship } from '../domain/relationships';
import {
  assignmentBody,
  changesAssignments,
  createTemplate as draftTemplate,
  Drift,
  driftOf,
  expectedAssignments,
  GdapTemplate,
  reconcilePlan,
  relationshipFromTemplate,
  relationshipNameFor,
  TemplateAssignment,
  templateRoleIds,
  updateTemplate as editTemplate,
} from '../domain/templates';
import { assignmentView } from '../http/graphViews';
import { CollectionQuery } from '../query/odata';
import { appRoles, canReadPartnerResources, hasAppRole, Principal } from '../domain/principal';
import { hasDap } from '../store/dap';
import { assertPartnerMay } from '../store/partners';
import { Stored } from '../store/paging';
import { assignmentsAtCreation, SettledOnboarding, settledOnboarding } from '../domain/relationshipChanges';
import { findRelationship, listChildren, newRelationshipIdBesideName } from '../store/relationships';
import { assignmentFromRow, childKinds } from '../store/rows';
import { sendQueueMessage } from '../store/queues';
import { config } from '../config';
import { DueEntry, jobIds } from '../domain/jobs';
import { defineDueJob } from './jobs';
import {
  deleteTemplate as removeTemplate,
  findTemplate,
  findTie,
  insertTemplate,
  insertTie,
  replaceTemplate,
  replaceTie,
  TemplateTie,
  tiePage,
  tiesOf,
  removeTiesOf,
  deleteTie,
} from '../store/templates';
import { assignmentsPerCreate, createAssignments, deleteAssignment, updateAssignment } from './assignments';
import { Caller, ServedCaller } from './caller';
import { continueItem, createJob, inParallel, ItemContext, ItemOutcome, registerItemWorker } from './gdapJobs';
import { invitationUrl } from './invitations';
import { createDecided, requestAction } from './relationships';

/**
 * Use cases of GDAP templates (SPEC §15.1–§15.3): CRUD, assigning customers (a job), the
 * continuation of onboarding when a customer approves, drift and its repair. Every relationship
 * and assignment write goes through the same use cases as the API's own routes.
 */

/** Writes of templates and jobs: partner AdminAgents only (SPEC §15). */
export function requireAdminAgent(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.adminAgent)) {
    throw forbidden('This action requires the AdminAgent role in the partner tenant.');
  }
}

export function requirePartnerReader(principal: Principal): void {
  if (!canReadPartnerResources(principal)) {
    throw forbidden(
      'Reading GDAP templates and jobs requires the AdminAgent or HelpdeskAgent role, or Global Administrator.',
    );
  }
}

const templateNotFound = (id: string) => notFound(`The GDAP template '${id}' was not found.`);

export async function readTemplate(id: string, principal: Principal): Promise<Stored<GdapTemplate>> {
  requirePartnerReader(principal);
  // Template ids are GUIDs: anything else names nothing (and never reaches storage as a key).
  const stored = isGuid(id) ? await findTemplate(principal.tenantId, id) : undefined;
  if (!stored) throw templateNotFound(id);
  return stored;
}

export async function createTemplate(body: unknown, caller: Caller): Promise<Stored<GdapTemplate>> {
  requireAdminAgent(caller.principal);
  const template = draftTemplate(body, { id: newGuid(), partnerTenantId: caller.principal.tenantId }, caller.now);
  return insertTemplate(template);
}

/**
 * PATCH: a change of groups or roles starts a reconcile job over every customer tied to the
 * template (SPEC §15.2), so each relationship made from it follows.
 */
export async function updateTemplate(
  id: string,
  ifMatch: string,
  body: unknown,
  caller: ServedCaller,
): Promise<{ stored: Stored<GdapTemplate>; job?: GdapJob }> {
  requireAdminAgent(caller.principal);
  const current = await readTemplate(id, caller.principal);
  const next = editTemplate(current.value, body, caller.now);
  const stored = await replaceTemplate(current.value, next, ifMatch === '*' ? current.etag : ifMatch);
  if (!changesAssignments(current.value, next)) return { stored };
  const job = await reconcileTemplate(id, caller);
  return { stored, job };
}

/** DELETE: never ends a relationship; its customers are free at once (their ties are tidied after). */
export async function deleteTemplate(id: string, ifMatch: string, caller: Caller): Promise<void> {
  requireAdminAgent(caller.principal);
  const current = await readTemplate(id, caller.principal);
  await removeTemplate(current.value, ifMatch === '*' ? current.etag : ifMatch);
  await sendQueueMessage(gdapJobsQueue, {
    type: 'templateDeleted',
    partnerTenantId: current.value.partnerTenantId,
    templateId: current.value.id,
  });
}

/** POST …/assign: a job onboarding each customer (SPEC §15.2). */
export async function assignCustomers(
  id: string,
  input: { customerTenantIds: string[]; renew: boolean },
  caller: ServedCaller,
): Promise<GdapJob> {
  requireAdminAgent(caller.principal);
  await readTemplate(id, caller.principal);
  return createJob(
    {
      kind: 'assignTemplate',
      targets: input.customerTenantIds,
      targetKind: 'customer',
      parameters: { templateId: id.toLowerCase(), renew: input.renew },
    },
    caller,
  );
}

/** POST …/reconcile, and a PATCH that changes groups: a job over every customer tied to the template. */
export async function reconcileTemplate(id: string, caller: ServedCaller): Promise<GdapJob> {
  requireAdminAgent(caller.principal);
  const template = await readTemplate(id, caller.principal);
  const customers: string[] = [];
  for await (const tie of tiesOf(caller.principal.tenantId, template.value.id))
    customers.push(tie.value.customerTenantId);
  return createJob(
    {
      kind: 'reconcileTemplate',
      targets: customers,
      targetKind: 'customer',
      parameters: { templateId: template.value.id },
    },
    caller,
  );
}

export interface UnassignResult {
  customerTenantId: string;
  status: 'succeeded' | 'failed';
  error?: { code: string; message: string };
}

/** POST …/unassign: removes the ties; ends nothing (SPEC §15.2). */
export async function unassignCustomers(
  id: string,
  customerTenantIds: string[],
  caller: Caller,
): Promise<UnassignResult[]> {
  requireAdminAgent(caller.principal);
  const template = await readTemplate(id, caller.principal);
  const results: UnassignResult[] = new Array(customerTenantIds.length);
  await inParallel(
    customerTenantIds.map((customerTenantId, index) => ({ customerTenantId, index })),
    16,
    async ({ customerTenantId, index }) => {
      const tie = await findTie(caller.principal.tenantId, customerTenantId);
      if (!tie || tie.value.templateId !== template.value.id) {
        results[index] = {
          customerTenantId,
          status: 'failed',
          error: {
            code: 'ResourceNotFound',
            message: `The customer '${customerTenantId}' is not assigned to this template.`,
          },
        };
        return;
      }
      await deleteTie(tie);
      results[index] = { customerTenantId, status: 'succeeded' };
    },
  );
  return results;
}

/** The template of a job, read once per message. */
function jobTemplate(context: ItemContext): Promise<GdapTemplate> {
  const templateId = context.job.parameters.templateId as string;
  let read = context.cache.get(`template|${templateId}`) as Promise<GdapTemplate> | undefined;
  if (!read) {
    read = findTemplate(context.job.partnerTenantId, templateId).then((stored) => {
      if (!stored) throw notFound(`The GDAP template '${templateId}' was deleted.`);
      return stored.value;
    });
    context.cache.set(`template|${templateId}`, read);
  }
  return read;
}

/** A fresh relationship to make for the customer: its id beside its name's partition, recorded in the tie first. */
function plannedRelationship(template: GdapTemplate): { relationshipId: string; relationshipName: string } {
  const relationshipName = relationshipNameFor(template, randomBytes(4).toString('hex'));
  return { relationshipId: newRelationshipIdBesideName(template.partnerTenantId, relationshipName), relationshipName };
}

/**
 * The customer's tie to this template, naming this item as the one onboarding it and a relationship
 * to make when it has none alive. A customer tied to another (existing) template is a conflict
 * (SPEC §15.2: one template per customer).
 */
async function claimTie(
  template: GdapTemplate,
  customerTenantId: string,
  item: { jobId: string; itemId: string },
): Promise<{ tie: Stored<TemplateTie>; fresh: boolean }> {
  const planned: TemplateTie = {
    partnerTenantId: template.partnerTenantId,
    customerTenantId,
    templateId: template.id,
    ...plannedRelationship(template),
    ...item,
  };
  const inserted = await insertTie(planned);
  if (inserted) return { tie: inserted, fresh: true };
  const existing = await findTie(template.partnerTenantId, customerTenantId);
  if (!existing) return claimTie(template, customerTenantId, item);
  if (existing.value.templateId !== template.id) {
    if (await findTemplate(template.partnerTenantId, existing.value.templateId)) {
      throw conflict(
        `The customer '${customerTenantId}' is assigned to another GDAP template ('${existing.value.templateId}'): a customer belongs to at most one template.`,
      );
    }
    // Its template was deleted: the customer is free.
    return { tie: await replaceTie(planned, existing.etag), fresh: true };
  }
  if (existing.value.jobId === item.jobId && existing.value.itemId === item.itemId)
    return { tie: existing, fresh: false };
  return { tie: await replaceTie({ ...existing.value, ...item }, existing.etag), fresh: false };
}

/**
 * New assignments of one relationship through the API's use case, as few transactions as fit
 * (a template holds up to 50 groups; one transaction takes `assignmentsPerCreate`).
 */
async function createGroups(
  relationshipId: string,
  groups: readonly TemplateAssignment[],
  caller: Caller,
): Promise<void> {
  for (let start = 0; start < groups.length; start += assignmentsPerCreate) {
    const batch = groups.slice(start, start + assignmentsPerCreate);
    await createAssignments(relationshipId, batch.map(assignmentBody), caller);
  }
}

/**
 * Brings a relationship's assignments to its template: missing groups created, changed ones
 * patched, extra ones deleted, each through the API's own use case. Returns the warnings
 * (template roles the relationship does not have, which cannot be added to it).
 */
export async function reconcileAssignments(
  template: GdapTemplate,
  relationship: Relationship,
  caller: Caller,
  attempt = 1,
): Promise<string[]> {
  const assignments = (await listChildren(childKinds.assignment, relationship, assignmentFromRow)).map(
    (item) => item.value,
  );
  const plan = reconcilePlan(template, relationship, assignments);
  if (plan.create.length > 0) {
    try {
      await createGroups(relationship.id, plan.create, caller);
    } catch (error) {
      // Another worker created some at the same moment: decide again on what is there now.
      if (!(error instanceof DomainError && error.kind === 'conflict') || attempt >= 3) throw error;
      return reconcileAssignments(template, relationship, caller, attempt + 1);
    }
  }
  for (const { assignment, roleIds } of plan.update) {
    const body = { accessDetails: assignmentBody({ groupId: assignment.accessContainerId, roleIds }).accessDetails };
    await updateAssignment(relationship.id, assignment.id, '*', body, caller, assignmentView);
  }
  for (const assignment of plan.remove) await deleteAssignment(relationship.id, assignment.id, '*', caller);
  return rolesWarning(driftOf(template, relationship, assignments));
}

/** The warning an item carries for template roles its relationship lacks (they cannot be added to it). */
function rolesWarning(drift: Drift): string[] {
  const missing = drift.rolesNotInRelationship;
  return missing.length
    ? [
        `rolesNotInRelationship: the relationship does not have the template's roles ${missing.join(', ')}; they cannot be added to it and are assigned nowhere.`,
      ]
    : [];
}

/**
 * The end of a renewal (SPEC §15.2 `renew`): once the customer's new relationship is active, the
 * old one is terminated (through the API's use case) and the tie forgets it. Safe to repeat.
 */
async function finishRenewal(
  partnerTenantId: string,
  customerTenantId: string,
  activeRelationshipId: string,
  caller: Caller,
): Promise<void> {
  const tie = await findTie(partnerTenantId, customerTenantId);
  const previous = tie?.value.previousRelationshipId;
  if (!tie || !previous || tie.value.relationshipId !== activeRelationshipId) return;
  const old = await findRelationship(previous);
  if (old?.value.status === 'active') await requestAction(previous, 'terminate', undefined, caller);
  await replaceTie({ ...tie.value, previousRelationshipId: null }, tie.etag);
}

/**
 * The template's groups on a just-approved relationship: all of them in one call of the API's use
 * case, as nothing else can have been assigned yet; should that be wrong (a group assigned by hand
 * meanwhile, roles the customer removed), the full reconcile decides on what is there.
 */
async function assignAfterApproval(template: GdapTemplate, relationshipId: string, caller: Caller): Promise<string[]> {
  try {
    await createGroups(relationshipId, template.assignments, caller);
    return [];
  } catch (error) {
    if (!(error instanceof DomainError && (error.kind === 'conflict' || error.kind === 'invalid'))) throw error;
    const relationship = await findRelationship(relationshipId);
    if (!relationship) throw notFound(`The relationship '${relationshipId}' no longer exists.`);
    return reconcileAssignments(template, relationship.value, caller);
  }
}

/**
 * Implied consent (SPEC §15.2 step 2): the relationship is born active, with the template's groups
 * in its own transaction (the first `assignmentsAtCreation`; the rest follow through the API's use case).
 */
async function createActive(template: GdapTemplate, draft: Relationship, caller: Caller): Promise<string[]> {
  const active = activateDefault(draft, caller.now);
  const assignments: AccessAssignment[] = [];
  for (const group of expectedAssignments(template, active).slice(0, assignmentsAtCreation)) {
    assignments.push(decideAssignment(assignmentBody(group), active, assignments, newGuid(), caller.now));
  }
  const stored = await createDecided(active, caller, assignments);
  const all = expectedAssignments(template, active).length === assignments.length;
  // When every group fit the creation, the relationship already matches its template.
  return all
    ? rolesWarning(driftOf(template, active, assignments))
    : reconcileAssignments(template, stored.value, caller);
}

const awaiting = (job: GdapJob, relationshipId: string): ItemOutcome => ({
  state: 'awaitingApproval',
  relationshipId,
  invitationUrl: invitationUrl(relationshipId, job.baseUrl),
});

/**
 * One customer of an assign job (SPEC §15.2), in the spec's order: reconcile an active relationship
 * made from this template; else implied consent from DAP; else create and lock, and wait for the
 * approval. The relationship's id and name are in the tie before it is created, so a rerun finds it.
 */
async function assignItem(context: ItemContext): Promise<ItemOutcome> {
  const { job, item, caller } = context;
  const customerTenantId = item.customerTenantId as string;
  // Account state (SPEC §5.3, §15.2): a suspended partner's items all fail, even those with nothing to change.
  await assertPartnerMay(job.partnerTenantId, 'updateGdap');
  const template = await jobTemplate(context);
  let { tie, fresh } = await claimTie(template, customerTenantId, { jobId: job.id, itemId: item.id });
  for (let nameAttempt = 1; ; nameAttempt++) {
    const relationshipId = tie.value.relationshipId as string;
    // A tie made just now names a relationship that cannot exist yet.
    const existing = fresh ? undefined : await findRelationship(relationshipId);
    fresh = false;
    const status = existing?.value.status;
    if (existing && status === 'active') {
      const lacksRoles = templateRoleIds(template).some((id) => !existing.value.roleIds.includes(id));
      if (job.parameters.renew && lacksRoles) {
        // Roles cannot be added to an active relationship: a new one from the template replaces it.
        tie = await replaceTie(
          { ...tie.value, ...plannedRelationship(template), previousRelationshipId: relationshipId },
          tie.etag,
        );
        continue;
      }
      const warnings = await reconcileAssignments(template, existing.value, caller);
      if (tie.value.previousRelationshipId)
        await finishRenewal(job.partnerTenantId, customerTenantId, relationshipId, caller);
      return { state: 'completed', relationshipId, warnings };
    }
    if (status === 'approvalPending') return awaiting(job, relationshipId);
    if (status === 'created') {
      await lockForApproval(relationshipId, caller);
      return awaiting(job, relationshipId);
    }
    if (existing) {
      const previous = tie.value.previousRelationshipId;
      if (previous && (await findRelationship(previous))?.value.status === 'active') {
        // A renewal that did not come through (rejected, expired): the old relationship stays the customer's.
        tie = await replaceTie({ ...tie.value, relationshipId: previous, previousRelationshipId: null }, tie.etag);
        continue;
      }
      // Ended (rejected, expired, terminated): a new relationship is made, recorded first.
      tie = await replaceTie(
        { ...tie.value, ...plannedRelationship(template), previousRelationshipId: null },
        tie.etag,
      );
      continue;
    }
    const draft = relationshipFromTemplate(
      template,
      { id: relationshipId, customerTenantId, displayName: tie.value.relationshipName as string },
      caller.now,
    );
    try {
      if (await hasDap(job.partnerTenantId, customerTenantId)) {
        const warnings = await createActive(template, draft, caller);
        if (tie.value.previousRelationshipId)
          await finishRenewal(job.partnerTenantId, customerTenantId, relationshipId, caller);
        return { state: 'completed', relationshipId, warnings };
      }
      await createDecided(draft, caller);
    } catch (error) {
      const nameTaken = error instanceof DomainError && error.kind === 'conflict';
      // Made by another worker at the same moment: the loop continues with it.
      if (nameTaken && (await findRelationship(relationshipId))) continue;
      // Another of the partner's relationships has this name: another suffix (SPEC §15.2).
      if (nameTaken && nameAttempt < 3) {
        tie = await replaceTie({ ...tie.value, ...plannedRelationship(template) }, tie.etag);
        continue;
      }
      throw error;
    }
    await lockForApproval(relationshipId, caller);
    return awaiting(job, relationshipId);
  }
}

/**
 * Locks the item's relationship for the customer's approval. Refused because it is locked
 * already, it is what the item wanted: an earlier try of this item whose answer was lost (a
 * storage call that timed out, then landed) locked it, and the lock's own retry found it so.
 */
async function lockForApproval(relationshipId: string, caller: Caller): Promise<void> {
  try {
    await requestAction(relationshipId, 'lockForApproval', undefined, caller);
  } catch (error) {
    const refused = error instanceof DomainError && error.kind === 'invalid';
    if (!refused || (await findRelationship(relationshipId))?.value.status !== 'approvalPending') throw error;
  }
}

/** One customer of a reconcile job: its active relationship from the template follows the template. */
async function reconcileItem(context: ItemContext): Promise<ItemOutcome> {
  await assertPartnerMay(context.job.partnerTenantId, 'updateGdap');
  const template = await jobTemplate(context);
  const customerTenantId = context.item.customerTenantId as string;
  const tie = await findTie(context.job.partnerTenantId, customerTenantId);
  if (!tie || tie.value.templateId !== template.id) {
    throw notFound(`The customer '${customerTenantId}' is no longer assigned to this template.`);
  }
  const relationship = tie.value.relationshipId ? await findRelationship(tie.value.relationshipId) : undefined;
  if (!relationship || relationship.value.status !== 'active') {
    throw invalid(`The customer '${customerTenantId}' has no active relationship made from this template.`);
  }
  const warnings = await reconcileAssignments(template, relationship.value, context.caller);
  return { state: 'completed', relationshipId: relationship.value.id, warnings };
}

registerItemWorker('assignTemplate', assignItem);
registerItemWorker('reconcileTemplate', reconcileItem);

export interface RelationshipSettled extends SettledOnboarding {
  type: 'relationshipSettled';
  attempt?: number;
}

/**
 * The reaction to a template relationship leaving `approvalPending` (an outbox message of that
 * very change, SPEC §15.2 step 3): approved → the template's assignments, then `completed`;
 * rejected or expired → `failed` with the reason. Only the item still waiting on it is continued.
 */
export async function onRelationshipSettled(message: RelationshipSettled): Promise<void> {
  if (!message.customerTenantId) return;
  const tie = await findTie(message.partnerTenantId, message.customerTenantId);
  if (!tie || tie.value.relationshipId !== message.relationshipId || !tie.value.jobId || !tie.value.itemId) return;
  const continued = await continueItem(message.partnerTenantId, tie.value.jobId, tie.value.itemId, async (context) => {
    if (message.status === 'active') {
      const template = await jobTemplate(context);
      const warnings = await assignAfterApproval(template, message.relationshipId, context.caller);
      if (tie.value.previousRelationshipId) {
        await finishRenewal(
          message.partnerTenantId,
          message.customerTenantId as string,
          message.relationshipId,
          context.caller,
        );
      }
      return { state: 'completed', relationshipId: message.relationshipId, warnings };
    }
    const reason =
      message.status === 'expired'
        ? { code: 'expired', message: 'The customer did not approve the relationship within 90 days; it expired.' }
        : { code: 'rejected', message: 'The customer rejected the relationship.' };
    return { state: 'failed', relationshipId: message.relationshipId, error: reason };
  });
  // The customer answered before the item's own worker recorded that it waits: ask again shortly.
  const attempt = message.attempt ?? 1;
  if (continued === 'notYetAwaiting' && attempt < settledRetries) {
    await sendQueueMessage(gdapApprovalsQueue, { ...message, attempt: attempt + 1 }, { visibilityDelaySeconds: 5 });
  }
}

/** How often an approval waits for its item to be recorded as waiting (5 s apart). */
const settledRetries = 24;

/**
 * The follow-up a template relationship's answer leaves (domain/relationshipChanges.ts): it hands
 * the continuation to the `gdap-approvals` queue, right after the change is stored, or by this
 * job's timer after a crash in between. The queue's handler is idempotent.
 */
export const continueTemplateOnboarding = defineDueJob({
  id: jobIds.continueTemplateOnboarding,
  schedule: config().jobSchedules.continueTemplateOnboarding,
  handle: async (entry, run) => {
    // Right after the change, the entry says what it stored; after a crash, only the row can.
    const settled =
      run.afterCommit && entry.data ? (JSON.parse(entry.data) as SettledOnboarding) : await storedSettlement(entry);
    if (!settled) return undefined;
    const message: RelationshipSettled = { type: 'relationshipSettled', ...settled };
    await sendQueueMessage(gdapApprovalsQueue, message);
    return 'continued';
  },
});

async function storedSettlement(entry: DueEntry): Promise<SettledOnboarding | undefined> {
  const relationship = (await findRelationship(entry.subjectId))?.value;
  if (!relationship?.templateId || relationship.status === 'approvalPending') return undefined;
  return settledOnboarding(relationship);
}

/** A settlement message that failed every delivery: the item waiting on it fails with the reason. */
export async function onRelationshipSettledPoisoned(message: RelationshipSettled, reason: string): Promise<void> {
  if (!message.customerTenantId) return;
  const tie = await findTie(message.partnerTenantId, message.customerTenantId);
  if (!tie || tie.value.relationshipId !== message.relationshipId || !tie.value.jobId || !tie.value.itemId) return;
  await continueItem(message.partnerTenantId, tie.value.jobId, tie.value.itemId, async () => ({
    state: 'failed',
    relationshipId: message.relationshipId,
    error: { code: 'internalServerError', message: reason },
  }));
}

/** After a template's deletion: its customers' ties are removed (they are free already). */
export async function onTemplateDeleted(message: { partnerTenantId: string; templateId: string }): Promise<void> {
  if (await findTemplate(message.partnerTenantId, message.templateId)) return;
  await removeTiesOf(message.partnerTenantId, message.templateId);
}

export interface TemplateCustomerRow {
  customerTenantId: string;
  relationshipId?: string;
  relationshipStatus?: Relationship['status'];
  /** `pending` while the service is still making the customer's relationship (an addition to SPEC §15.3's three). */
  state: 'pending' | 'awaitingApproval' | 'active' | 'failed';
  endDateTime?: string;
  drift: Drift;
}

function skipTokenOf(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function afterOf(skipToken: string | undefined): string | undefined {
  if (skipToken === undefined) return undefined;
  try {
    const after = (JSON.parse(Buffer.from(skipToken, 'base64url').toString('utf8')) as { after?: unknown }).after;
    if (isGuid(after)) return after.toLowerCase();
  } catch {
    // answered below
  }
  throw invalid('Invalid $skipToken: use the @odata.nextLink returned by the previous page.');
}

/** GET …/customers (SPEC §15.3): one row per assigned customer, with its drift from the template. */
export async function templateCustomers(
  id: string,
  query: CollectionQuery,
  principal: Principal,
): Promise<{ rows: TemplateCustomerRow[]; skipToken?: string }> {
  const template = (await readTemplate(id, principal)).value;
  const { ties, more } = await tiePage(principal.tenantId, template.id, query.top, afterOf(query.skipToken));
  const rows = await Promise.all(
    ties.map(async ({ value: tie }): Promise<TemplateCustomerRow> => {
      const relationship = tie.relationshipId ? (await findRelationship(tie.relationshipId))?.value : undefined;
      if (!relationship) {
        return { customerTenantId: tie.customerTenantId, state: 'pending', drift: driftOf(template, undefined, []) };
      }
      const assignments = await listChildren(childKinds.assignment, relationship, assignmentFromRow);
      const status = relationship.status;
      return {
        customerTenantId: tie.customerTenantId,
        relationshipId: relationship.id,
        relationshipStatus: status,
        state:
          status === 'active'
            ? 'active'
            : status === 'approvalPending'
              ? 'awaitingApproval'
              : status === 'created'
                ? 'pending'
                : 'failed',
        ...(relationship.endDateTime ? { endDateTime: relationship.endDateTime } : {}),
        drift: driftOf(
          template,
          relationship,
          assignments.map((item) => item.value),
        ),
      };
    }),
  );
  const last = ties[ties.length - 1];
  return { rows, skipToken: more && last ? skipTokenOf(last.value.customerTenantId) : undefined };
}
