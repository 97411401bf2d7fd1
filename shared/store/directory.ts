import { ReadCache } from './readCache';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Tenant display names the service knows (from customer creation or sandbox seeding). Graph fills
 * `customer.displayName` from Entra ID; this is the service's stand-in for that directory.
 */
const tenantRow = 'tenant';
const displayNames = new ReadCache<string | undefined>();

export function tenantDisplayName(tenantId: string): Promise<string | undefined> {
  return displayNames.get(tenantId, () => readTenantDisplayName(tenantId));
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
