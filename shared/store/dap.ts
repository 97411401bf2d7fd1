import { odata } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { ChangeEvent } from '../domain/change';
import { eventRow } from './events';
import { execute } from './executor';
import { tenantPartitionOf } from './rows';
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

export async function findDap(partnerTenantId: string, customerTenantId: string): Promise<DapRelationship | undefined> {
  await ensureTables();
  try {
    const row = await dap().getEntity<{ createdDateTime: string }>(partnerTenantId, customerTenantId);
    return { partnerTenantId, customerTenantId, createdDateTime: row.createdDateTime };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/**
 * Removes a DAP relationship with its audit entries (SPEC §9), through the executor: the entries
 * are the transaction (in the partner's log partition named by the customer) and witness the
 * removal, which follows as an outbound row, so a crash in between still removes the DAP (the
 * outbox's job does) and no entry ever speaks of a removal that does not happen.
 */
export async function removeDap(relationship: DapRelationship, events: readonly ChangeEvent[]): Promise<void> {
  const partitionKey = tenantPartitionOf(relationship.partnerTenantId, relationship.customerTenantId);
  const rows = events.map((event) => eventRow(event, partitionKey));
  if (rows.length === 0) throw new Error('A DAP removal is recorded by at least one audit entry');
  await execute({
    before: [],
    transaction: { table: tableNames.tenants, actions: rows.map((row) => ['create', row]) },
    outbound: {
      changeId: randomUUID(),
      rows: [
        {
          table: tableNames.dapRelationships,
          mode: 'delete',
          entity: { partitionKey: relationship.partnerTenantId, rowKey: relationship.customerTenantId },
        },
      ],
      witness: { table: tableNames.tenants, partitionKey, rowKey: rows[0].rowKey },
    },
    after: [],
  });
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
