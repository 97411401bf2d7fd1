import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import {
  closeRequest,
  diagnosticsAccess,
  fileSupportRequest,
  readSupportRequest,
  visibleRequests,
} from '../shared/app/support';
import { invalid } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { Relationship } from '../shared/domain/relationships';
import { parseBody } from '../shared/domain/schema';
import { parseSupportRequestInput } from '../shared/domain/support';
import { toGraphDateTime } from '../shared/domain/time';
import { readJsonBody } from '../shared/http/body';
import { assignmentView, graphTypes, relationshipView } from '../shared/http/graphViews';
import { AuthenticatedScope, callerOf, graphRoute } from '../shared/http/handler';
import { collectionPage, json } from '../shared/http/responses';
import {
  entityResponse,
  supportPaths,
  supportRequestCollection,
  supportRequestView,
  supportTypes,
} from '../shared/http/supportViews';
import { odataContext } from '../shared/http/urls';
import { applySelect, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { Keyed, pageInMemory } from '../shared/query/paging';
import { registerHttp } from '../shared/registrations';
import { listAuditEntries, newestFirstKey } from '../shared/store/events';
import { listChildren, listCustomerRelationships, listPartnerRelationships } from '../shared/store/relationships';
import { assignmentFromRow, childKinds } from '../shared/store/rows';
import { SupportRequest } from '../shared/domain/support';
import { auditCollection, auditView } from './auditLogs';
import { relationshipCollection } from './relationships';

/** Support requests (SPEC §8.1) and the engineer's diagnostic snapshot (§8.4). */

/** Recent audit entries in a diagnostic snapshot. */
const diagnosticAuditEntries = 50;

/** Actions take no input: a body, if any, must be an empty JSON object. */
export async function readEmptyBody(request: HttpRequest): Promise<void> {
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length === 0 && !request.headers.get('transfer-encoding')) return;
  parseBody(z.strictObject({}), await readJsonBody(request));
}

const requestResponse = (
  status: number,
  stored: { value: SupportRequest; etag: string },
  scope: AuthenticatedScope,
  extras: { location?: boolean; select?: readonly string[] } = {},
) =>
  entityResponse(status, stored, supportRequestView(stored.value), {
    scope,
    path: supportPaths.requests,
    odataType: supportTypes.request,
    ...extras,
  });

export async function createSupportRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const input = parseSupportRequestInput(await readJsonBody(request));
  return requestResponse(201, await fileSupportRequest(input, callerOf(scope)), scope, { location: true });
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
  return collectionPage(request, scope, supportPaths.requests, page, (item) =>
    applySelect({ '@odata.type': supportTypes.request, ...supportRequestView(item.value) }, query.select),
  );
}

export async function getSupportRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, supportRequestCollection);
  return requestResponse(200, await readSupportRequest(request.params.id, scope.principal), scope, { select });
}

export async function closeSupportRequestHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  await readEmptyBody(request);
  return requestResponse(200, await closeRequest(request.params.id, callerOf(scope)), scope);
}

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
  // A tenant's snapshot shows its own security groups only: never a partner's, which hold its roles in the customer.
  const assignments = await Promise.all(
    related
      .filter(({ role }) => role === 'partner')
      .map(async ({ relationship }) =>
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
  if (!isGuid(tenantId)) throw invalid(`The tenant id must be a GUID, not '${tenantId}'.`);
  const { request: supportRequest, basis } = await diagnosticsAccess(id, tenantId, scope.principal);
  const snapshot = await diagnosticSnapshot(tenantId.toLowerCase());
  return json(200, {
    '@odata.context': `${odataContext(scope, `${supportPaths.requests}/${supportRequest.id}/diagnostics`)}/$entity`,
    '@odata.type': supportTypes.diagnostics,
    supportRequestId: supportRequest.id,
    tenantId: tenantId.toLowerCase(),
    accessBasis: basis,
    readOnly: true,
    capturedDateTime: toGraphDateTime(scope.now),
    ...snapshot,
  });
}

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
