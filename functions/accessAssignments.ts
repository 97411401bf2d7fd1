import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { assignmentContract, selectableOf } from '../shared/domain/contracts';
import {
  createAssignment,
  deleteAssignment,
  listAssignments,
  readAssignment,
  updateAssignment,
} from '../shared/app/assignments';
import { AccessAssignment, assignmentStatuses } from '../shared/domain/assignments';
import { readJsonBody } from '../shared/http/body';
import { requireIfMatch, toApiEtag } from '../shared/http/etag';
import { assignmentsPath, assignmentView, graphTypes, operationsPath } from '../shared/http/graphViews';
import { AuthenticatedScope, callerOf, graphRoute } from '../shared/http/handler';
import { accepted, collectionPage, entityBody, json, noContent } from '../shared/http/responses';
import { absoluteUrl, odataContext } from '../shared/http/urls';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { pageInMemory } from '../shared/query/paging';
import { registerHttp } from '../shared/registrations';

/** Access assignments of a relationship (SPEC §3.2): the partner's own business, so customers get 404. */
export const assignmentCollection: CollectionSpec<AccessAssignment> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: assignmentStatuses, get: (a) => a.status },
    { path: 'accessContainer/accessContainerId', type: 'guid', get: (a) => a.accessContainerId },
    { path: 'createdDateTime', type: 'dateTime', get: (a) => a.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (a) => a.lastModifiedDateTime },
  ],
  selectable: selectableOf(assignmentContract),
};

function assignmentBody(
  assignment: AccessAssignment,
  etag: string,
  scope: AuthenticatedScope,
  select?: readonly string[],
) {
  const body = entityBody(assignmentView(assignment), {
    etag,
    context: odataContext(scope, assignmentsPath(assignment.relationshipId)),
    odataType: graphTypes.accessAssignment,
  });
  return applySelect(body, select);
}

/**
 * POST → 201. The assignment is applied in the same request, so it is stored `active`; the 201
 * shows it `pending`, as Graph's create does, and every later read shows `active`.
 */
export async function createAssignmentHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const body = await readJsonBody(request);
  const stored = await createAssignment(request.params.id, body, callerOf(scope));
  const assignment = stored.value;
  const location = absoluteUrl(scope, `${assignmentsPath(assignment.relationshipId)}/${assignment.id}`);
  return json(201, assignmentBody({ ...assignment, status: 'pending' }, stored.etag, scope), {
    etag: toApiEtag(stored.etag),
    location,
  });
}

export async function listAssignmentsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, assignmentCollection);
  const all = await listAssignments(request.params.id, scope.principal);
  const page = pageInMemory(all, query, assignmentCollection);
  return collectionPage(request, scope, assignmentsPath(request.params.id.toLowerCase()), page, (item) =>
    applySelect(
      entityBody(assignmentView(item.value), { etag: item.etag, odataType: graphTypes.accessAssignment }),
      query.select,
    ),
  );
}

export async function getAssignmentHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, assignmentCollection);
  const stored = await readAssignment(request.params.id, request.params.assignmentId, scope.principal);
  return json(200, assignmentBody(stored.value, stored.etag, scope, select), { etag: toApiEtag(stored.etag) });
}

/** PATCH → 202 with the operation that applied the new roles, or 200 when nothing changes. */
export async function updateAssignmentHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  const body = await readJsonBody(request);
  const { id, assignmentId } = request.params;
  const result = await updateAssignment(id, assignmentId, etag, body, callerOf(scope), assignmentView);
  if (result.kind === 'unchanged') {
    return json(200, assignmentBody(result.stored.value, result.stored.etag, scope), {
      etag: toApiEtag(result.stored.etag),
    });
  }
  return accepted(absoluteUrl(scope, `${operationsPath(result.relationshipId)}/${result.operation.id}`));
}

/** DELETE → 204; the assignment stays listed as `deleted` history and its group is free again. */
export async function deleteAssignmentHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  await deleteAssignment(request.params.id, request.params.assignmentId, etag, callerOf(scope));
  return noContent();
}

registerHttp({
  name: 'accessAssignments',
  methods: ['GET', 'POST'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments',
  handler: graphRoute((request, scope) =>
    request.method === 'POST' ? createAssignmentHandler(request, scope) : listAssignmentsHandler(request, scope),
  ),
});

registerHttp({
  name: 'accessAssignment',
  methods: ['GET', 'PATCH', 'DELETE'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments/{assignmentId}',
  handler: graphRoute((request, scope) => {
    if (request.method === 'PATCH') return updateAssignmentHandler(request, scope);
    if (request.method === 'DELETE') return deleteAssignmentHandler(request, scope);
    return getAssignmentHandler(request, scope);
  }),
});
