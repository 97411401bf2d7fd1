import { TransactionAction } from '@azure/data-tables';
import { Entity } from './rows';
import { isStatus, tableClient, TableName } from './tables';

/** One row write outside the transaction. */
export interface RowOp {
  table: TableName;
  /**
   * `upsert`: the row as given, whatever was there. `insert`: a row whose key holds what it says,
   * so one already there is this very row (409 is success). `delete`: gone is success.
   */
  mode: 'upsert' | 'insert' | 'delete';
  entity: Entity;
}

/** Writes rows outside any transaction: one call per table and partition, all in parallel. */
export async function writeRows(ops: readonly RowOp[]): Promise<void> {
  if (ops.length === 0) return;
  const groups = new Map<string, RowOp[]>();
  for (const op of ops) {
    const key = `${op.table}\n${op.entity.partitionKey}`;
    const group = groups.get(key);
    if (group) group.push(op);
    else groups.set(key, [op]);
  }
  await Promise.all([...groups.values()].map(writeGroup));
}

async function writeGroup(ops: RowOp[]): Promise<void> {
  if (ops.length === 1) return writeOne(ops[0]);
  const client = tableClient(ops[0].table);
  for (let start = 0; start < ops.length; start += 100) {
    const chunk = ops.slice(start, start + 100);
    try {
      await client.submitTransaction(chunk.map(actionOf));
    } catch (error) {
      // An insert found its row (written before: by a retry or another instance), or a delete found
      // none: the transaction refuses it as a whole, so each row goes on its own.
      if (!isStatus(error, 409) && !isStatus(error, 404)) throw error;
      await Promise.all(chunk.map(writeOne));
    }
  }
}

function actionOf(op: RowOp): TransactionAction {
  if (op.mode === 'delete') return ['delete', op.entity];
  return op.mode === 'insert' ? ['create', op.entity] : ['upsert', op.entity, 'Replace'];
}

async function writeOne(op: RowOp): Promise<void> {
  const client = tableClient(op.table);
  try {
    if (op.mode === 'upsert') await client.upsertEntity(op.entity, 'Replace');
    else if (op.mode === 'insert') await client.createEntity(op.entity);
    else await client.deleteEntity(op.entity.partitionKey, op.entity.rowKey);
  } catch (error) {
    if (op.mode === 'insert' && isStatus(error, 409)) return;
    if (op.mode === 'delete' && isStatus(error, 404)) return;
    throw error;
  }
}
