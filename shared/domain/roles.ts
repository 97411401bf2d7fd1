import catalogData from './roleCatalog.json';

/** A built-in Microsoft Entra role template, as held in roleCatalog.json (SPEC §13). */
export interface RoleDefinition {
  id: string;
  displayName: string;
  readOnly: boolean;
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

const rolesById: ReadonlyMap<string, RoleDefinition> = new Map(
  catalogData.roles.map((role) => [role.id.toLowerCase(), role]),
);

export function findRole(roleDefinitionId: string): RoleDefinition | undefined {
  return rolesById.get(roleDefinitionId.toLowerCase());
}

export function isBuiltInRole(roleDefinitionId: string): boolean {
  return rolesById.has(roleDefinitionId.toLowerCase());
}

/** Permission checks go through the catalog so callers never compare role names. */
export function rolesGrantPermission(roleIds: Iterable<string>, permission: string): boolean {
  for (const id of roleIds) {
    if (findRole(id)?.permissions.includes(permission)) return true;
  }
  return false;
}

/** The admin centers a set of roles lets a partner manage, in catalog order. */
export function servicesManagedBy(roleIds: Iterable<string>): ManagedService[] {
  const ids = new Set<string>();
  for (const roleId of roleIds) findRole(roleId)?.services.forEach((id) => ids.add(id));
  return catalogData.services.filter((service) => ids.has(service.id));
}
