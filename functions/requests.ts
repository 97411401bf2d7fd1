import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { DomainError, stale } from '../shared/domain/errors';
import { newGuid } from '../shared/domain/ids';
import {
  applyRequestAction,
  assertVisible,
  newRequest,
  parseRequestAction,
  RelationshipRequest,
  requestActions,
  requestStatuses,
} from '../shared/domain/relationships';
import { config } from '../shared/config';
import { readJsonBody } from '../shared/http/body';
import { optionalIfMatch } from '../shared/http/etag';
import { notFound } from '../shared/http/errors';
import { graphTypes, relationshipsPath, requestView } from '../shared/http/graphViews';
import { AuthenticatedScope, callerCause, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/http/odata';
import { appRoles, hasAppRole, isGlobalAdministrator } from '../shared/http/principal';
import { collectionPage, entity, entityBody } from '../shared/http/responses';
import { absoluteUrl, odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { displayNameOrSandboxDefault } from '../shared/store/directory';
import { pageInMemory } from '../shared/store/paging';
import { assertPartnerMay } from '../shared/store/partners';
import { findRelationship, findRelationshipWithRequests, replaceRelationship } from '../shared/store/relationships';
import { assertReadable } from './relationships';

export const requestCollection: CollectionSpec<RelationshipRequest> = {
  fields: [
    { path: 'action', type: 'enum', enumValues: requestActions, get: (r) => r.action },
    { path: 'status', type: 'enum', enumValues: requestStatuses, get: (r) => r.status },
    { path: 'createdDateTime', type: 'dateTime', get: (r) => r.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (r) => r.lastModifiedDateTime },
  ],
  selectable: ['id', 'action', 'status', 'createdDateTime', 'lastModifiedDateTime'],
};

const requestsPath = (relationshipId: string): string => `${relationshipsPath}/${relationshipId}/requests`;

/** Concurrent requests on one relationship race on its ETag; the losers decide again on fresh state. */
const maxDecisionAttempts = 5;

export function invitationUrl(relationshipId: string): string {
  return config().invitationUrlTemplate.replace('{id}', encodeURIComponent(relationshipId));
}

export async function createRequestHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { principal, now } = scope;
  const ifMatch = optionalIfMatch(request);
  const action = parseRequestAction(await readJsonBody(request));
  const actor = {
    tenantId: principal.tenantId,
    isAdminAgent: hasAppRole(principal, appRoles.adminAgent),
    isGlobalAdministrator: isGlobalAdministrator(principal),
  };
  const approverName =
    action === 'approve' || action === 'reject' ? await displayNameOrSandboxDefault(principal.tenantId) : undefined;
  for (let attempt = 1; ; attempt++) {
    const current = await findRelationship(request.params.id);
    if (!current) throw notFound(`The delegated admin relationship '${request.params.id}' was not found.`);
    // A client that names the version it saw gets 412 if it changed, before any state rule (SPEC §14).
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== current.etag) {
      assertVisible(current.value, principal.tenantId, request.params.id);
      throw stale('The relationship was changed since the If-Match ETag was read: read it again and retry.');
    }
    const next = applyRequestAction(current.value, action, actor, now, approverName);
    // Account-state gate (SPEC §5.3): locking puts a new relationship before the customer, so it
    // counts as creating GDAP. A partner's terminate is allowed in every state, since it only
    // removes access; customer actions (approve, reject, terminate) are never gated.
    if (action === 'lockForApproval' && attempt === 1) await assertPartnerMay(next.partnerTenantId, 'createGdap');
    const created = newRequest(newGuid(), next.id, action, now);
    try {
      await replaceRelationship(current.value, next, current.etag, callerCause(scope), { request: created });
    } catch (error) {
      // A lost race is decided again on fresh state, unless the client pinned the version it saw.
      const pinned = ifMatch !== undefined && ifMatch !== '*';
      if (error instanceof DomainError && error.kind === 'stale' && !pinned && attempt < maxDecisionAttempts) continue;
      throw error;
    }
    const extras = action === 'lockForApproval' ? { invitationUrl: invitationUrl(next.id) } : {};
    return entity(
      201,
      { ...requestView(created), ...extras },
      {
        context: odataContext(scope, requestsPath(next.id)),
        odataType: graphTypes.request,
        location: absoluteUrl(scope, `${requestsPath(next.id)}/${created.id}`),
      },
    );
  }
}

export async function listRequestsHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, requestCollection);
  const relationship = assertReadable(
    await findRelationshipWithRequests(request.params.id),
    request.params.id,
    scope.principal,
  );
  const page = pageInMemory(relationship.requests, query, requestCollection);
  return collectionPage(request, scope, requestsPath(relationship.value.id), page, (item) =>
    applySelect(entityBody(requestView(item.value), { odataType: graphTypes.request }), query.select),
  );
}

export async function getRequestHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, requestCollection);
  const relationship = assertReadable(
    await findRelationshipWithRequests(request.params.id),
    request.params.id,
    scope.principal,
  );
  const requestId = request.params.requestId.toLowerCase();
  const stored = relationship.requests.find((item) => item.value.id === requestId);
  if (!stored) throw notFound(`The request '${request.params.requestId}' was not found.`);
  const body = entityBody(requestView(stored.value), {
    context: odataContext(scope, requestsPath(relationship.value.id)),
    odataType: graphTypes.request,
  });
  return entity(200, applySelect(body, select));
}

registerHttp({
  name: 'relationshipRequests',
  methods: ['GET', 'POST'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships/{id}/requests',
  handler: graphRoute((request, scope) =>
    request.method === 'POST' ? createRequestHandler(request, scope) : listRequestsHandler(request, scope),
  ),
});

registerHttp({
  name: 'relationshipRequest',
  methods: ['GET'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships/{id}/requests/{requestId}',
  handler: graphRoute(getRequestHandler),
});
