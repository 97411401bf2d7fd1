import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { forbidden } from '../shared/domain/errors';
import { newGuid } from '../shared/domain/ids';
import { succeededOperation } from '../shared/domain/operations';
import {
  assertDeletable,
  assertVisible,
  createRelationship,
  perspectiveOf,
  Relationship,
  relationshipStatuses,
  removesRoles,
  updateRelationship,
} from '../shared/domain/relationships';
import { readJsonBody } from '../shared/http/body';
import { requireIfMatch, toApiEtag } from '../shared/http/etag';
import { graphTypes, operationsPath, relationshipsPath, relationshipView } from '../shared/http/graphViews';
import { AuthenticatedScope, callerCause, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/http/odata';
import {
  appRoles,
  canReadPartnerResources,
  hasAppRole,
  isGlobalAdministrator,
  Principal,
} from '../shared/http/principal';
import { accepted, collectionPage, entityBody, json, noContent } from '../shared/http/responses';
import { absoluteUrl, odataContext, UrlScope } from '../shared/http/urls';
import { displayNameOrSandboxDefault } from '../shared/store/directory';
import { assertPartnerMay } from '../shared/store/partners';
import { Keyed, Page, pageInMemory, Stored } from '../shared/store/paging';
import {
  deleteRelationship,
  findRelationship,
  insertRelationship,
  listCustomerRelationships,
  listPartnerRelationships,
  newRelationshipIdBesideName,
  replaceRelationship,
} from '../shared/store/relationships';
import { registerHttp } from '../shared/registrations';

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
  selectable: [
    'id',
    'displayName',
    'duration',
    'customer',
    'accessDetails',
    'status',
    'autoExtendDuration',
    'createdDateTime',
    'lastModifiedDateTime',
    'activatedDateTime',
    'endDateTime',
  ],
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

function requireAdminAgent(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.adminAgent)) {
    throw forbidden('This action requires the AdminAgent role in the partner tenant.');
  }
}

/**
 * Reads a relationship the caller may see: partner readers (AdminAgent, HelpdeskAgent, Global
 * Administrator) or the customer's Global Administrator. Anyone else's relationship is a 404.
 */
export async function readVisibleRelationship(id: string, principal: Principal): Promise<Stored<Relationship>> {
  return assertReadable(await findRelationship(id), id, principal);
}

/** The check of `readVisibleRelationship`, on a relationship already read (with its requests, say). */
export function assertReadable<T extends Stored<Relationship>>(
  stored: T | undefined,
  id: string,
  principal: Principal,
): T {
  const relationship = assertVisible(stored?.value, principal.tenantId, id);
  const perspective = perspectiveOf(relationship, principal.tenantId);
  const allowed = perspective === 'partner' ? canReadPartnerResources(principal) : isGlobalAdministrator(principal);
  if (!allowed) {
    throw forbidden(
      perspective === 'partner'
        ? 'Reading relationships requires the AdminAgent or HelpdeskAgent role, or Global Administrator.'
        : "Only the customer's Global Administrator can read this relationship.",
    );
  }
  return stored as T;
}

/** Reads a relationship its partner is about to change: AdminAgent of the partner tenant only. */
async function readOwnRelationship(id: string, principal: Principal): Promise<Stored<Relationship>> {
  const stored = await findRelationship(id);
  const relationship = assertVisible(stored?.value, principal.tenantId, id);
  if (perspectiveOf(relationship, principal.tenantId) !== 'partner') {
    throw forbidden("Only the partner can change a relationship; the customer acts through 'requests'.");
  }
  requireAdminAgent(principal);
  return stored as Stored<Relationship>;
}

async function withCustomerName(relationship: Relationship): Promise<Relationship> {
  if (!relationship.customer) return relationship;
  const known = await displayNameOrSandboxDefault(relationship.customer.tenantId);
  return known ? { ...relationship, customer: { ...relationship.customer, displayName: known } } : relationship;
}

export async function createRelationshipHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  requireAdminAgent(scope.principal);
  const body = await readJsonBody(request);
  const partnerTenantId = scope.principal.tenantId;
  await assertPartnerMay(partnerTenantId, 'createGdap');
  const displayName =
    typeof body === 'object' && body !== null ? (body as { displayName?: unknown }).displayName : undefined;
  const id = newRelationshipIdBesideName(partnerTenantId, displayName);
  const relationship = createRelationship(body, { id, partnerTenantId }, scope.now);
  const stored = await insertRelationship(await withCustomerName(relationship), callerCause(scope));
  return relationshipEntity(201, stored, scope, { location: true });
}

export async function listRelationshipsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { principal } = scope;
  if (!canReadPartnerResources(principal)) {
    throw forbidden('Reading relationships requires the AdminAgent or HelpdeskAgent role, or Global Administrator.');
  }
  const query = parseCollectionQuery(new URL(request.url).searchParams, relationshipCollection);
  // A tenant can be a partner and a customer at once; the customer side is small, so when it has
  // any, both sides are merged in memory, otherwise the partner side pages straight from storage.
  const asCustomer = isGlobalAdministrator(principal)
    ? await listCustomerRelationships(
        principal.tenantId,
        { ...query, skipToken: undefined, top: Number.MAX_SAFE_INTEGER, count: false },
        relationshipCollection,
      )
    : { items: [] };
  let page: Page<Relationship>;
  if (asCustomer.items.length === 0) {
    page = await listPartnerRelationships(principal.tenantId, query, relationshipCollection);
  } else {
    const asPartner = await listPartnerRelationships(
      principal.tenantId,
      {
        ...query,
        skipToken: undefined,
        top: Number.MAX_SAFE_INTEGER,
        count: false,
        orderBy: [{ path: 'createdDateTime', descending: false }],
      },
      relationshipCollection,
    );
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
  const stored = await readVisibleRelationship(request.params.id, scope.principal);
  return relationshipEntity(200, stored, scope, { select });
}

/**
 * PATCH (SPEC §2.2): the partner's AdminAgent edits; on an active relationship the customer's
 * Global Administrator may remove roles. Removing roles from an active relationship answers 202
 * with the operation that applied it (assignments lose those roles in the same transaction).
 */
export async function updateRelationshipHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  const body = await readJsonBody(request);
  const { principal } = scope;
  const current = await findRelationship(request.params.id);
  const perspective = perspectiveOf(
    assertVisible(current?.value, principal.tenantId, request.params.id),
    principal.tenantId,
  );
  const { value, etag: currentEtag } = current as Stored<Relationship>;
  if (perspective === 'partner') {
    requireAdminAgent(principal);
    // Account-state gate (SPEC §5.3); the customer's own edits are never gated.
    await assertPartnerMay(principal.tenantId, 'updateGdap');
  } else if (!isGlobalAdministrator(principal) || value.status !== 'active') {
    throw forbidden(
      "Only the partner can change a relationship; the customer's Global Administrator may only remove roles of an active one.",
    );
  }
  const next = await withCustomerName(updateRelationship(value, body, scope.now, perspective));
  const expected = etag === '*' ? currentEtag : etag;
  if (!removesRoles(value, next)) {
    return relationshipEntity(200, await replaceRelationship(value, next, expected, callerCause(scope)), scope);
  }
  const operation = succeededOperation(
    newGuid(),
    value.id,
    'delegatedAdminRelationshipUpdate',
    relationshipView(next),
    scope.now,
  );
  await replaceRelationship(value, next, expected, callerCause(scope), { operation });
  return accepted(absoluteUrl(scope, `${operationsPath(value.id)}/${operation.id}`));
}

export async function deleteRelationshipHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const etag = requireIfMatch(request);
  const current = await readOwnRelationship(request.params.id, scope.principal);
  await assertPartnerMay(scope.principal.tenantId, 'updateGdap');
  assertDeletable(current.value);
  await deleteRelationship(current.value, etag === '*' ? current.etag : etag, callerCause(scope));
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
