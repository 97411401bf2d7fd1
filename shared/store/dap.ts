import { odata } from '@azure/data-tables';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';

/** Legacy DAP relationships (SPEC §6): partition = partner tenant, row = customer tenant. */
const dap = () => tableClient(tableNames.dapRelationships);

export interface DapRelationship {
  partnerTenantId: string;
  customerTenantId: string;
  createdDateTime: string;
}

export async function hasDap(partnerTenantId: string, customerTenantId: string): Promise<boolean> {
  await ensureTables();
  try {
    await dap().getEntity(partnerTenantId, customerTenantId);
    return true;
  } catch (error) {
    if (isStatus(error, 404)) return false;
    throw error;
  }
}

export async function importDap(relationship: DapRelationship): Promise<void> {
  await ensureTables();
  await dap().upsertEntity(
    {
      partitionKey: relationship.partnerTenantId,
      rowKey: relationship.customerTenantId,
      createdDateTime: relationship.createdDateTime,
    },
    'Replace',
  );
}

/** Removes a DAP relationship; false when there was none. */
export async function removeDap(partnerTenantId: string, customerTenantId: string): Promise<boolean> {
  await ensureTables();
  try {
    await dap().deleteEntity(partnerTenantId, customerTenantId);
    return true;
  } catch (error) {
    if (isStatus(error, 404)) return false;
    throw error;
  }
}

export async function listDap(partnerTenantId: string): Promise<DapRelationship[]> {
  await ensureTables();
  const found: DapRelationship[] = [];
  const rows = dap().listEntities<{ createdDateTime: string }>({
    queryOptions: { filter: odata`PartitionKey eq ${partnerTenantId}` },
  });
  for await (const row of rows) {
    found.push({ partnerTenantId, customerTenantId: String(row.rowKey), createdDateTime: row.createdDateTime });
  }
  return found;
}
