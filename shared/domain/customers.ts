import { DateTime } from 'luxon';
import { z } from 'zod';
import { EffectiveAccess } from './access';
import { invalid } from './errors';
import { parsePartnerCenterBody } from './schema';
import { toGraphDateTime } from './time';

/**
 * Customers a partner creates in Partner Center (SPEC §5.2), and why a partner user may or may not
 * see a customer's data (§5.2: a reseller relationship without DAP or GDAP sees none of it).
 */
export interface CompanyProfile {
  companyName: string;
  /** The customer's initial domain, `{prefix}.onmicrosoft.com`. */
  domain: string;
}

export interface Customer {
  tenantId: string;
  companyProfile: CompanyProfile;
  /** The partner that created the customer (its reseller); null once it removed that relationship. */
  resellerPartnerTenantId: string | null;
  /** The customer's first Global Administrator, created with the tenant. */
  adminUserId: string;
  createdDateTime: string;
}

export interface NewCustomerRequest {
  companyProfile: CompanyProfile;
  enableGDAPByDefault: boolean;
}

const initialDomainSuffix = '.onmicrosoft.com';
const maxCompanyNameLength = 256;
// Microsoft's initial domains: letters and digits only, at most 27 of them, before .onmicrosoft.com.
const domainPrefixPattern = /^[a-z0-9]{1,27}$/;

const createSchema = z.strictObject({
  companyProfile: z.strictObject({ companyName: z.string(), domain: z.string() }),
  enableGDAPByDefault: z.boolean().optional(),
});

/** The initial domain from `contoso` or `contoso.onmicrosoft.com`, lower case and with its suffix. */
export function initialDomain(value: string): string {
  const lower = value.trim().toLowerCase();
  const prefix = lower.endsWith(initialDomainSuffix) ? lower.slice(0, -initialDomainSuffix.length) : lower;
  if (!domainPrefixPattern.test(prefix)) {
    throw invalid(
      `Invalid value for 'companyProfile.domain': ${JSON.stringify(value)}. Give the initial domain's prefix (1 to 27 letters or digits), for example 'contoso' or 'contoso${initialDomainSuffix}'.`,
    );
  }
  return `${prefix}${initialDomainSuffix}`;
}

export function parseNewCustomer(body: unknown): NewCustomerRequest {
  const input = parsePartnerCenterBody(createSchema, body, ['id', 'defaultGdapRelationshipId', 'tenantId']);
  const companyName = input.companyProfile.companyName.trim();
  if (companyName.length < 1 || companyName.length > maxCompanyNameLength) {
    throw invalid(`'companyProfile.companyName' must be 1 to ${maxCompanyNameLength} characters.`);
  }
  return {
    companyProfile: { companyName, domain: initialDomain(input.companyProfile.domain) },
    // Absent means yes (SPEC §5.2).
    enableGDAPByDefault: input.enableGDAPByDefault ?? true,
  };
}

export function newCustomer(
  request: NewCustomerRequest,
  ids: { tenantId: string; adminUserId: string; resellerPartnerTenantId: string },
  now: DateTime,
): Customer {
  return {
    tenantId: ids.tenantId,
    companyProfile: request.companyProfile,
    resellerPartnerTenantId: ids.resellerPartnerTenantId,
    adminUserId: ids.adminUserId,
    createdDateTime: toGraphDateTime(now),
  };
}

/**
 * A PATCH of a customer (Partner Center's "remove a reseller relationship"): the only change it
 * makes is `relationshipToPartner: "none"`. The Partner Center SDKs send a whole Customer object,
 * so the other properties it carries are ignored.
 */
const patchSchema = z.object({
  relationshipToPartner: z.string(),
  allowDelegatedAccess: z.boolean().nullable().optional(),
});

export function parseCustomerPatch(body: unknown): { relationshipToPartner: 'none' } {
  const input = parsePartnerCenterBody(patchSchema, body);
  if (input.relationshipToPartner.toLowerCase() !== 'none') {
    throw invalid(
      `Invalid value for 'relationshipToPartner': ${JSON.stringify(input.relationshipToPartner)}. A PATCH of a customer removes the reseller relationship: send "none".`,
    );
  }
  if (input.allowDelegatedAccess === true) {
    throw invalid("'allowDelegatedAccess' cannot be true: removing the reseller relationship also removes DAP.");
  }
  return { relationshipToPartner: 'none' };
}

/** What decides whether a partner user may see a customer's data. */
export interface DelegatedAccessFacts {
  customerTenantId: string;
  access: EffectiveAccess;
  partnerHasDap: boolean;
  partnerActiveGdapRelationships: number;
  isAdminAgent: boolean;
}

/**
 * Why a partner user without effective access (mode `none`) cannot `purpose` (e.g. "see the
 * customer's users"), naming what is missing; undefined when the user has DAP or GDAP access.
 */
export function missingDelegatedAccess(facts: DelegatedAccessFacts, purpose: string): string | undefined {
  if (facts.access.mode !== 'none') return undefined;
  const customer = `customer '${facts.customerTenantId}'`;
  if (!facts.partnerHasDap && facts.partnerActiveGdapRelationships === 0) {
    return `The partner has neither DAP nor an active GDAP relationship with ${customer}, so you cannot ${purpose}. A reseller relationship alone allows creating customers and placing orders only: ask the customer to approve a GDAP relationship, then assign its roles to your security groups.`;
  }
  const parts: string[] = [];
  if (facts.partnerActiveGdapRelationships > 0) {
    parts.push(
      `the partner has an active GDAP relationship with ${customer}, but none of your security groups holds an active access assignment on it`,
    );
  } else {
    parts.push(`the partner has no active GDAP relationship with ${customer}`);
  }
  if (facts.partnerHasDap) {
    parts.push(
      facts.isAdminAgent
        ? 'its DAP relationship does not apply to guest accounts'
        : 'its DAP relationship applies only to AdminAgent users',
    );
  }
  return `You have no GDAP or DAP access to ${customer}, so you cannot ${purpose}: ${parts.join('; ')}. GDAP roles are granted through access assignments to security groups.`;
}
