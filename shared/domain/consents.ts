import { DateTime } from 'luxon';
import { z } from 'zod';
import { EffectiveAccess } from './access';
import { invalid } from './errors';
import { isGuid } from './ids';
import { globalAdministratorRoleId } from './roles';
import { parsePartnerCenterBody } from './schema';
import { toGraphDateTime } from './time';

/**
 * Application consents a partner gives in a customer tenant (SPEC §7): one grant (resource and
 * scopes) per POST, for the very application whose token makes the call.
 */
export interface ConsentGrant {
  customerTenantId: string;
  applicationId: string;
  displayName: string;
  /** The resource's application id, e.g. Microsoft Graph 00000003-0000-0000-c000-000000000000. */
  enterpriseApplicationId: string;
  /** Scopes as Partner Center writes them: comma and space separated ("profile, User.Read"). */
  scope: string;
  consentedByPartnerTenantId: string;
  createdDateTime: string;
}

/** Partner Center's message for a token that cannot consent for this application (SPEC §7). */
export const unsupportedTokenMessage = 'Unsupported token. Unable to initialize the authorization context.';

/** GDAP roles that may consent to applications in the customer (besides DAP with AdminAgent). */
export const consentRoleIds: readonly string[] = [
  globalAdministratorRoleId,
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', // Application Administrator
  '158c047a-c907-4556-b7ef-446551a6b5f7', // Cloud Application Administrator
];

/** Whether effective access lets a partner user consent: DAP (AdminAgent), or GDAP with a consent role. */
export function mayConsent(access: EffectiveAccess): boolean {
  if (access.mode === 'dap') return true;
  return access.mode === 'gdap' && access.roleIds.some((id) => consentRoleIds.includes(id.toLowerCase()));
}

/** Who may manage application consents in a customer, worded like the Partner Center FAQ. */
export const consentAccessRequirement =
  'Managing application consents requires DAP with the AdminAgent role, or an active GDAP relationship with the customer whose access assignment to one of your security groups includes Global Administrator, Application Administrator or Cloud Application Administrator.';

const createSchema = z.strictObject({
  applicationId: z.string().optional(),
  displayName: z.string().optional(),
  applicationGrants: z.array(z.strictObject({ enterpriseApplicationId: z.string(), scope: z.string() })),
});

/** Normalises "profile,User.Read" and "profile, User.Read" to "profile, User.Read"; rejects anything else. */
export function normalizeScope(value: string): string {
  const scopes = value.split(',').map((scope) => scope.trim());
  if (scopes.some((scope) => scope === '' || /\s/.test(scope))) {
    throw invalid(
      `Invalid value for 'scope': ${JSON.stringify(value)}. List the scopes separated by a comma and a space, e.g. "profile, User.Read".`,
    );
  }
  return [...new Set(scopes)].join(', ');
}

/**
 * A consent grant from a POST body (SPEC §7), in the order Partner Center checks: one resource
 * per call, a resource id (not a name), well-formed scopes, then the calling application.
 */
export function parseConsent(
  body: unknown,
  context: { customerTenantId: string; partnerTenantId: string; tokenAppId: string | undefined },
  now: DateTime,
): ConsentGrant {
  const input = parsePartnerCenterBody(createSchema, body, ['createdDateTime', 'customerTenantId']);
  if (input.applicationGrants.length !== 1) {
    throw invalid(
      `'applicationGrants' must hold exactly one resource per request; it holds ${input.applicationGrants.length}. Make one call per resource (enterpriseApplicationId).`,
    );
  }
  const [grant] = input.applicationGrants;
  if (!isGuid(grant.enterpriseApplicationId)) {
    throw invalid(
      `Request_UnsupportedQuery: 'enterpriseApplicationId' ${JSON.stringify(grant.enterpriseApplicationId)} is not a resource id. Use the resource's application id (a GUID), not its name; for Microsoft Graph (graph.microsoft.com) that is 00000003-0000-0000-c000-000000000000.`,
    );
  }
  const scope = normalizeScope(grant.scope);
  const applicationId = input.applicationId?.trim() ?? '';
  const displayName = input.displayName?.trim() ?? '';
  if (
    !isGuid(applicationId) ||
    !context.tokenAppId ||
    applicationId.toLowerCase() !== context.tokenAppId.toLowerCase()
  ) {
    throw invalid(
      `${unsupportedTokenMessage} 'applicationId' must be the id of the application that obtained the access token (its appid claim).`,
    );
  }
  return {
    customerTenantId: context.customerTenantId,
    applicationId: applicationId.toLowerCase(),
    displayName,
    enterpriseApplicationId: grant.enterpriseApplicationId.toLowerCase(),
    scope,
    consentedByPartnerTenantId: context.partnerTenantId,
    createdDateTime: toGraphDateTime(now),
  };
}

/** An application's consent in a customer: all its grants, as Partner Center returns it. */
export interface ApplicationConsent {
  applicationId: string;
  displayName: string;
  applicationGrants: { enterpriseApplicationId: string; scope: string }[];
  createdDateTime: string;
}

/** Groups grants by application (oldest grant first within each). */
export function consentsOf(grants: readonly ConsentGrant[]): ApplicationConsent[] {
  const byApplication = new Map<string, ConsentGrant[]>();
  for (const grant of grants) {
    byApplication.set(grant.applicationId, [...(byApplication.get(grant.applicationId) ?? []), grant]);
  }
  return [...byApplication.values()].map((group) => {
    const sorted = [...group].sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime));
    return {
      applicationId: sorted[0].applicationId,
      displayName: sorted[0].displayName,
      applicationGrants: sorted.map(({ enterpriseApplicationId, scope }) => ({ enterpriseApplicationId, scope })),
      createdDateTime: sorted[0].createdDateTime,
    };
  });
}
