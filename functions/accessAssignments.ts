import { HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  AccessAssignment,
  assignmentStatuses,
  createAssignment,
  deleteAssignment,
  updateAssignmentRoles,
} from '../shared/domain/assignments';
import { forbidden, invalid, notFound, stale } from '../shared/domain/errors';
import { newGuid } from '../shared/domain/ids';
import { succeededOperation } from '../shared/domain/operations';
import { assertVisible, perspectiveOf, Relationship } from '../shared/domain/relationships';
import { readJsonBody } from '../shared/http/body';
import { requireIfMatch, toApiEtag } from '../shared/http/etag';
import { assignmentsPath, assignmentView, graphTypes, operationsPath } from '../shared/http/graphViews';
import { AuthenticatedScope, callerCause, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/http/odata';
import { appRoles, canReadPartnerResources, hasAppRole, Principal } from '../shared/http/principal';
import { accepted, collectionPage, entityBody, json, noContent } from '../shared/http/responses';
import { absoluteUrl, odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { insertAssignment, replaceAssignment } from '../shared/store/assignments';
import { pageInMemory, Stored } from '../shared/store/paging';
import { assertPartnerMay } from '../shared/store/partners';
import { findChild, findRelationship, listChildren } from '../shared/store/relationships';
import { assignmentFromRow, childKinds } from '../shared/store/rows';

/** Access assignments of a relationship (SPEC §3.2): the partner's own business, so customers get 404. */
export const assignmentCollection: CollectionSpec<AccessAssignment> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: assignmentStatuses, get: (a) => a.status },
    { path: 'accessContainer/accessContainerId', type: 'guid', get: (a) => a.accessContainerId },
    { path: 'createdDateTime', type: 'dateTime', get: (a) => a.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (a) => a.lastModifiedDateTime },
  ],
  selectable: ['id', 'accessContainer', 'accessDetails', 'status', 'createdDateTime', 'lastModifiedDateTime'],
};

async function partnerRelationship(id: string, principal: Principal, write: boolean): Promise<Stored<Relationship>> {
  const stored = await findRelationship(id);
  const relationship = assertVisible(stored?.value, principal.tenantId, id);
  if (perspectiveOf(relationship, principal.tenantId) !== 'partner') {
    throw notFound(`The delegated admin relationship '${id}' was not found.`);
  }
  if (write && !hasAppRole(principal, appRoles.adminAgent)) {
    throw forbidden('Managing access assignments requires the AdminAgent role in the partner tenant.');
  }
  if (!write && !canReadPartnerResources(principal)) {
    throw forbidden(
      'Reading access assignments requires the AdminAgent or HelpdeskAgent role, or Global Administrator.',
    );
  }
  if (write) await assertPartnerMay(principal.tenantId, 'updateGdap');
  return stored as Stored<Relationship>;
}

async function findAssignment(relationship: Relationship, id: string): Promise<Stored<AccessAssignment>> {
  const stored = await findChild(childKinds.assignment, relationship, id, assignmentFromRow);
  if (!stored) throw notFound(`The access assignment '${id}' was not found.`);
  return stored;
}

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
  const relationship = await partnerRelationship(request.params.id, scope.principal, true);
  const existing = await listChildren(childKinds.assignment, relationship.value, assignmentFromRow);
  const assignment = createAssignment(
    body,
    relationship.value,
    existing.map((item) => item.value),
    newGuid(),
    scope.now,
  );
  const stored = await insertAssignment(relationship.value, assignment, callerCause(scope));
  // A termination that raced this insert must not leave a live assignment behind.
  const after = await findRelationship(relationship.value.id);
  if (!after || after.value.status !== 'active') {
    await replaceAssignment(
      relationship.value,
      assignment,
      { ...assignment, status: 'deleted' },
      stored.etag,
      callerCause(scope),
    );
    throw invalid('The relationship stopped being active while the access assignment was being created.');
  }
  const location = absoluteUrl(scope, `${assignmentsPath(relationship.value.id)}/${assignment.id}`);
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
  const relationship = await partnerRelationship(request.params.id, scope.principal, false);
  const all = await listChildren(childKinds.assignment, relationship.value, assignmentFromRow);
  const page = pageInMemory(all, query, assignmentCollection);
  return collectionPage(request, scope, assignmentsPath(relationship.value.id), page, (item) =>
    applySelect(
      entityBody(assignmentView(item.value), { etag: item.etag, odataType: graphTypes.accessAssignment }),
      query.select,
    ),
  );
}

export async function getAssignmentHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, assignmentCollection);
  const relationship = await partnerRelationship(request.params.id, scope.principal, false);
  const stored = await findAssignment(relationship.value, request.params.assignmentId);
  return json(200, assignmentBody(stored.value, stored.etag, scope, select), { etag: toApiEtag(stored.etag) });
}

/** PATCH → 202 with the operation that applied the new roles, or 200 when nothing changes. */
export async function updateAssignmentHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  const body = await readJsonBody(request);
  const relationship = await partnerRelationship(request.params.id, scope.principal, true);
  const current = await findAssignment(relationship.value, request.params.assignmentId);
  const next = updateAssignmentRoles(current.value, body, relationship.value, scope.now);
  const expected = etag === '*' ? current.etag : etag;
  if (!next) {
    // Nothing to write, but a stale If-Match is still refused as it would be on a write.
    if (expected !== current.etag) throw stale('The If-Match ETag does not match the current version of the entity.');
    return json(200, assignmentBody(current.value, current.etag, scope), { etag: toApiEtag(current.etag) });
  }
  const operation = succeededOperation(
    newGuid(),
    relationship.value.id,
    'delegatedAdminAccessAssignmentUpdate',
    assignmentView(next),
    scope.now,
  );
  await replaceAssignment(relationship.value, current.value, next, expected, callerCause(scope), operation);
  return accepted(absoluteUrl(scope, `${operationsPath(relationship.value.id)}/${operation.id}`));
}

/** DELETE → 204; the assignment stays listed as `deleted` history and its group is free again. */
export async function deleteAssignmentHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  const relationship = await partnerRelationship(request.params.id, scope.principal, true);
  const current = await findAssignment(relationship.value, request.params.assignmentId);
  const next = deleteAssignment(current.value, relationship.value, scope.now);
  await replaceAssignment(
    relationship.value,
    current.value,
    next,
    etag === '*' ? current.etag : etag,
    callerCause(scope),
  );
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
