import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { requestContract, selectableOf } from '../shared/domain/contracts';
import { assertReadable, requestAction } from '../shared/app/relationships';
import { config } from '../shared/config';
import { notFound } from '../shared/domain/errors';
import {
  parseRequestAction,
  RelationshipRequest,
  requestActions,
  requestStatuses,
} from '../shared/domain/relationships';
import { readJsonBody } from '../shared/http/body';
import { optionalIfMatch } from '../shared/http/etag';
import { graphTypes, relationshipsPath, requestView } from '../shared/http/graphViews';
import { AuthenticatedScope, callerOf, graphRoute } from '../shared/http/handler';
import { collectionPage, entity, entityBody } from '../shared/http/responses';
import { absoluteUrl, odataContext } from '../shared/http/urls';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { pageInMemory } from '../shared/query/paging';
import { registerHttp } from '../shared/registrations';
import { findRelationshipWithRequests } from '../shared/store/relationships';

export const requestCollection: CollectionSpec<RelationshipRequest> = {
  fields: [
    { path: 'action', type: 'enum', enumValues: requestActions, get: (r) => r.action },
    { path: 'status', type: 'enum', enumValues: requestStatuses, get: (r) => r.status },
    { path: 'createdDateTime', type: 'dateTime', get: (r) => r.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (r) => r.lastModifiedDateTime },
  ],
  selectable: selectableOf(requestContract),
};

const requestsPath = (relationshipId: string): string => `${relationshipsPath}/${relationshipId}/requests`;

/** The customer's invitation link (SPEC §2.3, §17); `baseUrl` is PUBLIC_BASE_URL or the request's origin. */
export function invitationUrl(relationshipId: string, baseUrl: string): string {
  return config()
    .invitationUrlTemplate.replace('{baseUrl}', baseUrl)
    .replace('{id}', encodeURIComponent(relationshipId));
}

export async function createRequestHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const ifMatch = optionalIfMatch(request);
  const action = parseRequestAction(await readJsonBody(request));
  const { request: created, relationship } = await requestAction(request.params.id, action, ifMatch, callerOf(scope));
  const extras = action === 'lockForApproval' ? { invitationUrl: invitationUrl(relationship.id, scope.baseUrl) } : {};
  return entity(
    201,
    { ...requestView(created), ...extras },
    {
      context: odataContext(scope, requestsPath(relationship.id)),
      odataType: graphTypes.request,
      location: absoluteUrl(scope, `${requestsPath(relationship.id)}/${created.id}`),
    },
  );
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
