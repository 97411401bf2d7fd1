import { initialDomain } from './customers';

/** What Graph's `findTenantInformationByTenantId` tells about a tenant (SPEC §14). */
export interface TenantInformation {
  tenantId: string;
  displayName: string;
  defaultDomainName: string;
  federationBrandName: string | null;
}

/** Microsoft's initial domains hold at most 27 letters or digits before `.onmicrosoft.com`. */
const maxDomainPrefixLength = 27;

/**
 * A tenant as the service knows it. Its default domain is the initial domain a customer was created
 * with through Partner Center; otherwise one derived from its name as Microsoft derives initial
 * domains (letters and digits only), or from its id when the name has none.
 */
export function tenantInformation(
  tenantId: string,
  displayName: string,
  knownDomain: string | undefined,
): TenantInformation {
  const fromName = displayName
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase()
    .slice(0, maxDomainPrefixLength);
  const prefix = fromName || `tenant${tenantId.replace(/-/g, '').slice(0, 8)}`.toLowerCase();
  return {
    tenantId,
    displayName,
    defaultDomainName: knownDomain ?? initialDomain(prefix),
    federationBrandName: null,
  };
}
