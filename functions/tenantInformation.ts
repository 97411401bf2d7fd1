import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { invalid, notFound } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { tenantInformation } from '../shared/domain/tenants';
import { tenantInformationView } from '../shared/http/graphViews';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { json } from '../shared/http/responses';
import { odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { findCustomer } from '../shared/store/customers';
import { tenantDisplayName } from '../shared/store/directory';

/**
 * Graph's `findTenantInformationByTenantId` (SPEC §14), answered from the tenants the service
 * knows (names from the directory, initial domains of customers created through Partner Center).
 * Any authenticated caller may look a tenant up, as in Graph.
 */
export async function findTenantInformationHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { tenantId } = request.params;
  if (!isGuid(tenantId)) throw invalid(`'tenantId' must be a tenant id (GUID); got ${JSON.stringify(tenantId)}.`);
  const id = tenantId.toLowerCase();
  const [displayName, customer] = await Promise.all([tenantDisplayName(id), findCustomer(id)]);
  const name = displayName ?? customer?.companyProfile.companyName;
  if (name === undefined) throw notFound(`The tenant '${tenantId}' was not found.`);
  const tenant = tenantInformation(id, name, customer?.companyProfile.domain);
  // Graph names the type, not an entity set, as this function's context.
  const context = odataContext(scope, 'microsoft.graph.tenantInformation');
  return json(200, { '@odata.context': context, ...tenantInformationView(tenant) });
}

registerHttp({
  name: 'findTenantInformationByTenantId',
  methods: ['GET'],
  route: "v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='{tenantId}')",
  handler: graphRoute(findTenantInformationHandler),
});
