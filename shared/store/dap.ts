import { odata, TransactionAction } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { webhookEventsOf } from '../domain/change';
import { DapChange, DapRelationship } from '../domain/dap';
import { execute, StoragePlan } from './executor';
import { Stored } from './paging';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';
import { webhookOutbound } from './webhooks';

/**
 * Legacy DAP relationships (SPEC §6): partition = partner tenant, row = customer tenant. A removal
 * whose webhook event a registration takes also creates `removed|{customer}|{createdDateTime}` in
 * its transaction, the witness of the event's outbox (outbox.ts), removed once it is out.
 */
const dap = () => tableClient(tableNames.dapRelationships);
const removedPrefix = 'removed|';

export type { DapRelationship };

export async function findDap(
  partnerTenantId: string,
  customerTenantId: string,
): Promise<Stored<DapRelationship> | undefined> {
  await ensureTables();
  try {
    const row = await dap().getEntity<{ createdDateTime: string }>(partnerTenantId, customerTenantId);
    return { value: { partnerTenantId, customerTenantId, createdDateTime: row.createdDateTime }, etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

export async function hasDap(partnerTenantId: string, customerTenantId: string): Promise<boolean> {
  return (await findDap(partnerTenantId, customerTenantId)) !== undefined;
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

/**
 * Stores a planned DAP change through the one executor. A transaction cannot make a deletion
 * conditional, so a DAP removed meanwhile (404) is refused as `stale`: the caller reads again.
 */
export async function commitDapChange(change: DapChange): Promise<void> {
  const [write] = change.writes;
  const { partnerTenantId, customerTenantId, createdDateTime } = write.value;
  const actions: TransactionAction[] = [['delete', { partitionKey: partnerTenantId, rowKey: customerTenantId }]];
  const plan: StoragePlan = { before: [], transaction: { table: tableNames.dapRelationships, actions }, after: [] };
  const webhooks = await webhookOutbound(webhookEventsOf(change.events));
  if (webhooks) {
    const witness = { partitionKey: partnerTenantId, rowKey: `${removedPrefix}${customerTenantId}|${createdDateTime}` };
    actions.push(['create', witness]);
    plan.outbound = {
      changeId: randomUUID(),
      ...webhooks,
      witness: { table: tableNames.dapRelationships, ...witness },
    };
    plan.after.push({ table: tableNames.dapRelationships, mode: 'delete', entity: witness });
  }
  await execute(plan);
}

export async function listDap(partnerTenantId: string): Promise<DapRelationship[]> {
  await ensureTables();
  const found: DapRelationship[] = [];
  const rows = dap().listEntities<{ createdDateTime: string }>({
    // Customer tenant ids (GUIDs) sort before the `removed|` witnesses.
    queryOptions: { filter: odata`PartitionKey eq ${partnerTenantId} and RowKey lt ${removedPrefix}` },
  });
  for await (const row of rows) {
    found.push({ partnerTenantId, customerTenantId: String(row.rowKey), createdDateTime: row.createdDateTime });
  }
  return found;
}
