import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { operationContract, selectableOf } from '../shared/domain/contracts';
import { Operation, operationStatuses, operationTypes } from '../shared/domain/operations';
import { graphTypes, operationsPath, operationView } from '../shared/http/graphViews';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { collectionPage, entityBody, json } from '../shared/http/responses';
import { odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { pageInMemory } from '../shared/query/paging';
import { readOperation, readOperations } from '../shared/app/relationships';

/** Operations of a relationship (SPEC §3.3), read-only; its customer sees only those of changes to the relationship. */
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
  const { relationship, operations } = await readOperations(request.params.id, scope.principal);
  const page = pageInMemory(operations, query, operationCollection);
  return collectionPage(request, scope, operationsPath(relationship.value.id), page, (item) =>
    applySelect(
      entityBody(operationView(item.value), { etag: item.etag, odataType: graphTypes.operation }),
      query.select,
    ),
  );
}

export async function getOperationHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, operationCollection);
  const stored = await readOperation(request.params.id, request.params.operationId, scope.principal);
  const body = entityBody(operationView(stored.value), {
    etag: stored.etag,
    context: odataContext(scope, operationsPath(stored.value.relationshipId)),
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
