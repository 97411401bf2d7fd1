import { AccessFacts, AccessGrant, EffectiveAccess, PartnerUser, resolveEffectiveAccess } from '../domain/access';
import { DapRelationship } from '../domain/dap';
import { Principal, appRoles, hasAppRole } from '../domain/principal';
import { findDap } from './dap';
import { Stored } from './paging';
import { activeRelationshipsWith, listChildren } from './relationships';
import { assignmentFromRow, childKinds } from './rows';

/**
 * Gathers what decides a partner's access to one customer: active assignments on active
 * relationships (roles cut to what the relationship still grants) and whether a DAP exists.
 * Read fresh on every call, so a termination or removal takes effect at once.
 */
export async function accessFacts(partnerTenantId: string, customerTenantId: string): Promise<AccessFacts> {
  return (await accessFactsWithDap(partnerTenantId, customerTenantId)).facts;
}

/** The access facts and the DAP row they were read with (what removing the DAP is conditional on). */
export async function accessFactsWithDap(
  partnerTenantId: string,
  customerTenantId: string,
): Promise<{ facts: AccessFacts; dap: Stored<DapRelationship> | undefined }> {
  const [relationships, dap] = await Promise.all([
    activeRelationshipsWith(partnerTenantId, customerTenantId),
    findDap(partnerTenantId, customerTenantId),
  ]);
  const perRelationship = await Promise.all(
    relationships.map(async ({ value: relationship }) => {
      const assignments = await listChildren(childKinds.assignment, relationship, assignmentFromRow);
      return assignments
        .map((item) => item.value)
        .filter((assignment) => assignment.status === 'active')
        .map((assignment): AccessGrant => ({
          relationshipId: relationship.id,
          accessAssignmentId: assignment.id,
          accessContainerId: assignment.accessContainerId,
          roleIds: assignment.roleIds.filter((id) => relationship.roleIds.includes(id)),
        }))
        .filter((grant) => grant.roleIds.length > 0);
    }),
  );
  return { facts: { customerTenantId, grants: perRelationship.flat(), hasDap: dap !== undefined }, dap };
}

export async function effectiveAccessFor(
  partnerTenantId: string,
  user: PartnerUser,
  customerTenantId: string,
): Promise<EffectiveAccess> {
  return resolveEffectiveAccess(user, await accessFacts(partnerTenantId, customerTenantId));
}

/** The caller's own effective access to a customer (the caller being a partner user). */
export function principalAccessTo(principal: Principal, customerTenantId: string): Promise<EffectiveAccess> {
  return effectiveAccessFor(
    principal.tenantId,
    { groups: principal.groups, isAdminAgent: hasAppRole(principal, appRoles.adminAgent), isGuest: principal.isGuest },
    customerTenantId.toLowerCase(),
  );
}
