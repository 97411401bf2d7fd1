import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { forbidden, notFound } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { Relationship } from '../shared/domain/relationships';
import { ManagedService, servicesManagedBy } from '../shared/domain/roles';
import { customersPath, customerView, graphTypes, serviceManagementDetailView } from '../shared/http/graphViews';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery, parseEntityQuery } from '../shared/query/odata';
import { canReadPartnerResources, Principal } from '../shared/domain/principal';
import { collectionPage, entityBody, json } from '../shared/http/responses';
import { odataContext } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { Keyed, pageInMemory } from '../shared/query/paging';
import { activeRelationshipsWith } from '../shared/store/relationships';

/**
 * delegatedAdminCustomers (SPEC §3.4): derived from the partner's active relationships, so a
 * customer exists exactly while at least one relationship with it is active.
 */
interface Customer {
  tenantId: string;
  displayName: string;
}

export const customerCollection: CollectionSpec<Customer> = {
  fields: [
    { path: 'tenantId', type: 'guid', get: (c) => c.tenantId },
    { path: 'displayName', type: 'string', caseInsensitive: true, get: (c) => c.displayName },
  ],
  selectable: ['id', 'tenantId', 'displayName'],
};

export const serviceCollection: CollectionSpec<ManagedService> = {
  fields: [{ path: 'serviceName', type: 'string', caseInsensitive: true, get: (s) => s.serviceName }],
  selectable: ['id', 'serviceName', 'serviceManagementUrl'],
};

function assertPartnerReader(principal: Principal): void {
  if (!canReadPartnerResources(principal)) {
    throw forbidden('Reading customers requires the AdminAgent or HelpdeskAgent role, or Global Administrator.');
  }
}

/** The customer's name as its most recently activated relationship knows it. */
function customerOf(relationships: readonly Relationship[]): Customer | undefined {
  const latest = [...relationships].sort((a, b) =>
    (b.activatedDateTime ?? '').localeCompare(a.activatedDateTime ?? ''),
  )[0];
  return latest?.customer
    ? { tenantId: latest.customer.tenantId, displayName: latest.customer.displayName }
    : undefined;
}

async function activeWith(principal: Principal, customerTenantId: string): Promise<Relationship[]> {
  assertPartnerReader(principal);
  const relationships = isGuid(customerTenantId)
    ? await activeRelationshipsWith(principal.tenantId, customerTenantId.toLowerCase())
    : [];
  if (relationships.length === 0) throw notFound(`The delegated admin customer '${customerTenantId}' was not found.`);
  return relationships.map((item) => item.value);
}

export async function listCustomersHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  assertPartnerReader(scope.principal);
  const query = parseCollectionQuery(new URL(request.url).searchParams, customerCollection);
  const byCustomer = new Map<string, Relationship[]>();
  for (const { value } of await activeRelationshipsWith(scope.principal.tenantId)) {
    if (value.customer)
      byCustomer.set(value.customer.tenantId, [...(byCustomer.get(value.customer.tenantId) ?? []), value]);
  }
  const customers: Keyed<Customer>[] = [...byCustomer.values()].flatMap((relationships) => {
    const customer = customerOf(relationships);
    return customer ? [{ value: customer, etag: '', key: customer.tenantId }] : [];
  });
  const page = pageInMemory(customers, query, customerCollection);
  return collectionPage(request, scope, customersPath, page, (item) =>
    applySelect(entityBody(customerView(item.value), { odataType: graphTypes.customer }), query.select),
  );
}

export async function getCustomerHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { select } = parseEntityQuery(new URL(request.url).searchParams, customerCollection);
  const customer = customerOf(await activeWith(scope.principal, request.params.customerId)) as Customer;
  const body = entityBody(customerView(customer), {
    context: odataContext(scope, customersPath),
    odataType: graphTypes.customer,
  });
  return json(200, applySelect(body, select));
}

/** The admin centers the roles of the active relationships with this customer let the partner manage. */
export async function listServicesHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const query = parseCollectionQuery(new URL(request.url).searchParams, serviceCollection);
  const relationships = await activeWith(scope.principal, request.params.customerId);
  const customerTenantId = relationships[0].customer?.tenantId as string;
  const services = servicesManagedBy(relationships.flatMap((relationship) => relationship.roleIds));
  const page = pageInMemory(
    services.map((value) => ({ value, etag: '', key: value.id })),
    query,
    serviceCollection,
  );
  return collectionPage(request, scope, `${customersPath}/${customerTenantId}/serviceManagementDetails`, page, (item) =>
    applySelect(
      entityBody(serviceManagementDetailView(item.value, customerTenantId), {
        odataType: graphTypes.serviceManagementDetail,
      }),
      query.select,
    ),
  );
}

registerHttp({
  name: 'delegatedAdminCustomers',
  methods: ['GET'],
  route: 'v1.0/tenantRelationships/delegatedAdminCustomers',
  handler: graphRoute(listCustomersHandler),
});

registerHttp({
  name: 'delegatedAdminCustomer',
  methods: ['GET'],
  route: 'v1.0/tenantRelationships/delegatedAdminCustomers/{customerId}',
  handler: graphRoute(getCustomerHandler),
});

registerHttp({
  name: 'delegatedAdminCustomerServices',
  methods: ['GET'],
  route: 'v1.0/tenantRelationships/delegatedAdminCustomers/{customerId}/serviceManagementDetails',
  handler: graphRoute(listServicesHandler),
});
