import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { relationshipContract, selectableOf } from '../shared/domain/contracts';
import {
  createRelationship,
  deleteRelationship,
  readRelationship,
  updateRelationship,
} from '../shared/app/relationships';
import { forbidden } from '../shared/domain/errors';
import { canReadPartnerResources, managesCustomerRelationships } from '../shared/domain/principal';
import { Relationship, relationshipStatuses } from '../shared/domain/relationships';
import { readJsonBody } from '../shared/http/body';
import { requireIfMatch, toApiEtag } from '../shared/http/etag';
import { graphTypes, operationsPath, relationshipsPath, relationshipView } from '../shared/http/graphViews';
import { AuthenticatedScope, callerOf, graphRoute } from '../shared/http/handler';
import { accepted, collectionPage, entityBody, json, noContent } from '../shared/http/responses';
import { absoluteUrl, odataContext, UrlScope } from '../shared/http/urls';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { Keyed, Page, pageInMemory, Stored } from '../shared/query/paging';
import { registerHttp } from '../shared/registrations';
import { listCustomerRelationships, listPartnerRelationships } from '../shared/store/relationships';

/** $filter/$orderby/$select over relationships (SPEC §10). */
export const relationshipCollection: CollectionSpec<Relationship> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: relationshipStatuses, get: (r) => r.status, storageColumn: 'status' },
    { path: 'displayName', type: 'string', caseInsensitive: true, get: (r) => r.displayName },
    {
      path: 'customer/tenantId',
      type: 'guid',
      get: (r) => r.customer?.tenantId ?? null,
      storageColumn: 'customerTenantId',
    },
    {
      path: 'customer/displayName',
      type: 'string',
      caseInsensitive: true,
      get: (r) => r.customer?.displayName ?? null,
    },
    { path: 'createdDateTime', type: 'dateTime', get: (r) => r.createdDateTime, storageColumn: 'createdDateTime' },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (r) => r.lastModifiedDateTime },
    {
      path: 'activatedDateTime',
      type: 'dateTime',
      get: (r) => r.activatedDateTime,
      storageColumn: 'activatedDateTime',
    },
    { path: 'endDateTime', type: 'dateTime', get: (r) => r.endDateTime, storageColumn: 'endDateTime' },
    // Durations compare by equality only: their text does not sort in time order.
    {
      path: 'autoExtendDuration',
      // P0D and PT0S are the same setting; it is stored as PT0S.
      normalize: (value) => (value === 'P0D' ? 'PT0S' : value),
      type: 'duration',
      sortable: false,
      get: (r) => r.autoExtendDuration,
      storageColumn: 'autoExtendDuration',
    },
    { path: 'duration', type: 'duration', sortable: false, get: (r) => r.duration, storageColumn: 'duration' },
  ],
  selectable: selectableOf(relationshipContract),
};

const relationshipUrl = (scope: UrlScope, id: string): string => absoluteUrl(scope, `${relationshipsPath}/${id}`);

export function relationshipEntity(
  status: number,
  stored: Stored<Relationship>,
  scope: AuthenticatedScope,
  extras: { location?: boolean; properties?: Record<string, unknown>; select?: readonly string[] } = {},
): HttpResponseInit {
  const context = odataContext(scope, relationshipsPath);
  const body = entityBody(
    { ...relationshipView(stored.value), ...extras.properties },
    { etag: stored.etag, context, odataType: graphTypes.relationship },
  );
  return json(status, applySelect(body, extras.select), {
    etag: toApiEtag(stored.etag),
    ...(extras.location ? { location: relationshipUrl(scope, stored.value.id) } : {}),
  });
}

export async function createRelationshipHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const stored = await createRelationship(await readJsonBody(request), callerOf(scope));
  return relationshipEntity(201, stored, scope, { location: true });
}

export async function listRelationshipsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { principal } = scope;
  // Partner readers see the partner side; holders of the customer-side GDAP permission see the
  // relationships partners hold with their tenant; a tenant can be both.
  const readsPartnerSide = canReadPartnerResources(principal);
  const readsCustomerSide = managesCustomerRelationships(principal);
  if (!readsPartnerSide && !readsCustomerSide) {
    throw forbidden(
      'Reading relationships requires the AdminAgent or HelpdeskAgent role, Global Administrator, or Customer Delegated Admin Relationship Administrator.',
    );
  }
  const query = parseCollectionQuery(new URL(request.url).searchParams, relationshipCollection);
  // The customer side is small, so when it has any, both sides are merged in memory, otherwise the
  // partner side pages straight from storage.
  const asCustomer = readsCustomerSide
    ? await listCustomerRelationships(
        principal.tenantId,
        { ...query, skipToken: undefined, top: Number.MAX_SAFE_INTEGER, count: false },
        relationshipCollection,
      )
    : { items: [] };
  let page: Page<Relationship>;
  if (asCustomer.items.length === 0 && readsPartnerSide) {
    page = await listPartnerRelationships(principal.tenantId, query, relationshipCollection);
  } else {
    const asPartner = readsPartnerSide
      ? await listPartnerRelationships(
          principal.tenantId,
          {
            ...query,
            skipToken: undefined,
            top: Number.MAX_SAFE_INTEGER,
            count: false,
            orderBy: [{ path: 'createdDateTime', descending: false }],
          },
          relationshipCollection,
        )
      : { items: [] };
    const merged: Keyed<Relationship>[] = [...asPartner.items, ...asCustomer.items].map((item) => ({
      ...item,
      key: `rel|${item.value.id}`,
    }));
    page = pageInMemory(merged, query, relationshipCollection);
  }
  return collectionPage(request, scope, relationshipsPath, page, (item) =>
    applySelect(
      entityBody(relationshipView(item.value), { etag: item.etag, odataType: graphTypes.relationship }),
      query.select,
    ),
  );
}

export async function getRelationshipHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, relationshipCollection);
  const stored = await readRelationship(request.params.id, scope.principal);
  return relationshipEntity(200, stored, scope, { select });
}

/** PATCH (SPEC §2.2): 200 with the whole entity, or 202 + the operation that removed roles. */
export async function updateRelationshipHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  const body = await readJsonBody(request);
  const result = await updateRelationship(request.params.id, etag, body, callerOf(scope), relationshipView);
  if (result.kind === 'updated') return relationshipEntity(200, result.stored, scope);
  return accepted(absoluteUrl(scope, `${operationsPath(result.operation.relationshipId)}/${result.operation.id}`));
}

export async function deleteRelationshipHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  await deleteRelationship(request.params.id, etag, callerOf(scope));
  return noContent();
}

registerHttp({
  name: 'relationships',
  methods: ['GET', 'POST'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships',
  handler: graphRoute((request, scope) =>
    request.method === 'POST' ? createRelationshipHandler(request, scope) : listRelationshipsHandler(request, scope),
  ),
});

registerHttp({
  name: 'relationship',
  methods: ['GET', 'PATCH', 'DELETE'],
  route: 'v1.0/tenantRelationships/delegatedAdminRelationships/{id}',
  handler: graphRoute((request, scope) => {
    if (request.method === 'PATCH') return updateRelationshipHandler(request, scope);
    if (request.method === 'DELETE') return deleteRelationshipHandler(request, scope);
    return getRelationshipHandler(request, scope);
  }),
});
