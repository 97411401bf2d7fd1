import catalogData from './roleCatalog.json';

/** A built-in Microsoft Entra role template, as held in roleCatalog.json (SPEC §13). */
export interface RoleDefinition {
  /** The role template id (Graph's `templateId`, also the `id` of a built-in role definition). */
  id: string;
  displayName: string;
  description: string;
  readOnly: boolean;
  /** The role's resource actions, as Microsoft's built-in roles reference lists them. */
  permissions: readonly string[];
  /** Ids of the admin centers the role manages (catalog `services`). */
  services: readonly string[];
}

/** An admin center a partner can manage a customer in (Graph's serviceManagementDetail). */
export interface ManagedService {
  id: string;
  serviceName: string;
  /** `{tenantId}` stands for the customer tenant. */
  serviceManagementUrl: string;
}

export const globalAdministratorRoleId = '62e90394-69f5-4237-9190-012177145e10';
export const supportTicketsPermission = 'microsoft.azure.supportTickets/allEntities/allTasks';
/** Accept, view and terminate the GDAP relationships partners hold with one's own tenant (customer side). */
export const customerDelegatedAdminPermission =
  'microsoft.commerce.tenantRelationships/customerDelegatedAdminPrivileges/allProperties/allTasks';
/** Create and delete role assignments; with the permission above it lets a customer take roles back from a partner. */
export const roleAssignmentsPermission = 'microsoft.directory/roleAssignments/allProperties/allTasks';

const roles: readonly RoleDefinition[] = catalogData.roles;
const rolesById: ReadonlyMap<string, RoleDefinition> = new Map(roles.map((role) => [role.id.toLowerCase(), role]));
// Global Administrator alone holds a few hundred actions; permission checks run on every request.
const permissionsById: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  roles.map((role) => [role.id.toLowerCase(), new Set(role.permissions)]),
);

/** Every built-in role, in catalog order (by display name). */
export function builtInRoles(): readonly RoleDefinition[] {
  return roles;
}

export function findRole(roleDefinitionId: string): RoleDefinition | undefined {
  return rolesById.get(roleDefinitionId.toLowerCase());
}

export function isBuiltInRole(roleDefinitionId: string): boolean {
  return rolesById.has(roleDefinitionId.toLowerCase());
}

/** Permission checks go through the catalog so callers never compare role names. */
export function rolesGrantPermission(roleIds: Iterable<string>, permission: string): boolean {
  for (const id of roleIds) {
    if (permissionsById.get(id.toLowerCase())?.has(permission)) return true;
  }
  return false;
}

/** The admin centers a set of roles lets a partner manage, in catalog order. */
export function servicesManagedBy(roleIds: Iterable<string>): ManagedService[] {
  const ids = new Set<string>();
  for (const roleId of roleIds) findRole(roleId)?.services.forEach((id) => ids.add(id));
  return catalogData.services.filter((service) => ids.has(service.id));
}
