import { odata } from '@azure/data-tables';
import { CustomerPointer } from '../domain/relationshipChanges';
import { RowOp } from './rowOps';
import { relationshipPartition } from './rows';
import { ensureTables, tableClient, tableNames } from './tables';

/**
 * The customer side of relationships (SPEC §12: customer-side index rows kept consistent with the
 * partner side): CustomerRelationships holds one row per relationship a tenant takes part in as
 * customer, PartitionKey the customer, RowKey the relationship id. It is written before the change
 * that makes the relationship visible to the customer, and readers confirm it against the partner
 * row, so the customer's view never misses one. It also leads the customer to its copies of the
 * relationship's audit entries and notifications, which live beside the relationship (events.ts),
 * so it stays when the relationship is purged: the customer's history does not go with it.
 */
const pointers = () => tableClient(tableNames.customerRelationships);

export function pointerWrite(pointer: CustomerPointer): RowOp {
  return {
    table: tableNames.customerRelationships,
    mode: 'upsert',
    entity: {
      partitionKey: pointer.customerTenantId,
      rowKey: pointer.relationshipId,
      partnerTenantId: pointer.partnerTenantId,
    },
  };
}

/** The relationships a tenant takes part in as customer, as pointed at (confirm each against its row). */
export async function customerPointers(customerTenantId: string): Promise<CustomerPointer[]> {
  await ensureTables();
  const found: CustomerPointer[] = [];
  const rows = pointers().listEntities<{ partnerTenantId: string }>({
    queryOptions: { filter: odata`PartitionKey eq ${customerTenantId}`, select: ['RowKey', 'partnerTenantId'] },
  });
  for await (const row of rows) {
    found.push({ customerTenantId, relationshipId: String(row.rowKey), partnerTenantId: String(row.partnerTenantId) });
  }
  return found;
}

/** The partitions of those relationships, where the customer's copies of their events are. */
export async function customerEventPartitions(customerTenantId: string): Promise<string[]> {
  return (await customerPointers(customerTenantId)).map((pointer) =>
    relationshipPartition({ id: pointer.relationshipId, partnerTenantId: pointer.partnerTenantId }),
  );
}
