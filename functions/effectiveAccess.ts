import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { EffectiveAccess } from '../shared/domain/access';
import { forbidden, invalid } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { parseBody } from '../shared/domain/schema';
import { readJsonBody } from '../shared/http/body';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { appRoles, hasAppRole } from '../shared/domain/principal';
import { json } from '../shared/http/responses';
import { registerHttp } from '../shared/registrations';
import { effectiveAccessFor, principalAccessTo } from '../shared/store/access';

/** Who really has access (SPEC §6): for the caller, or what-if for a ServiceOperator. */
export function effectiveAccessView(access: EffectiveAccess): Record<string, unknown> {
  return {
    customerTenantId: access.customerTenantId,
    mode: access.mode,
    unifiedRoles: access.roleIds.map((roleDefinitionId) => ({ roleDefinitionId })),
    grantedBy: access.grantedBy,
  };
}

export async function callerAccessHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const params = new URL(request.url).searchParams;
  const option = [...params.keys()].find((name) => name !== 'customerTenantId');
  if (option) throw invalid(`Query parameter '${option}' is not supported; only customerTenantId is.`);
  const customerTenantId = params.get('customerTenantId');
  if (!isGuid(customerTenantId)) throw invalid("The 'customerTenantId' query parameter must be a tenant id (GUID).");
  return json(200, effectiveAccessView(await principalAccessTo(scope.principal, customerTenantId)));
}

const guid = z.string().refine(isGuid, 'must be a GUID');
const evaluateSchema = z.strictObject({
  partnerTenantId: guid,
  customerTenantId: guid,
  groups: z.array(guid).default([]),
  roles: z.array(z.string()).default([]),
  isGuest: z.boolean().default(false),
});

export async function evaluateAccessHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  if (!hasAppRole(scope.principal, appRoles.serviceOperator)) {
    throw forbidden('Evaluating the access of another user requires the ServiceOperator role.');
  }
  const input = parseBody(evaluateSchema, await readJsonBody(request));
  if (input.partnerTenantId.toLowerCase() === input.customerTenantId.toLowerCase()) {
    throw invalid('The partner and the customer must be different tenants.');
  }
  const access = await effectiveAccessFor(
    input.partnerTenantId.toLowerCase(),
    { groups: input.groups, isAdminAgent: input.roles.includes(appRoles.adminAgent), isGuest: input.isGuest },
    input.customerTenantId.toLowerCase(),
  );
  return json(200, effectiveAccessView(access));
}

registerHttp({
  name: 'effectiveAccess',
  methods: ['GET'],
  route: 'v1.0/tenantRelationships/effectiveAccess',
  handler: graphRoute(callerAccessHandler),
});

registerHttp({
  name: 'effectiveAccessEvaluate',
  methods: ['POST'],
  route: 'v1.0/tenantRelationships/effectiveAccess/evaluate',
  handler: graphRoute(evaluateAccessHandler),
});
