import { globalAdministratorRoleId } from './roles';

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

/** Reads of partner resources: AdminAgent, HelpdeskAgent or Global Administrator (SPEC §1). */
export function canReadPartnerResources(principal: Principal): boolean {
  return (
    hasAppRole(principal, appRoles.adminAgent) ||
    hasAppRole(principal, appRoles.helpdeskAgent) ||
    isGlobalAdministrator(principal)
  );
}
