import { odata, TransactionAction } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { isLogEvent, webhookEventsOf } from '../domain/change';
import { DapChange, DapRelationship } from '../domain/dap';
import { eventRow } from './events';
import { execute, RowOp } from './executor';
import { Stored } from './paging';
import { tenantPartitionOf, tenantPartitionRange } from './rows';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';
import { webhookOutbound } from './webhooks';

/**
 * Legacy DAP relationships (SPEC §6): row = customer tenant, in one of the partner's 128 partitions
 * named by the customer id's leading bits (rows.ts), so a partner with thousands of DAP customers,
 * each read by a fleet job, is not one hot partition (Azure's target is 2,000 entities/s per
 * partition; Azurite's point reads scan the partition). A removal
 * also creates `removed|{customer}|{createdDateTime}` in its transaction: the witness of its
 * outbox (outbox.ts), which carries the partner's audit entry (SPEC §9) and any webhook event
 * (SPEC §16) to their tables, and is removed once they are out.
 */
const dap = () => tableClient(tableNames.dapRelationships);
const removedPrefix = 'removed|';
const dapPartition = (partnerTenantId: string, customerTenantId: string): string =>
  tenantPartitionOf(partnerTenantId, customerTenantId);

export type { DapRelationship };

export async function findDap(
  partnerTenantId: string,
  customerTenantId: string,
): Promise<Stored<DapRelationship> | undefined> {
  await ensureTables();
  try {
    const row = await dap().getEntity<{ createdDateTime: string }>(
      dapPartition(partnerTenantId, customerTenantId),
      customerTenantId,
    );
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
      partitionKey: dapPartition(relationship.partnerTenantId, relationship.customerTenantId),
      rowKey: relationship.customerTenantId,
      createdDateTime: relationship.createdDateTime,
    },
    'Replace',
  );
}

/**
 * Stores a planned DAP removal through the one executor: the row goes and its witness comes in
 * one transaction, so a crash after it still publishes the audit entry and webhook event (the
 * publishEvents job), and a crash before it changes nothing. A transaction cannot make a deletion
 * conditional, so a DAP removed meanwhile (404) is refused as `stale`: the caller reads again.
 */
export async function commitDapChange(change: DapChange): Promise<void> {
  const [write] = change.writes;
  const { partnerTenantId, customerTenantId, createdDateTime } = write.value;
  const partitionKey = dapPartition(partnerTenantId, customerTenantId);
  const witness = { partitionKey, rowKey: `${removedPrefix}${customerTenantId}|${createdDateTime}` };
  const actions: TransactionAction[] = [
    ['delete', { partitionKey, rowKey: customerTenantId }],
    ['create', witness],
  ];
  const logPartition = tenantPartitionOf(partnerTenantId, customerTenantId);
  const audits = change.events
    .filter(isLogEvent)
    .map((event): RowOp => ({ table: tableNames.tenants, mode: 'insert', entity: eventRow(event, logPartition) }));
  const webhooks = await webhookOutbound(webhookEventsOf(change.events));
  await execute({
    before: [],
    transaction: { table: tableNames.dapRelationships, actions },
    outbound: {
      changeId: randomUUID(),
      rows: [...audits, ...(webhooks?.rows ?? [])],
      messages: webhooks?.messages ?? [],
      witness: { table: tableNames.dapRelationships, ...witness, marker: true },
    },
    after: [],
  });
}

export async function listDap(partnerTenantId: string): Promise<DapRelationship[]> {
  await ensureTables();
  const found: DapRelationship[] = [];
  const rows = dap().listEntities<{ createdDateTime: string }>({
    // Customer tenant ids (GUIDs) sort before the `removed|` witnesses.
    queryOptions: { filter: `${tenantPartitionRange(partnerTenantId)} and ${odata`RowKey lt ${removedPrefix}`}` },
  });
  for await (const row of rows) {
    found.push({ partnerTenantId, customerTenantId: String(row.rowKey), createdDateTime: row.createdDateTime });
  }
  return found;
}
