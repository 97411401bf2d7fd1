import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { forbidden, invalid, notFound } from '../shared/domain/errors';
import { isGuid } from '../shared/domain/ids';
import { gdapPermissions, PartnerProfile, parsePartnerProfile } from '../shared/domain/partners';
import { readJsonBody } from '../shared/http/body';
import { AuthenticatedScope, graphRoute, RequestScope } from '../shared/http/handler';
import { appRoles, canReadPartnerResources, hasAppRole } from '../shared/domain/principal';
import { json } from '../shared/http/responses';
import { registerHttp } from '../shared/registrations';
import { getPartnerProfile, putPartnerProfile } from '../shared/store/partners';
import { sandboxRoute } from './sandbox';

/**
 * Partner account profiles (SPEC §5.1): partner types, CSP program states, default-GDAP opt-out.
 * A ServiceOperator manages them (`/v1/partners/{tenantId}/profile`); a partner's own readers may
 * read theirs; in sandbox mode `PUT /sandbox/partners/{tenantId}` seeds them without a token.
 */
function profileView(profile: PartnerProfile): Record<string, unknown> {
  const allowed = gdapPermissions(profile);
  return {
    tenantId: profile.tenantId,
    partnerTypes: profile.partnerTypes,
    programStates: profile.programStates,
    defaultGdapOptOut: profile.defaultGdapOptOut,
    // Derived, read-only: what the account state allows (SPEC §5.3).
    gdapPermissions: { createRelationships: allowed.createGdap, updateRelationships: allowed.updateGdap },
    lastModifiedDateTime: profile.lastModifiedDateTime,
  };
}

function tenantParam(request: HttpRequest): string {
  const tenantId = request.params.tenantId;
  if (!isGuid(tenantId)) throw invalid('The partner tenant id must be a GUID.');
  return tenantId.toLowerCase();
}

async function putProfile(request: HttpRequest, scope: RequestScope): Promise<HttpResponseInit> {
  const tenantId = tenantParam(request);
  const profile = parsePartnerProfile(await readJsonBody(request), tenantId, scope.now);
  await putPartnerProfile(profile);
  return json(200, profileView(profile));
}

export async function partnerProfileHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  const { principal } = scope;
  const tenantId = tenantParam(request);
  const operator = hasAppRole(principal, appRoles.serviceOperator);
  if (request.method === 'PUT') {
    if (!operator) throw forbidden('Partner account profiles are managed by the ServiceOperator role.');
    return putProfile(request, scope);
  }
  if (!operator) {
    // Another tenant's profile does not exist as far as the caller can tell (SPEC §1).
    if (principal.tenantId !== tenantId) throw notFound(`The partner profile of '${tenantId}' was not found.`);
    if (!canReadPartnerResources(principal)) {
      throw forbidden(
        'Reading the partner account profile requires AdminAgent, HelpdeskAgent or Global Administrator.',
      );
    }
  }
  return json(200, profileView(await getPartnerProfile(tenantId)));
}

registerHttp({
  name: 'partnerProfile',
  methods: ['GET', 'PUT'],
  route: 'v1/partners/{tenantId}/profile',
  handler: graphRoute(partnerProfileHandler),
});

registerHttp({
  name: 'sandboxPartner',
  methods: ['GET', 'PUT'],
  route: 'sandbox/partners/{tenantId}',
  handler: sandboxRoute(async (request, scope) =>
    request.method === 'PUT'
      ? putProfile(request, scope)
      : json(200, profileView(await getPartnerProfile(tenantParam(request)))),
  ),
});
