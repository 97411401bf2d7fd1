import { TableTransactionResponse, TransactionAction } from '@azure/data-tables';
import { conflict, stale } from '../domain/errors';
import { crashPoint } from './faults';
import { Outbound, recoveryEntryFor, removeRecoveryEntry, witnessRemoval, writeOutbound } from './outbox';
import { RowOp, writeRows } from './rowOps';
import { ensureTables, isStatus, tableClient, TableName } from './tables';

/**
 * The one commit executor: every change of every aggregate is stored by `execute`, in the same
 * four steps (ARCHITECTURE "One write path"):
 *   1. pre-writes (`before`): index rows the change needs, each harmless should it never commit
 *      (due entries, pointers that readers confirm), and, when the change writes to partitions
 *      beyond its own, the outbox's recovery entry naming a witness row of the transaction;
 *   2. the transaction: the rows of one partition, conditional on the ETags they were read at;
 *   3. the outbound rows (events for other partitions), which the recovery entry carries until
 *      they are stored, so a crash between 2 and 3 loses none (the publishEvents job finishes them);
 *   4. clean-ups (`after`): rows the stored change makes unnecessary (the due entry it handled,
 *      an old name reservation, the recovery entry and a marker witness).
 * Rows of one step that share a table and partition go in one call; the rest go in parallel.
 */
export type { RowOp };

export interface StoragePlan {
  before: RowOp[];
  transaction?: { table: TableName; actions: TransactionAction[] };
  /** Rows for other partitions written only once the transaction is stored (the outbox). */
  outbound?: Outbound;
  after: RowOp[];
}

export interface Committed {
  /** The ETag each transaction action left, in action order (undefined for deletions). */
  etags: (string | undefined)[];
}

/** Why a transaction was refused: a row changed since it was read, or a row to insert exists. */
export type TransactionRefusal = 'stale' | 'exists';

export class TransactionRefused extends Error {
  constructor(readonly reason: TransactionRefusal) {
    super(reason === 'stale' ? 'A row changed since it was read' : 'A row to insert already exists');
    this.name = 'TransactionRefused';
  }
}

/**
 * Stores a plan. A refused transaction throws `TransactionRefused` (the caller decides what it
 * means: a lost race to decide again, a name or group taken), after which nothing of the change
 * is visible: its pre-writes are harmless by construction.
 */
export async function execute(plan: StoragePlan): Promise<Committed> {
  await ensureTables();
  const recovery = plan.outbound && plan.transaction ? recoveryEntryFor(plan.outbound) : undefined;
  await writeRows(recovery ? [...plan.before, recovery] : plan.before);
  crashPoint('beforeTransaction');
  let response: TableTransactionResponse | undefined;
  if (plan.transaction && plan.transaction.actions.length > 0) {
    try {
      response = await tableClient(plan.transaction.table).submitTransaction(plan.transaction.actions);
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      // The change is not stored: its recovery entry would only cost the job a witness read.
      if (recovery) await removeRecoveryEntry(recovery.entity).catch(() => undefined);
      throw new TransactionRefused(refusal);
    }
  }
  crashPoint('afterTransaction');
  if (plan.outbound) await writeOutbound(plan.outbound);
  const cleanUps =
    recovery && plan.outbound
      ? [...plan.after, ...witnessRemoval(plan.outbound.witness), { ...recovery, mode: 'delete' as const }]
      : plan.after;
  await writeRows(cleanUps);
  return { etags: response?.subResponses.map((sub) => sub.etag) ?? [] };
}

function refusalOf(error: unknown): TransactionRefusal | undefined {
  // 404: an If-Match naming a row deleted since it was read fails like a changed one (RFC 9110 §13.1.1).
  if (isStatus(error, 412) || isStatus(error, 404)) return 'stale';
  if (isStatus(error, 409)) return 'exists';
  return undefined;
}

/** The usual reading of a refusal: the state changed under the caller, who reads it again. */
export function refusalAsDomainError(error: unknown, exists = 'The entity already exists.'): unknown {
  if (!(error instanceof TransactionRefused)) return error;
  return error.reason === 'stale'
    ? stale('The entity was changed by another request: read it again and retry with its new ETag.')
    : conflict(exists);
}
