/**
 * Who really has access (SPEC §6): a partner user's effective access to one customer, from the
 * facts the store gathered. GDAP wins whenever one of the user's groups holds an active
 * assignment on an active relationship; otherwise DAP gives AdminAgents Global Administrator.
 */
import { globalAdministratorRoleId, servicesManagedBy } from './roles';

/** One active access assignment on an active relationship between the partner and the customer. */
export interface AccessGrant {
  relationshipId: string;
  accessAssignmentId: string;
  /** The security group in the partner tenant. */
  accessContainerId: string;
  roleIds: readonly string[];
}

export interface AccessFacts {
  customerTenantId: string;
  grants: readonly AccessGrant[];
  hasDap: boolean;
}

/** The partner user, from token claims only. */
export interface PartnerUser {
  groups: readonly string[];
  isAdminAgent: boolean;
  /** Guest accounts count for GDAP, not for DAP. */
  isGuest: boolean;
}

export type AccessMode = 'gdap' | 'dap' | 'none';

export interface EffectiveAccess {
  customerTenantId: string;
  mode: AccessMode;
  roleIds: string[];
  grantedBy: { relationshipId: string; accessAssignmentId: string; accessContainerId: string }[];
}

export function resolveEffectiveAccess(user: PartnerUser, facts: AccessFacts): EffectiveAccess {
  const groups = new Set(user.groups.map((group) => group.toLowerCase()));
  const matching = facts.grants.filter((grant) => groups.has(grant.accessContainerId.toLowerCase()));
  if (matching.length > 0) {
    const roleIds = [...new Set(matching.flatMap((grant) => grant.roleIds))].sort();
    return {
      customerTenantId: facts.customerTenantId,
      mode: 'gdap',
      roleIds,
      grantedBy: matching.map(({ relationshipId, accessAssignmentId, accessContainerId }) => ({
        relationshipId,
        accessAssignmentId,
        accessContainerId,
      })),
    };
  }
  if (facts.hasDap && user.isAdminAgent && !user.isGuest) {
    return {
      customerTenantId: facts.customerTenantId,
      mode: 'dap',
      roleIds: [globalAdministratorRoleId],
      grantedBy: [],
    };
  }
  return { customerTenantId: facts.customerTenantId, mode: 'none', roleIds: [], grantedBy: [] };
}

/**
 * The DAP → GDAP transition check (SPEC §6): removing DAP is safe once active GDAP assignments
 * cover Microsoft 365 and Azure. Removal still proceeds; these warnings say what may break.
 */
export function dapRemovalWarnings(grants: readonly AccessGrant[]): string[] {
  if (grants.length === 0) {
    return [
      "The customer has no active GDAP relationship with an active access assignment: partner users, including those who manage the customer's Azure subscriptions, may lose access.",
    ];
  }
  const covered = new Set(servicesManagedBy(grants.flatMap((grant) => grant.roleIds)).map((service) => service.id));
  const warnings: string[] = [];
  if (!covered.has('M365AdminCenter')) {
    warnings.push(
      'The assigned GDAP roles do not cover the Microsoft 365 admin center: partner users may lose access to it.',
    );
  }
  if (!covered.has('Azure')) {
    warnings.push(
      "The assigned GDAP roles do not cover Azure: partner users who manage the customer's Azure subscriptions may lose access.",
    );
  }
  return warnings;
}
