import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { operationContract, selectableOf } from '../shared/domain/contracts';
import { notFound } from '../shared/domain/errors';
import { Operation, operationStatuses, operationTypes } from '../shared/domain/operations';
import { graphTypes, operationsPath, operationView } from '../shared/http/graphViews';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { collectionPage, entityBody, json } from '../shared/http/responses';
import { odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { pageInMemory } from '../shared/query/paging';
import { findChild, listChildren } from '../shared/store/relationships';
import { childKinds, operationFromRow } from '../shared/store/rows';
import { readRelationship as readVisibleRelationship } from '../shared/app/relationships';

/** Operations of a relationship (SPEC §3.3), read-only, visible to whoever may read the relationship. */
export const operationCollection: CollectionSpec<Operation> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: operationStatuses, get: (o) => o.status },
    { path: 'operationType', type: 'enum', enumValues: operationTypes, get: (o) => o.operationType },
    { path: 'createdDateTime', type: 'dateTime', get: (o) => o.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (o) => o.lastModifiedDateTime },
  ],
  selectable: selectableOf(operationContract),
};

export async function listOperationsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, operationCollection);
  const relationship = await readVisibleRelationship(request.params.id, scope.principal);
  const page = pageInMemory(
    await listChildren(childKinds.operation, relationship.value, operationFromRow),
    query,
    operationCollection,
  );
  return collectionPage(request, scope, operationsPath(relationship.value.id), page, (item) =>
    applySelect(
      entityBody(operationView(item.value), { etag: item.etag, odataType: graphTypes.operation }),
      query.select,
    ),
  );
}

export async function getOperationHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, operationCollection);
  const relationship = await readVisibleRelationship(request.params.id, scope.principal);
  const stored = await findChild(
    childKinds.operation,
    relationship.value,
    request.params.operationId,
    operationFromRow,
  );
  if (!stored) throw notFound(`The operation '${request.params.operationId}' was not found.`);
  const body = entityBody(operationView(stored.value), {
    etag: stored.etag,
    context: odataContext(scope, operationsPath(relationship.value.id)),
    odataType: graphTypes.operation,
  });
  return json(200, applySelect(body, select));
}

registerHttp({
  name: 'relationshipOperations',
  methods: ['GET'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships/{id}/operations',
  handler: graphRoute(listOperationsHandler),
});

registerHttp({
  name: 'relationshipOperation',
  methods: ['GET'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships/{id}/operations/{operationId}',
  handler: graphRoute(getOperationHandler),
});
