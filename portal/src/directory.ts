import { ApiError, errorMessage, get, getAll } from './api';
import { settings } from './settings';

/**
 * Names the pages show instead of ids, read through the same Graph reads GDAP tools make
 * (SPEC §14): role display names and descriptions, tenant names. Each is read once per page load.
 */
export interface RoleInfo {
  displayName: string;
  description: string;
}

export interface RoleCatalog {
  roles: Map<string, RoleInfo>;
  /** Every role once (by its template id), in name order: what a role picker offers. */
  list: (RoleInfo & { id: string })[];
  /** Why names are missing, when the catalog could not be read. */
  error?: string;
}

let catalog: Promise<RoleCatalog> | undefined;

export function roleCatalog(): Promise<RoleCatalog> {
  catalog ??= getAll<{ id: string; templateId?: string; displayName: string; description?: string }>(
    '/v1.0/roleManagement/directory/roleDefinitions?$select=id,templateId,displayName,description',
  ).then(
    (definitions) => {
      const roles = new Map<string, RoleInfo>();
      const list: RoleCatalog['list'] = [];
      for (const definition of definitions) {
        const info = { displayName: definition.displayName, description: definition.description ?? '' };
        const id = (definition.templateId ?? definition.id).toLowerCase();
        roles.set(id, info);
        roles.set(definition.id.toLowerCase(), info);
        list.push({ id, ...info });
      }
      list.sort((a, b) => a.displayName.localeCompare(b.displayName));
      return { roles, list };
    },
    (error: unknown) => {
      catalog = undefined; // a later page tries again
      return { roles: new Map(), list: [], error: `Role names could not be read: ${errorMessage(error)}` };
    },
  );
  return catalog;
}

export function roleName(roles: RoleCatalog | undefined, roleId: string): string {
  return roles?.roles.get(roleId.toLowerCase())?.displayName ?? roleId;
}

/** Role names for a list of role ids, comma-separated (a table cell, a summary line). */
export function roleNames(roles: RoleCatalog | undefined, roleIds: readonly string[]): string {
  return roleIds.map((id) => roleName(roles, id)).join(', ');
}

export interface TenantInfo {
  tenantId: string;
  displayName: string;
  defaultDomainName?: string;
}

const tenants = new Map<string, Promise<TenantInfo | undefined>>();

/** A tenant's name; undefined when the service does not know it. */
export function tenantInfo(tenantId: string): Promise<TenantInfo | undefined> {
  const key = tenantId.toLowerCase();
  if (!tenants.has(key)) {
    tenants.set(
      key,
      get<TenantInfo>(`/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='${key}')`).catch(
        (error: unknown) => {
          tenants.delete(key);
          if (error instanceof ApiError && error.status === 404) return undefined;
          throw error;
        },
      ),
    );
  }
  return tenants.get(key) as Promise<TenantInfo | undefined>;
}

/**
 * The service's "now": in sandbox mode its clock may be pinned anywhere (SPEC §11), and "ending
 * within 30 days" or "end date if approved now" must count from there, not from this computer's clock.
 */
export async function serviceNow(): Promise<Date> {
  if (!settings().sandbox) return new Date();
  const clock = await get<{ now: string }>('/sandbox/clock');
  return new Date(clock.now);
}
