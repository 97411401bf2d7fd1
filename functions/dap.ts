import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { forbidden, invalid } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { toGraphDateTime } from '../shared/domain/time';
import { AuthenticatedScope, graphRoute, RequestScope } from '../shared/http/handler';
import { appRoles, canReadPartnerResources, hasAppRole } from '../shared/domain/principal';
import { json, noContent } from '../shared/http/responses';
import { odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { actingAs, actingAsSystem } from '../shared/app/caller';
import { removeDap } from '../shared/app/dap';
import { ChangeCause } from '../shared/domain/events';
import { importDap, listDap } from '../shared/store/dap';
import { seedSandboxTenantName } from '../shared/store/directory';
import { sandboxRoute } from './sandbox';

/**
 * Legacy DAP relationships (SPEC §6): they exist only by import (ServiceOperator or sandbox);
 * partners may remove theirs, with warnings when GDAP does not yet cover what DAP gave.
 */
function tenantPair(request: HttpRequest): { partnerTenantId: string; customerTenantId: string } {
  const { partnerTenantId, customerTenantId } = request.params;
  if (!isGuid(partnerTenantId) || !isGuid(customerTenantId)) throw invalid('Tenant ids must be GUIDs.');
  if (partnerTenantId.toLowerCase() === customerTenantId.toLowerCase()) {
    throw invalid('The partner and the customer must be different tenants.');
  }
  return { partnerTenantId: partnerTenantId.toLowerCase(), customerTenantId: customerTenantId.toLowerCase() };
}

async function importHandler(request: HttpRequest, scope: RequestScope): Promise<HttpResponseInit> {
  const pair = tenantPair(request);
  const relationship = { ...pair, createdDateTime: toGraphDateTime(scope.now) };
  await importDap(relationship);
  // The customer is a tenant the sandbox now knows: it gets its readable name (SPEC §14).
  await seedSandboxTenantName(pair.customerTenantId);
  return json(200, relationship);
}

/** Removes a DAP: 204, or 200 with warnings when the customer's GDAP does not yet cover it. */
async function removeHandler(
  partnerTenantId: string,
  customerTenantId: string,
  cause: ChangeCause,
): Promise<HttpResponseInit> {
  const warnings = await removeDap(partnerTenantId, customerTenantId, cause);
  return warnings.length ? json(200, { warnings }) : noContent();
}

function requireServiceOperator(scope: AuthenticatedScope): void {
  if (!hasAppRole(scope.principal, appRoles.serviceOperator)) {
    throw forbidden('Importing or removing DAP relationships for a partner requires the ServiceOperator role.');
  }
}

registerHttp({
  name: 'dapRelationships',
  methods: ['GET'],
  route: 'v1/dapRelationships',
  handler: graphRoute(async (_request, scope) => {
    if (!canReadPartnerResources(scope.principal)) {
      throw forbidden(
        'Reading DAP relationships requires the AdminAgent or HelpdeskAgent role, or Global Administrator.',
      );
    }
    const value = (await listDap(scope.principal.tenantId)).map(({ customerTenantId, createdDateTime }) => ({
      customerTenantId,
      createdDateTime,
    }));
    return json(200, { '@odata.context': odataContext(scope, '/v1/dapRelationships'), value });
  }),
});

registerHttp({
  name: 'dapRelationship',
  methods: ['DELETE'],
  route: 'v1/dapRelationships/{customerTenantId}',
  handler: graphRoute(async (request, scope) => {
    if (!hasAppRole(scope.principal, appRoles.adminAgent)) {
      throw forbidden('Removing a DAP relationship requires the AdminAgent role in the partner tenant.');
    }
    if (!isGuid(request.params.customerTenantId)) throw invalid('The customer tenant id must be a GUID.');
    return removeHandler(scope.principal.tenantId, request.params.customerTenantId.toLowerCase(), actingAs(scope));
  }),
});

registerHttp({
  name: 'operatorDapRelationship',
  methods: ['PUT', 'DELETE'],
  route: 'v1/partners/{partnerTenantId}/dapRelationships/{customerTenantId}',
  handler: graphRoute(async (request, scope) => {
    requireServiceOperator(scope);
    if (request.method === 'PUT') return importHandler(request, scope);
    const pair = tenantPair(request);
    return removeHandler(pair.partnerTenantId, pair.customerTenantId, actingAs(scope));
  }),
});

registerHttp({
  name: 'sandboxDap',
  methods: ['PUT', 'DELETE'],
  route: 'sandbox/dap/{partnerTenantId}/{customerTenantId}',
  handler: sandboxRoute(async (request, scope) => {
    if (request.method === 'PUT') return importHandler(request, scope);
    const pair = tenantPair(request);
    return removeHandler(pair.partnerTenantId, pair.customerTenantId, actingAsSystem(scope.now));
  }),
});
