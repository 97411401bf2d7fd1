import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { DateTime, Duration } from 'luxon';
import { z } from 'zod';
import { config } from '../shared/config';
import { DomainError, forbidden, notFound } from '../shared/domain/errors';
import { isGuid, newGuid } from '../shared/domain/ids';
import { Relationship } from '../shared/domain/relationships';
import { parseBody } from '../shared/domain/schema';
import {
  AccessApproval,
  AccessRequest,
  accessRequestStatuses,
  approvalStatuses,
  approveAccessRequest,
  assertMayFile,
  assertMayManageApproval,
  assertMayRead,
  CaseChange,
  chooseEngineer,
  closeSupportRequest,
  diagnosticsBasis,
  engineerFromBody,
  expireAccessRequest,
  grantsSupportTickets,
  hasExpertise,
  listedAt,
  newSupportRequest,
  openAccessRequest,
  parseAccessRequestInput,
  parseSupportRequestInput,
  rejectAccessRequest,
  removeApproval,
  SupportActor,
  SupportEngineer,
  SupportRequest,
  supportRequestStatuses,
  supportRequestTenant,
  viewerOf,
} from '../shared/domain/support';
import { toGraphDateTime } from '../shared/domain/time';
import { JobReport, registerJob } from '../shared/jobs';
import { verifyToken } from '../shared/http/auth';
import { readJsonBody } from '../shared/http/body';
import { badRequest, HttpError } from '../shared/http/errors';
import { assignmentView, graphTypes, relationshipView } from '../shared/http/graphViews';
import { AuthenticatedScope, graphRoute, RequestScope } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/http/odata';
import { appRoles, hasAppRole, Principal } from '../shared/http/principal';
import { collection, collectionPage, entityBody, json } from '../shared/http/responses';
import { toApiEtag } from '../shared/http/etag';
import { absoluteUrl, odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { principalAccessTo } from '../shared/store/access';
import { listAuditEntries, newestFirstKey } from '../shared/store/events';
import { Keyed, pageInMemory, Stored } from '../shared/store/paging';
import { listChildren, listCustomerRelationships, listPartnerRelationships } from '../shared/store/relationships';
import { assignmentFromRow, childKinds } from '../shared/store/rows';
import {
  caseValue,
  commitCase,
  dueExpiries,
  expiryJobId,
  findApproval,
  findEngineer,
  findSupportRequest,
  insertSupportRequest,
  listEngineerRequestIds,
  listEngineers,
  listResourceApprovals,
  listTenantRequestIds,
  openRequestCount,
  readCase,
  readCaseOf,
  removeDueExpiry,
  resyncSideRows,
  StoredCase,
  upsertEngineer,
} from '../shared/store/support';
import { auditCollection, auditView } from './auditLogs';
import { relationshipCollection } from './relationships';
import { sandboxRoute } from './sandbox';

/**
 * Support requests and Microsoft Support access requests (SPEC §8): thin handlers over the pure
 * rules of shared/domain/support.ts and the case repository of shared/store/support.ts.
 */

const paths = {
  requests: '/v1.0/support/requests',
  accessRequests: '/v1.0/support/accessRequests',
  accessApprovals: '/v1.0/support/accessApprovals',
  engineers: '/v1.0/support/engineers',
} as const;

const odataTypes = {
  request: '#microsoft.graph.supportRequest',
  accessRequest: '#microsoft.graph.supportAccessRequest',
  approval: '#microsoft.graph.supportAccessApproval',
  engineer: '#microsoft.graph.supportEngineer',
  diagnostics: '#microsoft.graph.supportDiagnosticSnapshot',
} as const;

/** The second token of an approver, from the resource tenant (SPEC §8.3). */
const resourceTokenHeader = 'x-resource-tenant-authorization';

/** Recent audit entries in a diagnostic snapshot. */
const diagnosticAuditEntries = 50;
/** A command that loses a race is decided again on fresh state, a few times at most. */
const maxAttempts = 5;

// ---------------------------------------------------------------------------------------------
// Collections and views
// ---------------------------------------------------------------------------------------------

export const supportRequestCollection: CollectionSpec<SupportRequest> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: supportRequestStatuses, get: (r) => r.status },
    { path: 'category', type: 'string', caseInsensitive: true, get: (r) => r.category },
    { path: 'title', type: 'string', caseInsensitive: true, get: (r) => r.title },
    { path: 'tenantId', type: 'guid', get: (r) => r.tenantId },
    { path: 'resourceTenantId', type: 'guid', get: (r) => r.resourceTenantId },
    { path: 'createdDateTime', type: 'dateTime', get: (r) => r.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (r) => r.lastModifiedDateTime },
    { path: 'closedDateTime', type: 'dateTime', get: (r) => r.closedDateTime },
  ],
  selectable: [
    'id',
    'title',
    'description',
    'category',
    'tenantId',
    'resourceTenantId',
    'allowAdvancedDiagnostics',
    'status',
    'assignedEngineer',
    'createdBy',
    'createdDateTime',
    'lastModifiedDateTime',
    'closedDateTime',
  ],
};

export const accessRequestCollection: CollectionSpec<AccessRequest> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: accessRequestStatuses, get: (a) => a.status },
    { path: 'supportRequestId', type: 'guid', get: (a) => a.supportRequestId },
    { path: 'resourceTenantId', type: 'guid', get: (a) => a.resourceTenantId },
    { path: 'createdDateTime', type: 'dateTime', get: (a) => a.createdDateTime },
    { path: 'expirationDateTime', type: 'dateTime', get: (a) => a.expirationDateTime },
  ],
  selectable: [
    'id',
    'supportRequestId',
    'supportRequestTenantId',
    'resourceTenantId',
    'justification',
    'requestedBy',
    'status',
    'createdDateTime',
    'lastModifiedDateTime',
    'expirationDateTime',
    'endDateTime',
  ],
};

export const approvalCollection: CollectionSpec<AccessApproval> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: approvalStatuses, get: (a) => a.status },
    { path: 'supportRequestId', type: 'guid', get: (a) => a.supportRequestId },
    { path: 'supportRequestTenantId', type: 'guid', get: (a) => a.supportRequestTenantId },
    { path: 'createdDateTime', type: 'dateTime', get: (a) => a.createdDateTime },
  ],
  selectable: [
    'id',
    'accessRequestId',
    'supportRequestId',
    'supportRequestTenantId',
    'resourceTenantId',
    'justification',
    'engineer',
    'status',
    'approvedBy',
    'removedBy',
    'createdDateTime',
    'lastModifiedDateTime',
    'endDateTime',
  ],
};

export function supportRequestView(request: SupportRequest): Record<string, unknown> {
  return {
    id: request.id,
    title: request.title,
    description: request.description,
    category: request.category,
    tenantId: request.tenantId,
    resourceTenantId: request.resourceTenantId,
    allowAdvancedDiagnostics: request.allowAdvancedDiagnostics,
    status: request.status,
    assignedEngineer: request.assignedEngineer,
    createdBy: { tenantId: request.createdBy.tenantId, userId: request.createdBy.userId },
    createdDateTime: request.createdDateTime,
    lastModifiedDateTime: request.lastModifiedDateTime,
    closedDateTime: request.closedDateTime,
  };
}

/** What the support request tenant and the engineer see: never the approval behind it. */
export function accessRequestView(accessRequest: AccessRequest): Record<string, unknown> {
  return {
    id: accessRequest.id,
    supportRequestId: accessRequest.supportRequestId,
    supportRequestTenantId: accessRequest.supportRequestTenantId,
    resourceTenantId: accessRequest.resourceTenantId,
    justification: accessRequest.justification,
    requestedBy: accessRequest.requestedBy,
    status: accessRequest.status,
    createdDateTime: accessRequest.createdDateTime,
    lastModifiedDateTime: accessRequest.lastModifiedDateTime,
    expirationDateTime: accessRequest.expirationDateTime,
    endDateTime: accessRequest.endedDateTime,
  };
}

export function approvalView(approval: AccessApproval): Record<string, unknown> {
  return {
    id: approval.id,
    accessRequestId: approval.accessRequestId,
    supportRequestId: approval.supportRequestId,
    supportRequestTenantId: approval.supportRequestTenantId,
    resourceTenantId: approval.resourceTenantId,
    justification: approval.justification,
    engineer: approval.engineer,
    status: approval.status,
    approvedBy: approval.approvedBy,
    removedBy: approval.removedBy,
    createdDateTime: approval.createdDateTime,
    lastModifiedDateTime: approval.lastModifiedDateTime,
    endDateTime: approval.endedDateTime,
  };
}

function engineerView(engineer: SupportEngineer, openRequests: number): Record<string, unknown> {
  return { ...engineer, openRequestCount: openRequests };
}

function entityResponse(
  status: number,
  stored: Stored<unknown>,
  view: Record<string, unknown>,
  options: { scope: RequestScope; path: string; odataType: string; location?: boolean; select?: readonly string[] },
): HttpResponseInit {
  const { scope, path, odataType } = options;
  const etag = stored.etag || undefined;
  const body = entityBody(view, { etag, context: odataContext(scope, path), odataType });
  const headers: Record<string, string> = {};
  if (etag) headers.etag = toApiEtag(etag);
  if (options.location) headers.location = absoluteUrl(scope, `${path}/${String(view.id)}`);
  return json(status, applySelect(body, options.select), headers);
}

// ---------------------------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------------------------

function actorOf(principal: Principal): SupportActor {
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

/** The second token of an approval, verified like the bearer token; undefined when not sent. */
async function resourceTenantActor(request: HttpRequest): Promise<SupportActor | undefined> {
  const header = request.headers.get(resourceTokenHeader)?.trim();
  if (!header) return undefined;
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? header;
  try {
    return actorOf(await verifyToken(token));
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) {
      throw new HttpError(401, `X-Resource-Tenant-Authorization: ${error.message}`);
    }
    throw error;
  }
}

/** Actions take no input: a body, if any, must be an empty JSON object. */
async function readEmptyBody(request: HttpRequest): Promise<void> {
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length === 0 && !request.headers.get('transfer-encoding')) return;
  parseBody(z.strictObject({}), await readJsonBody(request));
}

/**
 * Reads a case, decides, and stores the decision conditional on what was read. A lost race is
 * decided again on fresh state, so the answer reflects the winner (e.g. "the request is closed").
 */
async function changeCase(
  read: () => Promise<StoredCase | undefined>,
  missing: () => DomainError,
  decide: (stored: StoredCase) => Promise<CaseChange> | CaseChange,
): Promise<{ stored: StoredCase; change: CaseChange }> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const current = await read();
    if (!current) throw missing();
    const change = await decide(current);
    try {
      return { stored: await commitCase(current, change), change };
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === 'stale') || attempt === maxAttempts) throw error;
    }
  }
  throw new Error('unreachable');
}

const requestNotFound = (id: string) => () => notFound(`Support request '${id}' was not found.`);
const accessRequestNotFound = (id: string) => () => notFound(`Access request '${id}' was not found.`);
const approvalNotFound = (id: string) => () => notFound(`Approval '${id}' was not found.`);

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

export async function createSupportRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const input = parseSupportRequestInput(await readJsonBody(request));
  const actor = actorOf(scope.principal);
  const tenantId = supportRequestTenant(input, actor);
  const access = tenantId === actor.tenantId ? undefined : await principalAccessTo(scope.principal, tenantId);
  assertMayFile(actor, tenantId, access);
  const engineer = await engineerFor(input.category);
  const created = newSupportRequest(input, { id: newGuid(), tenantId, actor, engineer }, scope.now);
  const stored = await insertSupportRequest(created);
  return entityResponse(201, stored, supportRequestView(stored.value), {
    scope,
    path: paths.requests,
    odataType: odataTypes.request,
    location: true,
  });
}

/** Support requests the caller may see: assigned (engineer), filed in its tenant, or filed by it for customers. */
async function visibleRequests(principal: Principal): Promise<Stored<SupportRequest>[]> {
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

export async function listSupportRequestsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, supportRequestCollection);
  const items: Keyed<SupportRequest>[] = (await visibleRequests(scope.principal)).map((stored) => ({
    ...stored,
    key: newestFirstKey(stored.value.createdDateTime, stored.value.id),
  }));
  const page = pageInMemory(items, query, supportRequestCollection);
  return collectionPage(request, scope, paths.requests, page, (item) =>
    applySelect({ '@odata.type': odataTypes.request, ...supportRequestView(item.value) }, query.select),
  );
}

/** A support request the caller may read (404 for other tenants, 403 for the tenant's users without the permission). */
async function readVisibleRequest(id: string, principal: Principal): Promise<Stored<SupportRequest>> {
  const stored = await findSupportRequest(id);
  if (!stored) throw requestNotFound(id)();
  assertMayRead(stored.value, actorOf(principal), await partnerMayManage(principal, stored.value));
  return stored;
}

export async function getSupportRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, supportRequestCollection);
  const stored = await readVisibleRequest(request.params.id, scope.principal);
  return entityResponse(200, stored, supportRequestView(stored.value), {
    scope,
    path: paths.requests,
    odataType: odataTypes.request,
    select,
  });
}

export async function closeSupportRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  await readEmptyBody(request);
  const id = request.params.id;
  const actor = actorOf(scope.principal);
  const { stored } = await changeCase(
    () => readCase(id),
    requestNotFound(id),
    async (current) =>
      closeSupportRequest(
        caseValue(current),
        actor,
        scope.now,
        await partnerMayManage(scope.principal, current.request.value),
      ),
  );
  // A repeated close also repairs what a crash may have left behind after the first one.
  await resyncSideRows(stored.request.value);
  return entityResponse(200, stored.request, supportRequestView(stored.request.value), {
    scope,
    path: paths.requests,
    odataType: odataTypes.request,
  });
}

// ---------------------------------------------------------------------------------------------
// Diagnostic data (SPEC §8.4)
// ---------------------------------------------------------------------------------------------

/** Relationships where the tenant is partner or customer, their assignments and recent audit entries. */
async function diagnosticSnapshot(tenantId: string): Promise<Record<string, unknown>> {
  const everything = { ...parseCollectionQuery(new URLSearchParams(), relationshipCollection), top: 300 };
  const [asPartner, asCustomer, audits] = await Promise.all([
    listPartnerRelationships(tenantId, everything, relationshipCollection),
    listCustomerRelationships(tenantId, everything, relationshipCollection),
    listAuditEntries(
      tenantId,
      parseCollectionQuery(new URLSearchParams({ $top: String(diagnosticAuditEntries) }), auditCollection),
      auditCollection,
    ),
  ]);
  const related: { relationship: Relationship; role: 'partner' | 'customer' }[] = [
    ...asPartner.items.map((item) => ({ relationship: item.value, role: 'partner' as const })),
    ...asCustomer.items
      .filter((item) => item.value.partnerTenantId !== tenantId)
      .map((item) => ({ relationship: item.value, role: 'customer' as const })),
  ];
  const assignments = await Promise.all(
    related.map(async ({ relationship }) =>
      (await listChildren(childKinds.assignment, relationship, assignmentFromRow)).map((item) => ({
        relationshipId: relationship.id,
        ...assignmentView(item.value),
      })),
    ),
  );
  return {
    delegatedAdminRelationships: related.map(({ relationship, role }) => ({
      '@odata.type': graphTypes.relationship,
      ...relationshipView(relationship),
      partnerTenantId: relationship.partnerTenantId,
      tenantRole: role,
    })),
    accessAssignments: assignments.flat(),
    directoryAudits: audits.items.map((item) => auditView(item.value)),
    truncated: Boolean(asPartner.skipToken || asCustomer.skipToken),
  };
}

export async function diagnosticsHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { id, tenantId } = request.params;
  if (!isGuid(tenantId)) throw badRequest(`The tenant id must be a GUID, not '${tenantId}'.`);
  const stored = await readCase(id);
  if (!stored) throw requestNotFound(id)();
  const basis = diagnosticsBasis(caseValue(stored), tenantId, actorOf(scope.principal));
  const snapshot = await diagnosticSnapshot(tenantId.toLowerCase());
  return json(200, {
    '@odata.context': `${odataContext(scope, `${paths.requests}/${stored.request.value.id}/diagnostics`)}/$entity`,
    '@odata.type': odataTypes.diagnostics,
    supportRequestId: stored.request.value.id,
    tenantId: tenantId.toLowerCase(),
    accessBasis: basis,
    readOnly: true,
    capturedDateTime: toGraphDateTime(scope.now),
    ...snapshot,
  });
}

// ---------------------------------------------------------------------------------------------
// Access requests (SPEC §8.3)
// ---------------------------------------------------------------------------------------------

function pendingExpiry(): Duration {
  return Duration.fromISO(config().supportAccessRequestPendingExpiry);
}

function accessRequestResponse(
  status: number,
  stored: Stored<AccessRequest>,
  scope: AuthenticatedScope,
  extras: { location?: boolean; select?: readonly string[] } = {},
): HttpResponseInit {
  return entityResponse(status, stored, accessRequestView(stored.value), {
    scope,
    path: paths.accessRequests,
    odataType: odataTypes.accessRequest,
    ...extras,
  });
}

function storedAccessRequest(stored: StoredCase, id: string): Stored<AccessRequest> {
  const found = stored.accessRequests.find((item) => item.value.id === id.toLowerCase());
  if (!found) throw accessRequestNotFound(id)();
  return found;
}

export async function createAccessRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const actor = actorOf(scope.principal);
  if (!actor.isEngineer) {
    throw forbidden('Only the assigned Microsoft Support engineer (app role SupportEngineer) creates access requests.');
  }
  const input = parseAccessRequestInput(await readJsonBody(request));
  const guid = newGuid();
  const { stored, change } = await changeCase(
    () => readCase(input.supportRequestId),
    requestNotFound(input.supportRequestId),
    (current) =>
      openAccessRequest(caseValue(current), input, actor, { guid, pendingExpiry: pendingExpiry() }, scope.now),
  );
  return accessRequestResponse(201, storedAccessRequest(stored, change.accessRequests[0].id), scope, {
    location: true,
  });
}

/** Access requests of every support request the caller may see, still within their listing period. */
export async function listAccessRequestsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, accessRequestCollection);
  const requests = await visibleRequests(scope.principal);
  const found = await Promise.all(requests.map((item) => readCase(item.value.id)));
  const items: Keyed<AccessRequest>[] = found
    .flatMap((stored) => stored?.accessRequests ?? [])
    .filter((item) => listedAt(item.value.endedDateTime, scope.now))
    .map((item) => ({ ...item, key: newestFirstKey(item.value.createdDateTime, item.value.id) }));
  const page = pageInMemory(items, query, accessRequestCollection);
  return collectionPage(request, scope, paths.accessRequests, page, (item) =>
    applySelect({ '@odata.type': odataTypes.accessRequest, ...accessRequestView(item.value) }, query.select),
  );
}

export async function getAccessRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, accessRequestCollection);
  const id = request.params.id;
  const stored = await readCaseOf(id);
  if (!stored) throw accessRequestNotFound(id)();
  const item = storedAccessRequest(stored, id);
  const supportRequest = stored.request.value;
  try {
    assertMayRead(supportRequest, actorOf(scope.principal), await partnerMayManage(scope.principal, supportRequest));
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'notFound') throw accessRequestNotFound(id)();
    throw error;
  }
  return accessRequestResponse(200, item, scope, { select });
}

async function decideAccessRequest(
  request: HttpRequest,
  scope: AuthenticatedScope,
  action: 'approve' | 'reject',
): Promise<HttpResponseInit> {
  await readEmptyBody(request);
  const id = request.params.id;
  const actor = actorOf(scope.principal);
  const resourceActor = action === 'approve' ? await resourceTenantActor(request) : undefined;
  const { stored } = await changeCase(
    () => readCaseOf(id),
    accessRequestNotFound(id),
    (current) =>
      action === 'approve'
        ? approveAccessRequest(caseValue(current), id, actor, resourceActor, scope.now)
        : rejectAccessRequest(caseValue(current), id, actor, scope.now),
  );
  return accessRequestResponse(200, storedAccessRequest(stored, id), scope);
}

// ---------------------------------------------------------------------------------------------
// Approvals: resource tenant only (SPEC §8.3)
// ---------------------------------------------------------------------------------------------

function approvalResponse(
  stored: Stored<AccessApproval>,
  scope: AuthenticatedScope,
  select?: readonly string[],
): HttpResponseInit {
  return entityResponse(200, stored, approvalView(stored.value), {
    scope,
    path: paths.accessApprovals,
    odataType: odataTypes.approval,
    select,
  });
}

export async function listApprovalsHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, approvalCollection);
  if (!grantsSupportTickets(scope.principal.directoryRoleIds)) {
    throw forbidden(
      'Reading Microsoft Support access approvals needs a directory role with the support-ticket permission in this tenant.',
    );
  }
  const items: Keyed<AccessApproval>[] = (await listResourceApprovals(scope.principal.tenantId))
    .filter((item) => listedAt(item.value.endedDateTime, scope.now))
    .map((item) => ({ ...item, key: newestFirstKey(item.value.createdDateTime, item.value.id) }));
  const page = pageInMemory(items, query, approvalCollection);
  return collectionPage(request, scope, paths.accessApprovals, page, (item) =>
    applySelect({ '@odata.type': odataTypes.approval, ...approvalView(item.value) }, query.select),
  );
}

export async function getApprovalHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, approvalCollection);
  const id = request.params.id;
  const stored = await findApproval(id);
  if (!stored) throw approvalNotFound(id)();
  assertMayManageApproval(stored.value, actorOf(scope.principal));
  return approvalResponse(stored, scope, select);
}

export async function removeApprovalHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  await readEmptyBody(request);
  const id = request.params.id;
  const actor = actorOf(scope.principal);
  const { stored } = await changeCase(
    () => readCaseOf(id),
    approvalNotFound(id),
    (current) => removeApproval(caseValue(current), id, actor, scope.now),
  );
  const approval = stored.approvals.find((item) => item.value.id === id.toLowerCase());
  if (!approval) throw approvalNotFound(id)();
  return approvalResponse(approval, scope);
}

// ---------------------------------------------------------------------------------------------
// Engineers (ServiceOperator, and the sandbox seed route)
// ---------------------------------------------------------------------------------------------

function requireServiceOperator(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.serviceOperator)) {
    throw forbidden('Managing support engineers requires the ServiceOperator role.');
  }
}

async function putEngineer(request: HttpRequest, scope: RequestScope): Promise<HttpResponseInit> {
  const id = request.params.oid;
  const body = await readJsonBody(request);
  if (!isGuid(id)) throw badRequest(`The engineer id must be the engineer's object id (a GUID), not '${id}'.`);
  const previous = await findEngineer(id);
  const engineer = engineerFromBody(body, id, scope.now, previous?.value);
  const stored = await upsertEngineer(engineer);
  return entityResponse(previous ? 200 : 201, stored, engineerView(engineer, await openRequestCount(engineer.id)), {
    scope,
    path: paths.engineers,
    odataType: odataTypes.engineer,
    location: !previous,
  });
}

async function getEngineer(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  requireServiceOperator(scope.principal);
  const stored = await findEngineer(request.params.oid);
  if (!stored) throw notFound(`Support engineer '${request.params.oid}' was not found.`);
  return entityResponse(200, stored, engineerView(stored.value, await openRequestCount(stored.value.id)), {
    scope,
    path: paths.engineers,
    odataType: odataTypes.engineer,
  });
}

async function listEngineersHandler(_request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  requireServiceOperator(scope.principal);
  const all = await listEngineers();
  const views = await Promise.all(
    all.map(async ({ value }) => ({
      '@odata.type': odataTypes.engineer,
      ...engineerView(value, await openRequestCount(value.id)),
    })),
  );
  return collection(odataContext(scope, paths.engineers), views);
}

// ---------------------------------------------------------------------------------------------
// Timer: expire pending access requests (SPEC §4, §8.3)
// ---------------------------------------------------------------------------------------------

const batchSize = 500;

async function expireOne(accessRequestId: string, now: DateTime): Promise<boolean> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const stored = await readCaseOf(accessRequestId);
    const change = stored && expireAccessRequest(caseValue(stored), accessRequestId, now);
    if (!stored || !change) return false;
    try {
      await commitCase(stored, change);
      return true;
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === 'stale')) throw error;
    }
  }
  return false;
}

/**
 * Reads only due-index entries that are due; each pending request past its expiration becomes
 * `expired`, and its entry goes only after that is stored. Safe to run twice at once or to resume.
 */
export async function expireSupportAccessRequests(now: DateTime): Promise<JobReport> {
  const seen = new Set<string>();
  const expired: string[] = [];
  let due = 0;
  for (;;) {
    const rows = (await dueExpiries(toGraphDateTime(now), batchSize)).filter((row) => !seen.has(row.rowKey));
    if (rows.length === 0) break;
    due += rows.length;
    for (const row of rows) {
      seen.add(row.rowKey);
      if (await expireOne(row.accessRequestId, now)) expired.push(row.accessRequestId);
      await removeDueExpiry(row);
    }
    if (rows.length < batchSize) break;
  }
  return { due, expired };
}

registerJob({
  id: expiryJobId,
  schedule: config().jobSchedules.expireSupportAccessRequests,
  run: expireSupportAccessRequests,
});

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

registerHttp({
  name: 'supportRequests',
  methods: ['GET', 'POST'],
  route: 'v1.0/support/requests',
  handler: graphRoute((request, scope) =>
    request.method === 'POST'
      ? createSupportRequestHandler(request, scope)
      : listSupportRequestsHandler(request, scope),
  ),
});

registerHttp({
  name: 'supportRequest',
  methods: ['GET'],
  route: 'v1.0/support/requests/{id}',
  handler: graphRoute(getSupportRequestHandler),
});

registerHttp({
  name: 'supportRequestClose',
  methods: ['POST'],
  route: 'v1.0/support/requests/{id}/close',
  handler: graphRoute(closeSupportRequestHandler),
});

registerHttp({
  name: 'supportRequestDiagnostics',
  methods: ['GET'],
  route: 'v1.0/support/requests/{id}/diagnostics/{tenantId}',
  handler: graphRoute(diagnosticsHandler),
});

registerHttp({
  name: 'supportAccessRequests',
  methods: ['GET', 'POST'],
  route: 'v1.0/support/accessRequests',
  handler: graphRoute((request, scope) =>
    request.method === 'POST' ? createAccessRequestHandler(request, scope) : listAccessRequestsHandler(request, scope),
  ),
});

registerHttp({
  name: 'supportAccessRequest',
  methods: ['GET'],
  route: 'v1.0/support/accessRequests/{id}',
  handler: graphRoute(getAccessRequestHandler),
});

registerHttp({
  name: 'supportAccessRequestApprove',
  methods: ['POST'],
  route: 'v1.0/support/accessRequests/{id}/approve',
  handler: graphRoute((request, scope) => decideAccessRequest(request, scope, 'approve')),
});

registerHttp({
  name: 'supportAccessRequestReject',
  methods: ['POST'],
  route: 'v1.0/support/accessRequests/{id}/reject',
  handler: graphRoute((request, scope) => decideAccessRequest(request, scope, 'reject')),
});

registerHttp({
  name: 'supportAccessApprovals',
  methods: ['GET'],
  route: 'v1.0/support/accessApprovals',
  handler: graphRoute(listApprovalsHandler),
});

registerHttp({
  name: 'supportAccessApproval',
  methods: ['GET'],
  route: 'v1.0/support/accessApprovals/{id}',
  handler: graphRoute(getApprovalHandler),
});

registerHttp({
  name: 'supportAccessApprovalRemove',
  methods: ['POST'],
  route: 'v1.0/support/accessApprovals/{id}/remove',
  handler: graphRoute(removeApprovalHandler),
});

registerHttp({
  name: 'supportEngineers',
  methods: ['GET'],
  route: 'v1.0/support/engineers',
  handler: graphRoute(listEngineersHandler),
});

registerHttp({
  name: 'supportEngineer',
  methods: ['GET', 'PUT'],
  route: 'v1.0/support/engineers/{oid}',
  handler: graphRoute((request, scope) => {
    if (request.method === 'GET') return getEngineer(request, scope);
    requireServiceOperator(scope.principal);
    return putEngineer(request, scope);
  }),
});

registerHttp({
  name: 'sandboxSupportEngineer',
  methods: ['PUT'],
  route: 'sandbox/supportEngineers/{oid}',
  handler: sandboxRoute(putEngineer),
});
