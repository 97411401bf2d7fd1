import {
  customerDelegatedAdminPermission,
  globalAdministratorRoleId,
  roleAssignmentsPermission,
  rolesGrantPermission,
} from './roles';

/** The caller, from the validated token's claims only (SPEC §1); request bodies never add to it. */
export interface Principal {
  tenantId: string;
  objectId: string;
  /** Built-in directory role template ids held in tenantId (`wids`). */
  directoryRoleIds: string[];
  /** App roles: AdminAgent, HelpdeskAgent, SalesAgent, SupportEngineer, ServiceOperator. */
  appRoles: string[];
  groups: string[];
  appId?: string;
  email?: string;
  /** A guest (B2B) account in tenantId: Entra's `acct` claim is 1. */
  isGuest: boolean;
}

export const appRoles = {
  adminAgent: 'AdminAgent',
  helpdeskAgent: 'HelpdeskAgent',
  salesAgent: 'SalesAgent',
  supportEngineer: 'SupportEngineer',
  serviceOperator: 'ServiceOperator',
} as const;

export function hasAppRole(principal: Principal, role: string): boolean {
  return principal.appRoles.includes(role);
}

export function isGlobalAdministrator(principal: Principal): boolean {
  return principal.directoryRoleIds.includes(globalAdministratorRoleId);
}

/** Whether the caller's directory roles grant `permission` (from the role catalog, SPEC §1). */
export function hasDirectoryPermission(principal: Principal, permission: string): boolean {
  return rolesGrantPermission(principal.directoryRoleIds, permission);
}

/**
 * The customer side of GDAP (SPEC §2.3, §13): view, approve, reject and terminate the relationships
 * partners hold with the caller's tenant. Global Administrator and Customer Delegated Admin
 * Relationship Administrator hold it.
 */
export function managesCustomerRelationships(principal: Principal): boolean {
  return hasDirectoryPermission(principal, customerDelegatedAdminPermission);
}

/** Removing roles from an active relationship as its customer also needs the right to delete role assignments. */
export function mayRemoveCustomerRelationshipRoles(principal: Principal): boolean {
  return managesCustomerRelationships(principal) && hasDirectoryPermission(principal, roleAssignmentsPermission);
}

/** Reads of partner resources: AdminAgent, HelpdeskAgent or Global Administrator (SPEC §1). */
export function canReadPartnerResources(principal: Principal): boolean {
  return (
    hasAppRole(principal, appRoles.adminAgent) ||
    hasAppRole(principal, appRoles.helpdeskAgent) ||
    isGlobalAdministrator(principal)
  );
}
