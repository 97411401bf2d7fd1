import { HttpRequest, HttpResponseInit } from '@azure/functions';
import {
  ApplicationConsent,
  consentAccessRequirement,
  consentsOf,
  mayConsent,
  parseConsent,
  unsupportedTokenMessage,
} from '../shared/domain/consents';
import { forbidden, invalid, notFound } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { readJsonBody } from '../shared/http/body';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { Principal } from '../shared/domain/principal';
import { json, noContent } from '../shared/http/responses';
import { absoluteUrl } from '../shared/http/urls';
import { registerHttp } from '../shared/registrations';
import { principalAccessTo } from '../shared/store/access';
import { deleteConsent, insertConsentGrant, listConsentGrants } from '../shared/store/consents';

/**
 * Application consents in a customer tenant (SPEC §7), Partner Center paths. Access is the
 * caller's effective access to the customer: DAP (AdminAgent), or GDAP whose assigned roles
 * include Global Administrator, Application Administrator or Cloud Application Administrator.
 * Each POST consents one resource; to add scopes, DELETE the application's consent and POST again.
 */
const consentsPath = (customerTenantId: string): string => `/v1/customers/${customerTenantId}/applicationconsents`;

function customerParam(request: HttpRequest): string {
  const id = request.params.customerTenantId;
  if (!isGuid(id)) throw invalid('The customer tenant id must be a GUID.');
  return id.toLowerCase();
}

function applicationParam(request: HttpRequest): string {
  const id = request.params.applicationId;
  if (!isGuid(id)) throw invalid('The application id must be a GUID.');
  return id.toLowerCase();
}

const consentView = (customerTenantId: string, consent: ApplicationConsent) => ({ customerTenantId, ...consent });

async function callerMayConsent(principal: Principal, customerTenantId: string): Promise<boolean> {
  return mayConsent(await principalAccessTo(principal, customerTenantId));
}

/** Reads and deletions need the same access as consenting; without it, 403. */
async function requireConsentAccess(principal: Principal, customerTenantId: string): Promise<void> {
  if (!(await callerMayConsent(principal, customerTenantId))) throw forbidden(consentAccessRequirement);
}

export async function createConsentHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const { principal } = scope;
  const customerTenantId = customerParam(request);
  const grant = parseConsent(
    await readJsonBody(request),
    { customerTenantId, partnerTenantId: principal.tenantId, tokenAppId: principal.appId },
    scope.now,
  );
  // Partner Center answers a caller without the access with the same 400 as a wrong application.
  if (!(await callerMayConsent(principal, customerTenantId))) {
    throw invalid(`${unsupportedTokenMessage} ${consentAccessRequirement}`);
  }
  await insertConsentGrant(grant);
  const [consent] = consentsOf(await listConsentGrants(customerTenantId, grant.applicationId));
  return json(201, consentView(customerTenantId, consent), {
    location: absoluteUrl(scope, `${consentsPath(customerTenantId)}/${grant.applicationId}`),
  });
}

export async function listConsentsHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const customerTenantId = customerParam(request);
  await requireConsentAccess(scope.principal, customerTenantId);
  const items = consentsOf(await listConsentGrants(customerTenantId)).map((consent) =>
    consentView(customerTenantId, consent),
  );
  return json(200, { totalCount: items.length, items, attributes: { objectType: 'Collection' } });
}

export async function getConsentHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const customerTenantId = customerParam(request);
  const applicationId = applicationParam(request);
  await requireConsentAccess(scope.principal, customerTenantId);
  const [consent] = consentsOf(await listConsentGrants(customerTenantId, applicationId));
  if (!consent) throw notFound(`The application '${applicationId}' has no consent in this customer.`);
  return json(200, consentView(customerTenantId, consent));
}

export async function deleteConsentHandler(request: HttpRequest, scope: AuthenticatedScope): Promise<HttpResponseInit> {
  const customerTenantId = customerParam(request);
  const applicationId = applicationParam(request);
  await requireConsentAccess(scope.principal, customerTenantId);
  if (!(await deleteConsent(customerTenantId, applicationId))) {
    throw notFound(`The application '${applicationId}' has no consent in this customer.`);
  }
  return noContent();
}

registerHttp({
  name: 'applicationConsents',
  methods: ['GET', 'POST'],
  route: 'v1/customers/{customerTenantId}/applicationconsents',
  handler: graphRoute((request, scope) =>
    request.method === 'POST' ? createConsentHandler(request, scope) : listConsentsHandler(request, scope),
  ),
});

registerHttp({
  name: 'applicationConsent',
  methods: ['GET', 'DELETE'],
  route: 'v1/customers/{customerTenantId}/applicationconsents/{applicationId}',
  handler: graphRoute((request, scope) =>
    request.method === 'DELETE' ? deleteConsentHandler(request, scope) : getConsentHandler(request, scope),
  ),
});
