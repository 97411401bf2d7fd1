import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { createPlanned } from '../shared/app/relationships';
import { removeDap } from '../shared/app/dap';
import { actingAs } from '../shared/app/caller';
import {
  Customer,
  DelegatedAccessFacts,
  missingDelegatedAccess,
  newCustomer,
  parseCustomerPatch,
  parseNewCustomer,
} from '../shared/domain/customers';
import { DomainError, forbidden, invalid, notFound } from '../shared/domain/errors';
import { isGuid, newGuid } from '../shared/domain/ids';
import {
  assertGdapAllowed,
  defaultGdapDisplayName,
  defaultGdapDuration,
  defaultGdapRoleIds,
} from '../shared/domain/partners';
import { activateDefault, createRelationship } from '../shared/domain/relationships';
import { readJsonBody } from '../shared/http/body';
import { hasDap } from '../shared/store/dap';
import { AuthenticatedScope, callerOf, graphRoute } from '../shared/http/handler';
import { appRoles, canReadPartnerResources, hasAppRole, Principal } from '../shared/domain/principal';
import { json } from '../shared/http/responses';
import { absoluteUrl, UrlScope } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import {
  delegatedAccessFacts,
  endResellerRelationship,
  findCustomer,
  findCustomerIdByDomain,
  insertCustomer,
} from '../shared/store/customers';
import { setTenantDisplayName, tenantDisplayName } from '../shared/store/directory';
import { getPartnerProfile } from '../shared/store/partners';
import { newRelationshipIdBesideName } from '../shared/store/relationships';

/**
 * Partner Center customers (SPEC §5.2): creation with its default GDAP relationship, and the reads
 * a reseller relationship alone does not allow (company details, users, licences) — those need
 * the caller's effective DAP or GDAP access, else 403 naming what is missing.
 */
const customerUrl = (scope: UrlScope, id: string): string => absoluteUrl(scope, `/v1/customers/${id}`);

/** Partner Center's collection shape. */
const pcCollection = (items: readonly object[]): HttpResponseInit =>
  json(200, { totalCount: items.length, items, attributes: { objectType: 'Collection' } });

function companyProfileView(tenantId: string, customer: Customer | undefined, knownName: string | undefined) {
  return {
    tenantId,
    companyName: customer?.companyProfile.companyName ?? knownName ?? null,
    domain: customer?.companyProfile.domain ?? null,
  };
}

export async function createCustomerHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { principal, now } = scope;
  if (!hasAppRole(principal, appRoles.adminAgent)) {
    throw forbidden('Creating customers requires the AdminAgent role in the partner tenant.');
  }
  const input = parseNewCustomer(await readJsonBody(request));
  const partnerTenantId = principal.tenantId;
  const profile = await getPartnerProfile(partnerTenantId);
  // Advisors and partners who opted out get no default GDAP, whatever the request says.
  const roleIds = input.enableGDAPByDefault ? defaultGdapRoleIds(profile) : [];
  // A default relationship is a new GDAP relationship: the account state must allow creating one.
  if (roleIds.length > 0) assertGdapAllowed(profile, 'createGdap');

  const customer = newCustomer(
    input,
    { tenantId: newGuid(), adminUserId: newGuid(), resellerPartnerTenantId: partnerTenantId },
    now,
  );
  await insertCustomer(customer);
  await setTenantDisplayName(customer.tenantId, customer.companyProfile.companyName);

  let defaultGdapRelationshipId: string | undefined;
  if (roleIds.length > 0) {
    const displayName = defaultGdapDisplayName(customer.companyProfile.companyName, customer.tenantId);
    const draft = createRelationship(
      {
        displayName,
        duration: defaultGdapDuration,
        customer: { tenantId: customer.tenantId, displayName: customer.companyProfile.companyName },
        accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
      },
      { id: newRelationshipIdBesideName(partnerTenantId, displayName), partnerTenantId },
      now,
    );
    // No access assignments: the partner must assign security groups explicitly (SPEC §5.2).
    const stored = await createPlanned(activateDefault(draft, now), callerOf(scope));
    defaultGdapRelationshipId = stored.value.id;
  }

  return json(
    201,
    {
      id: customer.tenantId,
      companyProfile: companyProfileView(customer.tenantId, customer, undefined),
      ...(defaultGdapRelationshipId ? { defaultGdapRelationshipId } : {}),
    },
    { location: customerUrl(scope, customer.tenantId) },
  );
}

/**
 * The customer as a partner user may see it: 404 unless the partner resells to it or has DAP or
 * an active GDAP relationship with it; then 403 naming what is missing unless the caller has
 * effective DAP or GDAP access.
 */
async function readableCustomer(
  request: HttpRequest,
  principal: Principal,
  purpose: string,
): Promise<{ tenantId: string; customer: Customer | undefined; facts: DelegatedAccessFacts }> {
  if (!canReadPartnerResources(principal)) {
    throw forbidden(
      "Reading a customer's data requires the AdminAgent or HelpdeskAgent role, or Global Administrator.",
    );
  }
  const id = request.params.customerTenantId;
  if (!isGuid(id)) throw invalid('The customer id must be a tenant id (GUID).');
  const tenantId = id.toLowerCase();
  const [customer, facts] = await Promise.all([findCustomer(tenantId), delegatedAccessFacts(principal, tenantId)]);
  const related =
    customer?.resellerPartnerTenantId === principal.tenantId ||
    facts.partnerHasDap ||
    facts.partnerActiveGdapRelationships > 0;
  if (!related) throw notFound(`The customer '${tenantId}' was not found.`);
  const missing = missingDelegatedAccess(facts, purpose);
  if (missing) throw forbidden(missing);
  return { tenantId, customer, facts };
}

export async function getCustomerHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { tenantId, customer, facts } = await readableCustomer(
    request,
    scope.principal,
    "see the customer's company details",
  );
  return json(200, {
    id: tenantId,
    companyProfile: companyProfileView(tenantId, customer, await tenantDisplayName(tenantId)),
    relationshipToPartner: customer?.resellerPartnerTenantId === scope.principal.tenantId ? 'reseller' : 'none',
    allowDelegatedAccess: facts.partnerHasDap,
    ...(customer ? { createdDateTime: customer.createdDateTime } : {}),
    attributes: { objectType: 'Customer' },
  });
}

/**
 * Partner Center's "remove a reseller relationship with a customer" (CIPP's contract termination
 * when offboarding a tenant): `{"relationshipToPartner": "none"}` ends the partner's reseller
 * relationship and, as in Partner Center, its DAP (audited, with its webhook event); GDAP
 * relationships are left to their own terminate requests. The customer may be named by its
 * tenant id or its initial domain (CIPP sends the domain).
 */
export async function removeResellerHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  if (!hasAppRole(scope.principal, appRoles.adminAgent)) {
    throw forbidden('Removing a reseller relationship requires the AdminAgent role in the partner tenant.');
  }
  parseCustomerPatch(await readJsonBody(request));
  const partnerTenantId = scope.principal.tenantId;
  const key = request.params.customerTenantId;
  const tenantId = isGuid(key) ? key.toLowerCase() : await findCustomerIdByDomain(key);
  const notResold = () => notFound(`The partner has no reseller relationship with customer '${key}'.`);
  if (!tenantId || !(await endResellerRelationship(tenantId, partnerTenantId))) throw notResold();
  // One point read first: removeDap reads the customer's GDAP grants too, for its warnings.
  if (await hasDap(partnerTenantId, tenantId)) {
    try {
      await removeDap(partnerTenantId, tenantId, actingAs(scope));
    } catch (error) {
      // Removed meanwhile by another request: the asked-for state.
      if (!(error instanceof DomainError && error.kind === 'notFound')) throw error;
    }
  }
  const customer = await findCustomer(tenantId);
  return json(200, {
    id: tenantId,
    companyProfile: companyProfileView(tenantId, customer, await tenantDisplayName(tenantId)),
    relationshipToPartner: 'none',
    allowDelegatedAccess: false,
    attributes: { objectType: 'Customer' },
  });
}

export async function listCustomerUsersHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { customer } = await readableCustomer(request, scope.principal, "see the customer's users");
  // The service keeps no directory of users: a tenant it created has its first administrator.
  const users = customer
    ? [
        {
          id: customer.adminUserId,
          userPrincipalName: `admin@${customer.companyProfile.domain}`,
          displayName: 'Administrator',
          userDomainType: 'initial_domain',
          state: 'active',
        },
      ]
    : [];
  return pcCollection(users);
}

export async function listSubscribedSkusHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  await readableCustomer(request, scope.principal, "see the customer's licences");
  // Orders and subscriptions are outside this service: no licences to report.
  return pcCollection([]);
}

registerHttp({
  name: 'customers',
  methods: ['POST'],
  route: 'v1/customers',
  handler: graphRoute(createCustomerHandler),
});

registerHttp({
  name: 'customer',
  methods: ['GET', 'PATCH'],
  route: 'v1/customers/{customerTenantId}',
  handler: graphRoute((request, scope) =>
    request.method === 'PATCH' ? removeResellerHandler(request, scope) : getCustomerHandler(request, scope),
  ),
});

registerHttp({
  name: 'customerUsers',
  methods: ['GET'],
  route: 'v1/customers/{customerTenantId}/users',
  handler: graphRoute(listCustomerUsersHandler),
});

registerHttp({
  name: 'customerSubscribedSkus',
  methods: ['GET'],
  route: 'v1/customers/{customerTenantId}/subscribedskus',
  handler: graphRoute(listSubscribedSkusHandler),
});
