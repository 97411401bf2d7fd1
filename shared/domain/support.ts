/**
 * Support requests and Microsoft Support access requests (SPEC §8): pure rules. A support request
 * and everything hanging off it (access requests, approvals) form one *case*; every command takes
 * the case as read, the caller's facts from the token and `now`, and returns the rows to store and
 * the audit entries to publish. No I/O, no clock reads, permissions only through the role catalog.
 */
import { DateTime, Duration } from 'luxon';
import { z } from 'zod';
import { accessRequestContract, readOnlyOnCreate, supportRequestContract } from './contracts';
import { conflict, forbidden, invalid, notFound } from './errors';
import { AuditEntry, eventId, Initiator } from './events';
import { isGuid } from './ids';
import { rolesGrantPermission, supportTicketsPermission } from './roles';
import { parseBody } from './schema';
import { fromGraphDateTime, toGraphDateTime } from './time';

export const supportRequestStatuses = ['open', 'closed'] as const;
export type SupportRequestStatus = (typeof supportRequestStatuses)[number];
export const accessRequestStatuses = ['pending', 'approved', 'rejected', 'canceled', 'expired', 'completed'] as const;
export type AccessRequestStatus = (typeof accessRequestStatuses)[number];
export const approvalStatuses = ['approved', 'removed', 'completed'] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];

/** Ended access requests and approvals stay listed this long (SPEC §8.3). */
export const endedListingDays = 30;
/** Pending or approved access requests one support request may have at once (keeps a close in one transaction). */
export const maxLiveAccessRequests = 20;

export const supportAuditCategory = 'MicrosoftSupportAccessManagement';
/** Activity names of SPEC §8.5, plus the three end states it does not name (expiry and completion). */
export const supportActivities = {
  requestCreated: 'Request created',
  requestApproved: 'Request approved',
  requestRejected: 'Request rejected',
  requestCanceled: 'Request canceled',
  approvalApproved: 'Approval approved',
  approvalRemoved: 'Approval removed',
  requestExpired: 'Request expired',
  requestCompleted: 'Request completed',
  approvalCompleted: 'Approval completed',
} as const;

/**
 * A support engineer as other records name them: identified by tenant and object id together
 * (SPEC §1), never by object id alone. `tenantId` null: any tenant's (a sandbox engineer
 * registered without one, where no SUPPORT_TENANT_ID is set).
 */
export interface EngineerRef {
  id: string;
  tenantId: string | null;
  displayName: string;
}

/** Whether the caller is the engineer a record names: the SupportEngineer app role, and the same (tid, oid). */
export function isEngineer(ref: EngineerRef | null | undefined, actor: SupportActor): boolean {
  return (
    actor.isEngineer &&
    ref !== null &&
    ref !== undefined &&
    ref.id === actor.userId &&
    (ref.tenantId === null || ref.tenantId === undefined || ref.tenantId === actor.tenantId)
  );
}

/** A Microsoft Support engineer, managed by ServiceOperator (SPEC §8.1). */
export interface SupportEngineer extends EngineerRef {
  expertise: string[];
  createdDateTime: string;
  lastModifiedDateTime: string;
}

export interface SupportRequest {
  id: string;
  /** The support request tenant: where it was filed, or the customer a partner filed it for. */
  tenantId: string;
  title: string;
  description: string;
  category: string;
  /** Where the problem occurs, when the requester knows it is another tenant. */
  resourceTenantId: string | null;
  allowAdvancedDiagnostics: boolean;
  status: SupportRequestStatus;
  assignedEngineer: EngineerRef | null;
  /** Who filed it; `viaPartner` when a partner user filed it for a customer under GDAP. */
  createdBy: { tenantId: string; userId: string; viaPartner: boolean };
  createdDateTime: string;
  lastModifiedDateTime: string;
  closedDateTime: string | null;
}

export interface AccessRequest {
  id: string;
  supportRequestId: string;
  supportRequestTenantId: string;
  resourceTenantId: string;
  justification: string;
  requestedBy: EngineerRef;
  status: AccessRequestStatus;
  createdDateTime: string;
  lastModifiedDateTime: string;
  /** A pending request expires at this moment (SPEC §8.3). */
  expirationDateTime: string;
  /** When it left `pending`/`approved` for good; drives the 30-day listing. */
  endedDateTime: string | null;
  /** Internal link to the approval, never shown to the support request tenant. */
  approvalId: string | null;
}

/** The resource tenant's record of an approved access request; visible only there. */
export interface AccessApproval {
  id: string;
  accessRequestId: string;
  supportRequestId: string;
  supportRequestTenantId: string;
  resourceTenantId: string;
  justification: string;
  engineer: EngineerRef;
  status: ApprovalStatus;
  /** The approver's identity in the resource tenant. */
  approvedBy: { userId: string; email: string };
  removedBy: { userId: string } | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  endedDateTime: string | null;
}

/** A support request with its access requests and approvals, as read together. */
export interface SupportCase {
  request: SupportRequest;
  accessRequests: AccessRequest[];
  approvals: AccessApproval[];
}

/** Rows a command changed or created, and what it tells the audit logs. */
export interface CaseChange {
  request?: SupportRequest;
  /** The command relies on the support request row being unchanged (e.g. still open). */
  requireRequestUnchanged?: boolean;
  accessRequests: AccessRequest[];
  approvals: AccessApproval[];
  audits: AuditEntry[];
}

/** The caller, from token claims only. */
export interface SupportActor {
  tenantId: string;
  userId: string;
  /** Directory role template ids (`wids`) in `tenantId`. */
  roleIds: readonly string[];
  isEngineer: boolean;
  email?: string;
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

/** "May manage support tickets": decided by the role catalog's permissions, never by role names. */
export function grantsSupportTickets(roleIds: Iterable<string>): boolean {
  return rolesGrantPermission(roleIds, supportTicketsPermission);
}

const permissionHint = `a directory role with the permission '${supportTicketsPermission}' (Service Support Administrator is the least-privileged)`;

/** What a partner user's effective access to the customer is, from shared/domain/access.ts. */
export interface PartnerAccess {
  mode: 'gdap' | 'dap' | 'none';
  roleIds: readonly string[];
}

/**
 * May `actor` file a support request in `tenantId`? In its own tenant it needs the permission in
 * its `wids`; for a customer it needs effective GDAP access whose roles carry it (DAP does not count).
 */
export function assertMayFile(actor: SupportActor, tenantId: string, partnerAccess?: PartnerAccess): void {
  if (tenantId === actor.tenantId) {
    if (!grantsSupportTickets(actor.roleIds)) {
      throw forbidden(`Filing a support request needs ${permissionHint} in this tenant.`);
    }
    return;
  }
  const access = partnerAccess ?? { mode: 'none', roleIds: [] };
  if (access.mode === 'none') {
    throw forbidden(
      `You have no GDAP access to customer ${tenantId}: filing support requests for a customer needs an active GDAP relationship whose access assignment to one of your security groups includes ${permissionHint}.`,
    );
  }
  if (access.mode === 'dap') {
    throw forbidden(
      `Filing support requests for customer ${tenantId} needs GDAP: delegated admin privileges (DAP) do not count. Ask the customer for a GDAP relationship including ${permissionHint}.`,
    );
  }
  if (!grantsSupportTickets(access.roleIds)) {
    throw forbidden(
      `Your GDAP roles for customer ${tenantId} do not allow filing support requests: an access assignment with ${permissionHint} is needed.`,
    );
  }
}

/** How a caller relates to a support request; `none` means it must look like it does not exist. */
export type CaseViewer = 'engineer' | 'tenant' | 'requester' | 'tenantWithoutPermission' | 'none';

/**
 * `partnerMayManage`: the caller is a user of the partner that filed the request and its effective
 * GDAP access to the customer still carries the support-ticket permission (the store checks that).
 */
export function viewerOf(request: SupportRequest, actor: SupportActor, partnerMayManage = false): CaseViewer {
  if (isEngineer(request.assignedEngineer, actor)) return 'engineer';
  if (actor.tenantId === request.tenantId) {
    if (grantsSupportTickets(actor.roleIds)) return 'tenant';
    if (request.createdBy.userId === actor.userId && request.createdBy.tenantId === actor.tenantId) return 'requester';
    return 'tenantWithoutPermission';
  }
  if (request.createdBy.viaPartner && request.createdBy.tenantId === actor.tenantId && partnerMayManage) {
    return 'requester';
  }
  return 'none';
}

/** Throws unless the caller may read the case: other tenants get 404, the tenant's other users 403. */
export function assertMayRead(request: SupportRequest, actor: SupportActor, partnerMayManage = false): CaseViewer {
  const viewer = viewerOf(request, actor, partnerMayManage);
  if (viewer === 'none') throw notFound(`Support request '${request.id}' was not found.`);
  if (viewer === 'tenantWithoutPermission') {
    throw forbidden(`Managing support requests and their access requests needs ${permissionHint}.`);
  }
  return viewer;
}

// ---------------------------------------------------------------------------------------------
// Engineers
// ---------------------------------------------------------------------------------------------

const engineerSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(256),
  /** The engineer's home tenant; SUPPORT_TENANT_ID when omitted. */
  tenantId: z.string().refine(isGuid, 'must be a tenant id (GUID)').optional(),
  expertise: z.array(z.string().trim().min(1).max(100)).min(1).max(50),
});

/** A new or updated engineer from a ServiceOperator or sandbox body. */
export function engineerFromBody(
  body: unknown,
  id: string,
  now: DateTime,
  previous?: SupportEngineer,
  supportTenantId?: string,
): SupportEngineer {
  if (!isGuid(id)) throw invalid(`The engineer id must be the engineer's object id (a GUID), not '${id}'.`);
  const input = parseBody(engineerSchema, body, ['id', 'createdDateTime', 'lastModifiedDateTime']);
  const seen = new Set<string>();
  const expertise = input.expertise.filter((area) => {
    const key = area.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const at = toGraphDateTime(now);
  return {
    id: id.toLowerCase(),
    tenantId: input.tenantId?.toLowerCase() ?? supportTenantId ?? null,
    displayName: input.displayName,
    expertise,
    createdDateTime: previous?.createdDateTime ?? at,
    lastModifiedDateTime: at,
  };
}

/** An engineer and how many open support requests are assigned to them. */
export interface EngineerLoad {
  engineer: SupportEngineer;
  openRequests: number;
}

export function hasExpertise(engineer: SupportEngineer, category: string): boolean {
  const wanted = category.trim().toLowerCase();
  return engineer.expertise.some((area) => area.toLowerCase() === wanted);
}

/** Matching expertise, least loaded first; ties go to the lowest id so the choice is deterministic. */
export function chooseEngineer(candidates: readonly EngineerLoad[], category: string): SupportEngineer | undefined {
  return candidates
    .filter((candidate) => hasExpertise(candidate.engineer, category))
    .sort((a, b) => a.openRequests - b.openRequests || (a.engineer.id < b.engineer.id ? -1 : 1))[0]?.engineer;
}

// ---------------------------------------------------------------------------------------------
// Support requests (SPEC §8.1)
// ---------------------------------------------------------------------------------------------

const guid = (what: string) => z.string().refine(isGuid, `must be a ${what} (GUID)`);

const supportRequestSchema = z.strictObject({
  title: z.string().trim().min(1).max(200),
  description: z.string().trim().min(1).max(10000),
  category: z.string().trim().min(1).max(100),
  resourceTenantId: guid('tenant id').nullable().optional(),
  allowAdvancedDiagnostics: z.boolean(),
  customerTenantId: guid('tenant id').optional(),
});
export type SupportRequestInput = z.infer<typeof supportRequestSchema>;

const supportRequestReadOnly = readOnlyOnCreate(supportRequestContract);

export function parseSupportRequestInput(body: unknown): SupportRequestInput {
  return parseBody(supportRequestSchema, body, supportRequestReadOnly);
}

/** The tenant a request is filed in: the caller's own, or the customer a partner names. */
export function supportRequestTenant(input: SupportRequestInput, actor: SupportActor): string {
  return (input.customerTenantId ?? actor.tenantId).toLowerCase();
}

export function newSupportRequest(
  input: SupportRequestInput,
  context: { id: string; tenantId: string; actor: SupportActor; engineer: SupportEngineer | undefined },
  now: DateTime,
): SupportRequest {
  const at = toGraphDateTime(now);
  const { actor, tenantId, engineer } = context;
  return {
    id: context.id,
    tenantId,
    title: input.title,
    description: input.description,
    category: input.category,
    resourceTenantId: input.resourceTenantId?.toLowerCase() ?? null,
    allowAdvancedDiagnostics: input.allowAdvancedDiagnostics,
    status: 'open',
    assignedEngineer: engineer
      ? { id: engineer.id, tenantId: engineer.tenantId ?? null, displayName: engineer.displayName }
      : null,
    createdBy: { tenantId: actor.tenantId, userId: actor.userId, viaPartner: actor.tenantId !== tenantId },
    createdDateTime: at,
    lastModifiedDateTime: at,
    closedDateTime: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Ids: access requests and approvals carry their support request's id, so one read finds them.
// ---------------------------------------------------------------------------------------------

const compositeIdPattern =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** `{guid}-{supportRequestId}`, like relationship ids carry their partner. */
export function childIdOf(guidPart: string, supportRequestId: string): string {
  return `${guidPart.toLowerCase()}-${supportRequestId.toLowerCase()}`;
}

export function supportRequestOf(childId: string): string | undefined {
  return compositeIdPattern.exec(childId)?.[2]?.toLowerCase();
}

/** One access request has at most one approval, so its id is derived: a retried approval reuses it. */
export function approvalIdFor(accessRequest: AccessRequest): string {
  return childIdOf(eventId('approval', accessRequest.id), accessRequest.supportRequestId);
}

// ---------------------------------------------------------------------------------------------
// Audit (SPEC §8.5): each entry only in the tenant entitled to it
// ---------------------------------------------------------------------------------------------

function engineerInitiator(actor: SupportActor): Initiator {
  return { kind: 'user', tenantId: actor.tenantId, userId: actor.userId };
}

const systemInitiator: Initiator = { kind: 'system' };

function clip(text: string, length = 100): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function accessRequestAudit(
  tenantId: string,
  activity: string,
  accessRequest: AccessRequest,
  previousStatus: AccessRequestStatus | null,
  initiatedBy: Initiator,
  at: string,
): AuditEntry {
  return {
    id: eventId(
      'audit',
      tenantId,
      activity,
      accessRequest.id,
      accessRequest.status,
      accessRequest.lastModifiedDateTime,
    ),
    tenantId,
    activityDateTime: at,
    activityDisplayName: activity,
    category: supportAuditCategory,
    operationType: previousStatus === null ? 'Add' : 'Update',
    result: 'success',
    initiatedBy,
    target: { id: accessRequest.id, displayName: clip(accessRequest.justification), type: 'SupportAccessRequest' },
    modifiedProperties: [
      { displayName: 'status', oldValue: previousStatus, newValue: accessRequest.status },
      ...(previousStatus === null
        ? [
            { displayName: 'supportRequestId', oldValue: null, newValue: accessRequest.supportRequestId },
            { displayName: 'resourceTenantId', oldValue: null, newValue: accessRequest.resourceTenantId },
          ]
        : []),
    ],
  };
}

function approvalAudit(
  activity: string,
  approval: AccessApproval,
  previousStatus: ApprovalStatus | null,
  initiatedBy: Initiator,
  at: string,
): AuditEntry {
  const tenantId = approval.resourceTenantId;
  return {
    id: eventId('audit', tenantId, activity, approval.id, approval.status, approval.lastModifiedDateTime),
    tenantId,
    activityDateTime: at,
    activityDisplayName: activity,
    category: supportAuditCategory,
    operationType: previousStatus === null ? 'Add' : 'Update',
    result: 'success',
    initiatedBy,
    target: { id: approval.id, displayName: clip(approval.justification), type: 'SupportAccessApproval' },
    modifiedProperties: [{ displayName: 'status', oldValue: previousStatus, newValue: approval.status }],
  };
}

// ---------------------------------------------------------------------------------------------
// Access requests (SPEC §8.3)
// ---------------------------------------------------------------------------------------------

const accessRequestSchema = z.strictObject({
  supportRequestId: guid('support request id'),
  resourceTenantId: guid('tenant id'),
  justification: z.string().trim().min(1).max(1000),
});
export type AccessRequestInput = z.infer<typeof accessRequestSchema>;

export function parseAccessRequestInput(body: unknown): AccessRequestInput {
  return parseBody(accessRequestSchema, body, readOnlyOnCreate(accessRequestContract));
}

export const isLive = (accessRequest: AccessRequest): boolean =>
  accessRequest.status === 'pending' || accessRequest.status === 'approved';

/**
 * Whether an access request still stands: pending, or approved with its approval in force. One
 * whose approval the resource tenant removed still shows `approved` to the support request tenant
 * (privacy, SPEC §8.3), but no longer stands in the way of asking again.
 */
function grantsAccess(supportCase: SupportCase, accessRequest: AccessRequest): boolean {
  if (accessRequest.status === 'pending') return true;
  if (accessRequest.status !== 'approved') return false;
  const approval = supportCase.approvals.find((item) => item.id === accessRequest.approvalId);
  return approval?.status !== 'removed';
}

function assertOpen(request: SupportRequest): void {
  if (request.status !== 'open') {
    throw invalid(`Support request '${request.id}' is closed: its access requests cannot change any more.`);
  }
}

/** Only the assigned engineer works a request; to any other engineer it does not exist. */
function assertAssignedEngineer(request: SupportRequest, actor: SupportActor): void {
  if (!actor.isEngineer)
    throw forbidden('Only the assigned Microsoft Support engineer (app role SupportEngineer) may do this.');
  if (!isEngineer(request.assignedEngineer, actor)) throw notFound(`Support request '${request.id}' was not found.`);
}

/** The assigned engineer asks for read access to a tenant's identity diagnostic data. */
export function openAccessRequest(
  supportCase: SupportCase,
  input: AccessRequestInput,
  actor: SupportActor,
  context: { guid: string; pendingExpiry: Duration },
  now: DateTime,
): CaseChange {
  const { request } = supportCase;
  assertAssignedEngineer(request, actor);
  assertOpen(request);
  const resourceTenantId = input.resourceTenantId.toLowerCase();
  if (resourceTenantId === request.tenantId && request.allowAdvancedDiagnostics) {
    throw invalid(
      'No access request is needed: advanced diagnostics are allowed on this support request, so its tenant can already be read.',
    );
  }
  const live = supportCase.accessRequests.filter((item) => grantsAccess(supportCase, item));
  if (live.some((other) => other.resourceTenantId === resourceTenantId)) {
    throw conflict(
      `An access request for tenant ${resourceTenantId} is already pending or approved on this support request.`,
    );
  }
  if (live.length >= maxLiveAccessRequests) {
    throw invalid(`A support request can have at most ${maxLiveAccessRequests} pending or approved access requests.`);
  }
  const at = toGraphDateTime(now);
  const accessRequest: AccessRequest = {
    id: childIdOf(context.guid, request.id),
    supportRequestId: request.id,
    supportRequestTenantId: request.tenantId,
    resourceTenantId,
    justification: input.justification,
    requestedBy: request.assignedEngineer as EngineerRef,
    status: 'pending',
    createdDateTime: at,
    lastModifiedDateTime: at,
    expirationDateTime: toGraphDateTime(now.plus(context.pendingExpiry)),
    endedDateTime: null,
    approvalId: null,
  };
  return {
    requireRequestUnchanged: true,
    accessRequests: [accessRequest],
    approvals: [],
    audits: [
      accessRequestAudit(
        request.tenantId,
        supportActivities.requestCreated,
        accessRequest,
        null,
        engineerInitiator(actor),
        at,
      ),
    ],
  };
}

function findAccessRequest(supportCase: SupportCase, id: string): AccessRequest {
  const found = supportCase.accessRequests.find((item) => item.id === id.toLowerCase());
  if (!found) throw notFound(`Access request '${id}' was not found.`);
  return found;
}

/** Pending and still within its window: the only state an approval or rejection applies to. */
function assertDecidable(accessRequest: AccessRequest, now: DateTime): void {
  if (accessRequest.status !== 'pending') {
    throw invalid(
      `The access request is '${accessRequest.status}': only a pending request can be approved or rejected.`,
    );
  }
  if (now >= fromGraphDateTime(accessRequest.expirationDateTime)) {
    throw invalid(`The access request expired at ${accessRequest.expirationDateTime}: the engineer must ask again.`);
  }
}

/** Request-tenant side of managing an access request: that tenant's user with the permission. */
function assertRequestTenantManager(request: SupportRequest, actor: SupportActor, accessRequestId: string): void {
  if (actor.tenantId !== request.tenantId) {
    if (isEngineer(request.assignedEngineer, actor)) {
      throw forbidden('Engineers cannot decide on their own access requests: an administrator of the tenants must.');
    }
    throw notFound(`Access request '${accessRequestId}' was not found.`);
  }
  if (!grantsSupportTickets(actor.roleIds)) {
    throw forbidden(
      `Managing Microsoft Support access requests needs ${permissionHint} in the support request tenant.`,
    );
  }
}

/**
 * The second identity of the approver, from the X-Resource-Tenant-Authorization token. `undefined`
 * when the header was not sent.
 */
export type ResourceTenantActor = SupportActor | undefined;

/**
 * One administrator of both tenants approves (SPEC §8.3): the caller's token from the support
 * request tenant and a token of the same person (same e-mail) from the resource tenant, both with
 * the support-ticket permission. When both tenants are one, the caller's token suffices.
 */
export function approveAccessRequest(
  supportCase: SupportCase,
  accessRequestId: string,
  actor: SupportActor,
  resourceActor: ResourceTenantActor,
  now: DateTime,
): CaseChange {
  const { request } = supportCase;
  const accessRequest = findAccessRequest(supportCase, accessRequestId);
  assertRequestTenantManager(request, actor, accessRequestId);
  const approver = resourceApprover(accessRequest, actor, resourceActor);
  assertDecidable(accessRequest, now);
  assertOpen(request);
  const at = toGraphDateTime(now);
  const approvalId = approvalIdFor(accessRequest);
  const approved: AccessRequest = { ...accessRequest, status: 'approved', lastModifiedDateTime: at, approvalId };
  const approval: AccessApproval = {
    id: approvalId,
    accessRequestId: accessRequest.id,
    supportRequestId: request.id,
    supportRequestTenantId: request.tenantId,
    resourceTenantId: accessRequest.resourceTenantId,
    justification: accessRequest.justification,
    engineer: accessRequest.requestedBy,
    status: 'approved',
    approvedBy: { userId: approver.userId, email: approver.email ?? '' },
    removedBy: null,
    createdDateTime: at,
    lastModifiedDateTime: at,
    endedDateTime: null,
  };
  const requestTenantUser: Initiator = { kind: 'user', tenantId: actor.tenantId, userId: actor.userId };
  const resourceTenantUser: Initiator = { kind: 'user', tenantId: approver.tenantId, userId: approver.userId };
  return {
    requireRequestUnchanged: true,
    accessRequests: [approved],
    approvals: [approval],
    audits: [
      accessRequestAudit(
        request.tenantId,
        supportActivities.requestApproved,
        approved,
        'pending',
        requestTenantUser,
        at,
      ),
      approvalAudit(supportActivities.approvalApproved, approval, null, resourceTenantUser, at),
    ],
  };
}

/** Checks the resource-tenant identity of an approval and returns it. */
function resourceApprover(
  accessRequest: AccessRequest,
  actor: SupportActor,
  resourceActor: ResourceTenantActor,
): SupportActor {
  const sameTenant = accessRequest.resourceTenantId === accessRequest.supportRequestTenantId;
  if (!resourceActor) {
    if (sameTenant) return actor;
    throw forbidden(
      `Approving needs an administrator of both tenants: send a token of the same person from the resource tenant ${accessRequest.resourceTenantId} in the X-Resource-Tenant-Authorization header.`,
    );
  }
  if (resourceActor.tenantId !== accessRequest.resourceTenantId) {
    throw forbidden(
      `The X-Resource-Tenant-Authorization token is from tenant ${resourceActor.tenantId}, not from the resource tenant ${accessRequest.resourceTenantId}.`,
    );
  }
  if (!actor.email || !resourceActor.email || actor.email.toLowerCase() !== resourceActor.email.toLowerCase()) {
    throw forbidden(
      "Approving needs one administrator of both tenants: the two tokens must carry the same person's 'email' claim.",
    );
  }
  if (!grantsSupportTickets(resourceActor.roleIds)) {
    throw forbidden(`The approver needs ${permissionHint} in the resource tenant as well.`);
  }
  return resourceActor;
}

/** The support request tenant refuses an access request (no second token needed: nothing is granted). */
export function rejectAccessRequest(
  supportCase: SupportCase,
  accessRequestId: string,
  actor: SupportActor,
  now: DateTime,
): CaseChange {
  const { request } = supportCase;
  const accessRequest = findAccessRequest(supportCase, accessRequestId);
  assertRequestTenantManager(request, actor, accessRequestId);
  assertDecidable(accessRequest, now);
  const at = toGraphDateTime(now);
  const rejected: AccessRequest = { ...accessRequest, status: 'rejected', lastModifiedDateTime: at, endedDateTime: at };
  const initiator: Initiator = { kind: 'user', tenantId: actor.tenantId, userId: actor.userId };
  return {
    accessRequests: [rejected],
    approvals: [],
    audits: [
      accessRequestAudit(request.tenantId, supportActivities.requestRejected, rejected, 'pending', initiator, at),
    ],
  };
}

/** A pending request past its expiration time becomes `expired` (timer); otherwise nothing to do. */
export function expireAccessRequest(
  supportCase: SupportCase,
  accessRequestId: string,
  now: DateTime,
): CaseChange | undefined {
  const accessRequest = supportCase.accessRequests.find((item) => item.id === accessRequestId);
  if (!accessRequest || accessRequest.status !== 'pending') return undefined;
  if (now < fromGraphDateTime(accessRequest.expirationDateTime)) return undefined;
  const at = toGraphDateTime(now);
  const expired: AccessRequest = { ...accessRequest, status: 'expired', lastModifiedDateTime: at, endedDateTime: at };
  return {
    accessRequests: [expired],
    approvals: [],
    audits: [
      accessRequestAudit(
        supportCase.request.tenantId,
        supportActivities.requestExpired,
        expired,
        'pending',
        systemInitiator,
        at,
      ),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Approvals: the resource tenant's side
// ---------------------------------------------------------------------------------------------

/** Throws unless the caller is a user of the approval's resource tenant with the permission. */
export function assertMayManageApproval(approval: AccessApproval, actor: SupportActor): void {
  if (isEngineer(approval.engineer, actor) && actor.tenantId !== approval.resourceTenantId) {
    throw forbidden(
      "Engineers cannot manage approvals of their own access: only the resource tenant's administrators can.",
    );
  }
  if (actor.tenantId !== approval.resourceTenantId) throw notFound(`Approval '${approval.id}' was not found.`);
  if (!grantsSupportTickets(actor.roleIds)) {
    throw forbidden(`Managing Microsoft Support access approvals needs ${permissionHint} in this tenant.`);
  }
}

/**
 * A resource tenant admin removes an approval. Only the approval changes: the access request the
 * support request tenant sees stays `approved` (privacy, SPEC §8.3), and its audit entry goes to
 * the resource tenant only.
 */
export function removeApproval(
  supportCase: SupportCase,
  approvalId: string,
  actor: SupportActor,
  now: DateTime,
): CaseChange {
  const approval = supportCase.approvals.find((item) => item.id === approvalId.toLowerCase());
  if (!approval) throw notFound(`Approval '${approvalId}' was not found.`);
  assertMayManageApproval(approval, actor);
  if (approval.status !== 'approved') {
    throw invalid(`The approval is '${approval.status}': only an approval in force can be removed.`);
  }
  const at = toGraphDateTime(now);
  const removed: AccessApproval = {
    ...approval,
    status: 'removed',
    removedBy: { userId: actor.userId },
    lastModifiedDateTime: at,
    endedDateTime: at,
  };
  const initiator: Initiator = { kind: 'user', tenantId: actor.tenantId, userId: actor.userId };
  return {
    accessRequests: [],
    approvals: [removed],
    audits: [approvalAudit(supportActivities.approvalRemoved, removed, 'approved', initiator, at)],
  };
}

// ---------------------------------------------------------------------------------------------
// Closing (SPEC §8.1, §8.3)
// ---------------------------------------------------------------------------------------------

/**
 * The engineer or the requester (or an administrator of the support request tenant) closes the
 * request: approvals in force → `completed`, approved requests → `completed`, pending → `canceled`.
 * Closing a closed request changes nothing (the caller gets the request back).
 */
export function closeSupportRequest(
  supportCase: SupportCase,
  actor: SupportActor,
  now: DateTime,
  partnerMayManage = false,
): CaseChange {
  const { request } = supportCase;
  assertMayRead(request, actor, partnerMayManage);
  if (request.status === 'closed') return { accessRequests: [], approvals: [], audits: [] };
  const at = toGraphDateTime(now);
  const initiator: Initiator = { kind: 'user', tenantId: actor.tenantId, userId: actor.userId };
  const closed: SupportRequest = { ...request, status: 'closed', lastModifiedDateTime: at, closedDateTime: at };
  const accessRequests: AccessRequest[] = [];
  const approvals: AccessApproval[] = [];
  const audits: AuditEntry[] = [];
  for (const accessRequest of supportCase.accessRequests) {
    if (!isLive(accessRequest)) continue;
    const status = accessRequest.status === 'pending' ? 'canceled' : 'completed';
    const ended: AccessRequest = { ...accessRequest, status, lastModifiedDateTime: at, endedDateTime: at };
    accessRequests.push(ended);
    const activity = status === 'canceled' ? supportActivities.requestCanceled : supportActivities.requestCompleted;
    audits.push(accessRequestAudit(request.tenantId, activity, ended, accessRequest.status, initiator, at));
  }
  for (const approval of supportCase.approvals) {
    if (approval.status !== 'approved') continue;
    const completed: AccessApproval = { ...approval, status: 'completed', lastModifiedDateTime: at, endedDateTime: at };
    approvals.push(completed);
    // The resource tenant learns that access ended, not who closed the request in the other tenant.
    audits.push(approvalAudit(supportActivities.approvalCompleted, completed, 'approved', systemInitiator, at));
  }
  return { request: closed, accessRequests, approvals, audits };
}

// ---------------------------------------------------------------------------------------------
// Diagnostic data (SPEC §8.4) and listing rules
// ---------------------------------------------------------------------------------------------

export type DiagnosticsBasis = 'advancedDiagnostics' | 'approval';

/**
 * On what grounds the assigned engineer may read `tenantId`'s diagnostic data now, or why not:
 * the request must be open, and the tenant either the support request tenant with advanced
 * diagnostics allowed or covered by an approval in force.
 */
export function diagnosticsBasis(supportCase: SupportCase, tenantId: string, actor: SupportActor): DiagnosticsBasis {
  const { request } = supportCase;
  assertAssignedEngineer(request, actor);
  const tenant = tenantId.toLowerCase();
  if (request.status !== 'open') {
    throw forbidden('The support request is closed: access to diagnostic data ended with it.');
  }
  if (tenant === request.tenantId && request.allowAdvancedDiagnostics) return 'advancedDiagnostics';
  const approval = supportCase.approvals.find((item) => item.resourceTenantId === tenant && item.status === 'approved');
  if (approval) return 'approval';
  throw forbidden(
    tenant === request.tenantId
      ? 'Advanced diagnostics are not allowed on this support request: create a support access request and wait for its approval.'
      : `No approval is in force for tenant ${tenant} on this support request: create a support access request for it.`,
  );
}

/** Ended items stay listed for 30 days after they ended (SPEC §8.3); live ones always. */
export function listedAt(endedDateTime: string | null, now: DateTime): boolean {
  return endedDateTime === null || now < fromGraphDateTime(endedDateTime).plus({ days: endedListingDays });
}
