import { HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  actorOf,
  decideAccess,
  openAccess,
  readAccessRequest,
  readApproval,
  removeApprovalOf,
  requireEngineer,
  visibleAccessRequests,
  visibleApprovals,
} from '../shared/app/support';
import { DomainError, unauthorized } from '../shared/domain/errors';
import { AccessApproval, AccessRequest, parseAccessRequestInput, SupportActor } from '../shared/domain/support';
import { verifyToken } from '../shared/http/auth';
import { readJsonBody } from '../shared/http/body';
import { AuthenticatedScope, callerOf, graphRoute } from '../shared/http/handler';
import { collectionPage } from '../shared/http/responses';
import {
  accessRequestCollection,
  accessRequestView,
  approvalCollection,
  approvalView,
  entityResponse,
  supportPaths,
  supportTypes,
} from '../shared/http/supportViews';
import { applySelect, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { Keyed, pageInMemory, Stored } from '../shared/query/paging';
import { registerHttp } from '../shared/registrations';
import { newestFirstKey } from '../shared/store/events';
import { readEmptyBody } from './supportRequests';

/** Microsoft Support access requests and the resource tenant's approvals (SPEC §8.3). */

/** The second token of an approver, from the resource tenant (SPEC §8.3). */
const resourceTokenHeader = 'x-resource-tenant-authorization';

/** The second token of an approval, verified like the bearer token; undefined when not sent. */
async function resourceTenantActor(request: HttpRequest): Promise<SupportActor | undefined> {
  const header = request.headers.get(resourceTokenHeader)?.trim();
  if (!header) return undefined;
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? header;
  try {
    return actorOf(await verifyToken(token));
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'unauthorized') {
      throw unauthorized(`X-Resource-Tenant-Authorization: ${error.message}`);
    }
    throw error;
  }
}

const newestFirst = <T extends { createdDateTime: string; id: string }>(items: Stored<T>[]): Keyed<T>[] =>
  items.map((item) => ({ ...item, key: newestFirstKey(item.value.createdDateTime, item.value.id) }));

function accessRequestResponse(
  status: number,
  stored: Stored<AccessRequest>,
  scope: AuthenticatedScope,
  extras: { location?: boolean; select?: readonly string[] } = {},
): HttpResponseInit {
  return entityResponse(status, stored, accessRequestView(stored.value), {
    scope,
    path: supportPaths.accessRequests,
    odataType: supportTypes.accessRequest,
    ...extras,
  });
}

function approvalResponse(
  stored: Stored<AccessApproval>,
  scope: AuthenticatedScope,
  select?: readonly string[],
): HttpResponseInit {
  return entityResponse(200, stored, approvalView(stored.value), {
    scope,
    path: supportPaths.accessApprovals,
    odataType: supportTypes.approval,
    select,
  });
}

export async function createAccessRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  requireEngineer(scope.principal);
  const input = parseAccessRequestInput(await readJsonBody(request));
  return accessRequestResponse(201, await openAccess(input, callerOf(scope)), scope, { location: true });
}

export async function listAccessRequestsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, accessRequestCollection);
  const page = pageInMemory(
    newestFirst(await visibleAccessRequests(scope.principal, scope.now)),
    query,
    accessRequestCollection,
  );
  return collectionPage(request, scope, supportPaths.accessRequests, page, (item) =>
    applySelect({ '@odata.type': supportTypes.accessRequest, ...accessRequestView(item.value) }, query.select),
  );
}

export async function getAccessRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, accessRequestCollection);
  return accessRequestResponse(200, await readAccessRequest(request.params.id, scope.principal), scope, { select });
}

async function decideAccessRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
  action: 'approve' | 'reject',
): Promise<HttpResponseInit> {
  await readEmptyBody(request);
  const resourceActor = action === 'approve' ? await resourceTenantActor(request) : undefined;
  return accessRequestResponse(
    200,
    await decideAccess(request.params.id, action, resourceActor, callerOf(scope)),
    scope,
  );
}

export async function listApprovalsHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, approvalCollection);
  const page = pageInMemory(newestFirst(await visibleApprovals(scope.principal, scope.now)), query, approvalCollection);
  return collectionPage(request, scope, supportPaths.accessApprovals, page, (item) =>
    applySelect({ '@odata.type': supportTypes.approval, ...approvalView(item.value) }, query.select),
  );
}

export async function getApprovalHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, approvalCollection);
  return approvalResponse(await readApproval(request.params.id, scope.principal), scope, select);
}

export async function removeApprovalHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  await readEmptyBody(request);
  return approvalResponse(await removeApprovalOf(request.params.id, callerOf(scope)), scope);
}

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
  handler: graphRoute((request, scope) => decideAccessRequestHandler(request, scope, 'approve')),
});

registerHttp({
  name: 'supportAccessRequestReject',
  methods: ['POST'],
  route: 'v1.0/support/accessRequests/{id}/reject',
  handler: graphRoute((request, scope) => decideAccessRequestHandler(request, scope, 'reject')),
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
