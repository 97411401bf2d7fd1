import { AccessFacts, AccessGrant, EffectiveAccess, PartnerUser, resolveEffectiveAccess } from '../domain/access';
import { Principal, appRoles, hasAppRole } from '../domain/principal';
import { hasDap } from './dap';
import { activeRelationshipsWith, listChildren } from './relationships';
import { assignmentFromRow, childKinds } from './rows';

/**
 * Gathers what decides a partner's access to one customer: active assignments on active
 * relationships (roles cut to what the relationship still grants) and whether a DAP exists.
 * Read fresh on every call, so a termination or removal takes effect at once.
 */
export async function accessFacts(partnerTenantId: string, customerTenantId: string): Promise<AccessFacts> {
  const [relationships, dap] = await Promise.all([
    activeRelationshipsWith(partnerTenantId, customerTenantId),
    hasDap(partnerTenantId, customerTenantId),
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
  return { customerTenantId, grants: perRelationship.flat(), hasDap: dap };
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
