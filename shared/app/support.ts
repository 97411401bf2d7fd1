import { DateTime, Duration } from 'luxon';
import { config } from '../config';
import { DomainError, forbidden, notFound } from '../domain/errors';
import { newGuid } from '../domain/ids';
import { jobIds } from '../domain/jobs';
import { appRoles, hasAppRole, Principal } from '../domain/principal';
import {
  AccessApproval,
  AccessRequest,
  AccessRequestInput,
  approveAccessRequest,
  assertMayFile,
  assertMayManageApproval,
  assertMayRead,
  CaseChange,
  chooseEngineer,
  closeSupportRequest,
  diagnosticsBasis,
  DiagnosticsBasis,
  engineerFromBody,
  expireAccessRequest,
  grantsSupportTickets,
  hasExpertise,
  listedAt,
  newSupportRequest,
  openAccessRequest,
  rejectAccessRequest,
  removeApproval,
  ResourceTenantActor,
  SupportActor,
  SupportCase,
  SupportEngineer,
  SupportRequest,
  SupportRequestInput,
  supportRequestTenant,
  viewerOf,
} from '../domain/support';
import { planCaseChange, planNewSupportRequest, SupportChange } from '../domain/supportChanges';
import { Stored } from '../query/paging';
import { principalAccessTo } from '../store/access';
import {
  caseValue,
  commitSupportChange,
  findApproval,
  findEngineer,
  findSupportRequest,
  listEngineerRequestIds,
  listEngineers,
  listResourceApprovals,
  listTenantRequestIds,
  openRequestCount,
  readCase,
  readCaseOf,
  StoredCase,
  upsertEngineer,
} from '../store/support';
import { actingAs, actingAsSystem, Caller } from './caller';
import { decideAndCommit } from './commit';
import { defineDueJob } from './jobs';

/**
 * Use cases of support requests and Microsoft Support access requests (SPEC §8): each reads the
 * case, decides through the pure rules of shared/domain/support.ts, and stores the plan through
 * the one executor; a lost race is decided again on fresh state, so the answer reflects the winner
 * (e.g. "the request is closed").
 */

export const requestNotFound = (id: string) => notFound(`Support request '${id}' was not found.`);
export const accessRequestNotFound = (id: string) => notFound(`Access request '${id}' was not found.`);
export const approvalNotFound = (id: string) => notFound(`Approval '${id}' was not found.`);

export function actorOf(principal: Principal): SupportActor {
  return {
    tenantId: principal.tenantId,
    userId: principal.objectId,
    roleIds: principal.directoryRoleIds,
    isEngineer: hasAppRole(principal, appRoles.supportEngineer),
    email: principal.email,
  };
}

/**
 * Whether a user of the partner that filed `request` for its customer may still manage it: its
 * effective GDAP access to the customer must carry the support-ticket permission (DAP does not count).
 */
async function partnerMayManage(principal: Principal, request: SupportRequest): Promise<boolean> {
  const filedByCaller = request.createdBy.viaPartner && request.createdBy.tenantId === principal.tenantId;
  if (!filedByCaller || principal.tenantId === request.tenantId) return false;
  const access = await principalAccessTo(principal, request.tenantId);
  return access.mode === 'gdap' && grantsSupportTickets(access.roleIds);
}

/** Reads a case, decides with `decide` (pure: the case as read → what changes) and stores it. */
async function changeCase(
  caller: { initiatedBy: ReturnType<typeof actingAs>['initiatedBy']; at: string },
  read: () => Promise<StoredCase | undefined>,
  missing: () => DomainError,
  decide: (current: StoredCase, supportCase: SupportCase) => CaseChange | undefined,
): Promise<StoredCase | undefined> {
  return decideAndCommit({
    ...caller,
    read: async () => {
      const current = await read();
      if (!current) throw missing();
      return current;
    },
    decide: (current, context) => {
      const decided = decide(current, caseValue(current));
      const change = decided && planCaseChange(current, decided, context);
      if (!change || change.writes.length === 0) return { answer: () => current };
      return { change: { change, changeId: context.changeId, current }, answer: (stored) => stored };
    },
    commit: ({ change, changeId, current }: { change: SupportChange; changeId: string; current: StoredCase }) =>
      commitSupportChange(current, change, changeId),
  });
}

// ---------------------------------------------------------------------------------------------
// Support requests (SPEC §8.1)
// ---------------------------------------------------------------------------------------------

async function engineerFor(category: string): Promise<SupportEngineer | undefined> {
  const matching = (await listEngineers()).map((item) => item.value).filter((e) => hasExpertise(e, category));
  const loads = await Promise.all(
    matching.map(async (engineer) => ({ engineer, openRequests: await openRequestCount(engineer.id) })),
  );
  return chooseEngineer(loads, category);
}

export async function fileSupportRequest(input: SupportRequestInput, caller: Caller): Promise<Stored<SupportRequest>> {
  const actor = actorOf(caller.principal);
  const tenantId = supportRequestTenant(input, actor);
  const access = tenantId === actor.tenantId ? undefined : await principalAccessTo(caller.principal, tenantId);
  assertMayFile(actor, tenantId, access);
  const engineer = await engineerFor(input.category);
  const created = newSupportRequest(input, { id: newGuid(), tenantId, actor, engineer }, caller.now);
  const stored = await commitSupportChange(undefined, planNewSupportRequest(created), newGuid());
  return stored.request;
}

/** Support requests the caller may see: assigned (engineer), filed in its tenant, or filed by it for customers. */
export async function visibleRequests(principal: Principal): Promise<Stored<SupportRequest>[]> {
  const actor = actorOf(principal);
  const ids = new Set<string>();
  if (actor.isEngineer) (await listEngineerRequestIds(actor.userId)).forEach((id) => ids.add(id));
  (await listTenantRequestIds(actor.tenantId)).forEach((entry) => ids.add(entry.id));
  const found = await Promise.all([...ids].map((id) => findSupportRequest(id)));
  const partnerAccess = new Map<string, Promise<boolean>>();
  const visible: Stored<SupportRequest>[] = [];
  for (const stored of found) {
    if (!stored) continue;
    const request = stored.value;
    let mayManage = false;
    if (request.createdBy.viaPartner && request.createdBy.tenantId === actor.tenantId) {
      if (!partnerAccess.has(request.tenantId))
        partnerAccess.set(request.tenantId, partnerMayManage(principal, request));
      mayManage = await (partnerAccess.get(request.tenantId) as Promise<boolean>);
    }
    const viewer = viewerOf(request, actor, mayManage);
    if (viewer === 'engineer' || viewer === 'tenant' || viewer === 'requester') visible.push(stored);
  }
  return visible;
}

/** A support request the caller may read (404 for other tenants, 403 for the tenant's users without the permission). */
export async function readSupportRequest(id: string, principal: Principal): Promise<Stored<SupportRequest>> {
  const stored = await findSupportRequest(id);
  if (!stored) throw requestNotFound(id);
  assertMayRead(stored.value, actorOf(principal), await partnerMayManage(principal, stored.value));
  return stored;
}

/** Closing completes approvals and cancels pending access requests; a closed request is answered as is. */
export async function closeRequest(id: string, caller: Caller): Promise<Stored<SupportRequest>> {
  const actor = actorOf(caller.principal);
  let mayManage: boolean | undefined;
  const stored = await changeCase(
    actingAs(caller),
    async () => {
      const current = await readCase(id);
      if (current) mayManage ??= await partnerMayManage(caller.principal, current.request.value);
      return current;
    },
    () => requestNotFound(id),
    (_current, supportCase) => closeSupportRequest(supportCase, actor, caller.now, mayManage),
  );
  return (stored as StoredCase).request;
}

/** On what grounds the assigned engineer may read a tenant's diagnostic data now (SPEC §8.4). */
export async function diagnosticsAccess(
  supportRequestId: string,
  tenantId: string,
  principal: Principal,
): Promise<{ request: SupportRequest; basis: DiagnosticsBasis }> {
  const stored = await readCase(supportRequestId);
  if (!stored) throw requestNotFound(supportRequestId);
  const actor = actorOf(principal);
  // Whoever may not know the request exists hears it does not (SPEC §1): the same 404 as a missing one.
  const viewer = viewerOf(stored.request.value, actor, await partnerMayManage(principal, stored.request.value));
  if (viewer === 'none') throw requestNotFound(supportRequestId);
  return { request: stored.request.value, basis: diagnosticsBasis(caseValue(stored), tenantId, actor) };
}

// ---------------------------------------------------------------------------------------------
// Access requests (SPEC §8.3)
// ---------------------------------------------------------------------------------------------

function pendingExpiry(): Duration {
  return Duration.fromISO(config().supportAccessRequestPendingExpiry);
}

function accessRequestIn(stored: StoredCase | undefined, id: string): Stored<AccessRequest> {
  const found = stored?.accessRequests.find((item) => item.value.id === id.toLowerCase());
  if (!found) throw accessRequestNotFound(id);
  return found;
}

/** Only engineers ask for access; anyone else is refused before anything else is looked at. */
export function requireEngineer(principal: Principal): void {
  if (!actorOf(principal).isEngineer) {
    throw forbidden('Only the assigned Microsoft Support engineer (app role SupportEngineer) creates access requests.');
  }
}

export async function openAccess(input: AccessRequestInput, caller: Caller): Promise<Stored<AccessRequest>> {
  requireEngineer(caller.principal);
  const actor = actorOf(caller.principal);
  const guid = newGuid();
  let openedId = '';
  const stored = await changeCase(
    actingAs(caller),
    () => readCase(input.supportRequestId),
    () => requestNotFound(input.supportRequestId),
    (_current, supportCase) => {
      const decided = openAccessRequest(
        supportCase,
        input,
        actor,
        { guid, pendingExpiry: pendingExpiry() },
        caller.now,
      );
      openedId = decided.accessRequests[0].id;
      return decided;
    },
  );
  return accessRequestIn(stored, openedId);
}

/** Access requests of every support request the caller may see, still within their listing period. */
export async function visibleAccessRequests(principal: Principal, now: DateTime): Promise<Stored<AccessRequest>[]> {
  const requests = await visibleRequests(principal);
  const found = await Promise.all(requests.map((item) => readCase(item.value.id)));
  return found
    .flatMap((stored) => stored?.accessRequests ?? [])
    .filter((item) => listedAt(item.value.endedDateTime, now));
}

export async function readAccessRequest(id: string, principal: Principal): Promise<Stored<AccessRequest>> {
  const stored = await readCaseOf(id);
  const item = accessRequestIn(stored, id);
  const supportRequest = (stored as StoredCase).request.value;
  try {
    assertMayRead(supportRequest, actorOf(principal), await partnerMayManage(principal, supportRequest));
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'notFound') throw accessRequestNotFound(id);
    throw error;
  }
  return item;
}

/** Approve (with the resource tenant's token of the same person) or reject a pending access request. */
export async function decideAccess(
  id: string,
  action: 'approve' | 'reject',
  resourceActor: ResourceTenantActor,
  caller: Caller,
): Promise<Stored<AccessRequest>> {
  const actor = actorOf(caller.principal);
  const stored = await changeCase(
    actingAs(caller),
    () => readCaseOf(id),
    () => accessRequestNotFound(id),
    (_current, supportCase) =>
      action === 'approve'
        ? approveAccessRequest(supportCase, id, actor, resourceActor, caller.now)
        : rejectAccessRequest(supportCase, id, actor, caller.now),
  );
  return accessRequestIn(stored, id);
}

// ---------------------------------------------------------------------------------------------
// Approvals: resource tenant only (SPEC §8.3)
// ---------------------------------------------------------------------------------------------

export async function visibleApprovals(principal: Principal, now: DateTime): Promise<Stored<AccessApproval>[]> {
  if (!grantsSupportTickets(principal.directoryRoleIds)) {
    throw forbidden(
      'Reading Microsoft Support access approvals needs a directory role with the support-ticket permission in this tenant.',
    );
  }
  return (await listResourceApprovals(principal.tenantId)).filter((item) => listedAt(item.value.endedDateTime, now));
}

export async function readApproval(id: string, principal: Principal): Promise<Stored<AccessApproval>> {
  const stored = await findApproval(id);
  if (!stored) throw approvalNotFound(id);
  assertMayManageApproval(stored.value, actorOf(principal));
  return stored;
}

export async function removeApprovalOf(id: string, caller: Caller): Promise<Stored<AccessApproval>> {
  const actor = actorOf(caller.principal);
  const stored = await changeCase(
    actingAs(caller),
    () => readCaseOf(id),
    () => approvalNotFound(id),
    (_current, supportCase) => removeApproval(supportCase, id, actor, caller.now),
  );
  const approval = stored?.approvals.find((item) => item.value.id === id.toLowerCase());
  if (!approval) throw approvalNotFound(id);
  return approval;
}

// ---------------------------------------------------------------------------------------------
// Engineers (ServiceOperator, and the sandbox seed route)
// ---------------------------------------------------------------------------------------------

export function requireServiceOperator(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.serviceOperator)) {
    throw forbidden('Managing support engineers requires the ServiceOperator role.');
  }
}

export interface EngineerWithLoad {
  stored: Stored<SupportEngineer>;
  openRequests: number;
  created: boolean;
}

export async function putEngineer(id: string, body: unknown, now: DateTime): Promise<EngineerWithLoad> {
  const previous = await findEngineer(id);
  const engineer = engineerFromBody(body, id, now, previous?.value, config().supportTenantId);
  const stored = await upsertEngineer(engineer);
  return { stored, openRequests: await openRequestCount(engineer.id), created: !previous };
}

export async function readEngineer(id: string): Promise<EngineerWithLoad> {
  const stored = await findEngineer(id);
  if (!stored) throw notFound(`Support engineer '${id}' was not found.`);
  return { stored, openRequests: await openRequestCount(stored.value.id), created: false };
}

export async function engineersWithLoad(): Promise<EngineerWithLoad[]> {
  return Promise.all(
    (await listEngineers()).map(async (stored) => ({
      stored,
      openRequests: await openRequestCount(stored.value.id),
      created: false,
    })),
  );
}

// ---------------------------------------------------------------------------------------------
// Job: expire pending access requests (SPEC §4, §8.3)
// ---------------------------------------------------------------------------------------------

/** A pending request past its expiration becomes `expired`; its due entry goes only after that is stored. */
export const expireSupportAccessRequests = defineDueJob({
  id: jobIds.expireSupportAccessRequests,
  schedule: config().jobSchedules.expireSupportAccessRequests,
  outcomes: ['expired'],
  handle: async (entry, run) => {
    let expired = false;
    await changeCase(
      actingAsSystem(run.now),
      () => readCaseOf(entry.subjectId),
      // An entry whose access request was never stored has nothing to do.
      () => new DomainError('notFound', 'gone'),
      (_current, supportCase) => {
        const decided = expireAccessRequest(supportCase, entry.subjectId, run.now);
        expired = decided !== undefined;
        return decided;
      },
    ).catch((error: unknown) => {
      if (!(error instanceof DomainError && error.kind === 'notFound')) throw error;
    });
    return expired ? 'expired' : undefined;
  },
});
