import { config } from '../config';
import { sandboxTenantName } from '../domain/sandboxTenantNames';
import { ReadCache } from './readCache';
import { ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * Tenant display names the service knows (from customer creation or sandbox seeding). Graph fills
 * `customer.displayName` from Entra ID; this is the service's stand-in for that directory.
 */
const tenantRow = 'tenant';
const displayNames = new ReadCache<string | undefined>();

export function tenantDisplayName(tenantId: string): Promise<string | undefined> {
  return displayNames.get(tenantId, () => readTenantDisplayName(tenantId));
}

/**
 * The tenant's display name; in sandbox mode a tenant without one is given its readable default
 * name first (SPEC §14), so a relationship's `customer.displayName` is never empty there.
 */
export async function displayNameOrSandboxDefault(tenantId: string): Promise<string | undefined> {
  const known = await tenantDisplayName(tenantId);
  if (known || !config().sandboxMode) return known;
  await seedSandboxTenantName(tenantId);
  return tenantDisplayName(tenantId);
}

/** In sandbox mode, stores the default name of a tenant the service meets, unless it has a name. */
export async function seedSandboxTenantName(tenantId: string): Promise<void> {
  if (!config().sandboxMode || (await tenantDisplayName(tenantId))) return;
  await ensureTables();
  try {
    await tableClient(tableNames.directory)
      .createEntity({ partitionKey: tenantId, rowKey: tenantRow, displayName: sandboxTenantName(tenantId) })
      // Another request named it first: its name stands.
      .catch(ignoreStatus(409));
  } finally {
    displayNames.forget(tenantId);
  }
}

async function readTenantDisplayName(tenantId: string): Promise<string | undefined> {
  await ensureTables();
  try {
    const row = await tableClient(tableNames.directory).getEntity<{ displayName: string }>(tenantId, tenantRow);
    return row.displayName;
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

export async function setTenantDisplayName(tenantId: string, displayName: string): Promise<void> {
  await ensureTables();
  try {
    await tableClient(tableNames.directory).upsertEntity(
      { partitionKey: tenantId, rowKey: tenantRow, displayName },
      'Replace',
    );
  } finally {
    displayNames.forget(tenantId);
  }
}
