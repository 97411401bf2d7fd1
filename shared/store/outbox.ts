import { DateTime } from 'luxon';
import { DueEntry, jobIds } from '../domain/jobs';
import { toGraphDateTime } from '../domain/time';
import { dueRow } from './dueIndex';
import { sendQueueMessage } from './queues';
import { RowOp, writeRows } from './rowOps';
import { ensureTables, isStatus, tableClient, TableName, tableNames } from './tables';

/**
 * The one outbox. A change stores what it can in its own transaction; rows it must write in other
 * partitions (a support change's audit entries in each tenant's log; webhook deliveries, webhooks.ts)
 * cannot join it, nor can the queue messages that hand work to other instances (a delivery's
 * "deliver this resource's events"). They ride in a recovery entry, a due entry of the
 * publishEvents job written just before the transaction, which names a *witness*: a row the
 * transaction creates, so it exists if and only if the change was stored. The change writes the
 * rows and then sends the messages itself right after, and removes the entry; after a crash in
 * between, the job does, with one point read of the witness and no scan. Rows are inserts whose
 * keys hold what they say (event ids are fixed before anything is written), so writing them twice
 * is harmless; a message sent twice is handled twice, which every queue handler allows.
 */
export interface Outbound {
  /** Names the recovery entry; fresh per change. */
  changeId: string;
  rows: RowOp[];
  /** Sent once the rows are stored (their handlers read them). */
  messages?: OutboundMessage[];
  witness: Witness;
}

/**
 * A row the change's transaction creates. A `marker` exists only to witness the change (none of
 * the change's own rows is new): it is removed once the outbound is out, by the change itself or,
 * after a crash, by the publishEvents job.
 */
export interface Witness {
  table: TableName;
  partitionKey: string;
  rowKey: string;
  marker?: boolean;
}

/** The deletion of a marker witness, once what it witnessed is published. */
export function witnessRemoval(witness: Witness): RowOp[] {
  if (!witness.marker) return [];
  return [
    { table: witness.table, mode: 'delete', entity: { partitionKey: witness.partitionKey, rowKey: witness.rowKey } },
  ];
}

/** A queue message of the outbox: its logical queue name (queues.ts) and JSON payload. */
export interface OutboundMessage {
  queue: string;
  payload: unknown;
}

/**
 * A change publishes its own rows at once; only rows still pending after this were stranded.
 * Measured on real time, never the sandbox clock: a clock standing still (or moved back) would
 * otherwise keep a stranded entry from ever coming due.
 */
const recoveryDelayMinutes = 2;

interface RecoveryData {
  witness: Outbound['witness'];
  rows: RowOp[];
  messages?: OutboundMessage[];
}

export function recoveryEntryFor(outbound: Outbound, realNow: DateTime = DateTime.utc()): RowOp {
  const data: RecoveryData = { witness: outbound.witness, rows: outbound.rows, messages: outbound.messages };
  const entry: DueEntry = {
    job: jobIds.publishEvents,
    dueAt: toGraphDateTime(realNow.plus({ minutes: recoveryDelayMinutes })),
    subjectId: outbound.changeId,
    data: JSON.stringify(data),
  };
  return { table: tableNames.dueIndex, mode: 'insert', entity: dueRow(entry) };
}

export async function writeOutbound(outbound: Pick<Outbound, 'rows' | 'messages'>): Promise<void> {
  await writeRows(outbound.rows);
  await Promise.all((outbound.messages ?? []).map((message) => sendQueueMessage(message.queue, message.payload)));
}

export async function removeRecoveryEntry(entity: { partitionKey: string; rowKey: string }): Promise<void> {
  await writeRows([{ table: tableNames.dueIndex, mode: 'delete', entity }]);
}

/**
 * A recovery entry's work (the publishEvents job): writes its rows and sends its messages if their
 * change was stored (its witness exists), nothing otherwise. Returns how many rows and messages it
 * published; the job removes the entry. A marker witness goes once they are out: a job run after it
 * finds no witness and publishes nothing, which is right, as they were published.
 */
export async function recoverOutbound(entry: DueEntry): Promise<number> {
  await ensureTables();
  const data = JSON.parse(entry.data ?? '{"rows":[]}') as RecoveryData;
  const published = data.rows.length + (data.messages?.length ?? 0);
  if (published === 0 || !data.witness) return 0;
  try {
    await tableClient(data.witness.table).getEntity(data.witness.partitionKey, data.witness.rowKey, {
      queryOptions: { select: ['RowKey'] },
    });
  } catch (error) {
    if (isStatus(error, 404)) return 0;
    throw error;
  }
  await writeOutbound(data);
  await writeRows(witnessRemoval(data.witness));
  return published;
}
