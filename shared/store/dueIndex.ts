import { odata, TransactionAction } from '@azure/data-tables';
import { DueEntry, RelationshipJobId } from '../domain/maintenance';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * The due-date index (SPEC §4, §12): one partition per job, RowKey `{dueAt}|{relationshipId}[|{days}]`.
 * Timestamps have a fixed width, so "everything due by now" is one RowKey range and a job reads
 * only the entries that are due, however many relationships are stored.
 */
const dueIndex = () => tableClient(tableNames.dueIndex);

function rowKeyOf(entry: DueEntry): string {
  return [entry.dueAt, entry.relationshipId, ...(entry.days === undefined ? [] : [String(entry.days)])].join('|');
}

export interface DueRow {
  entry: DueEntry;
  rowKey: string;
}

/** Idempotent: writing the same entry twice leaves one row. */
export async function addDueEntries(entries: readonly DueEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await ensureTables();
  const byJob = new Map<string, TransactionAction[]>();
  for (const entry of entries) {
    const actions = byJob.get(entry.job) ?? [];
    actions.push([
      'upsert',
      {
        partitionKey: entry.job,
        rowKey: rowKeyOf(entry),
        relationshipId: entry.relationshipId,
        dueAt: entry.dueAt,
        days: entry.days,
      },
      'Replace',
    ]);
    byJob.set(entry.job, actions);
  }
  await Promise.all([...byJob.values()].map((actions) => dueIndex().submitTransaction(actions)));
}

/** Entries of `job` due at or before `now` (a Graph timestamp), oldest first, at most `limit`. */
export async function dueEntries(job: RelationshipJobId, now: string, limit: number): Promise<DueRow[]> {
  await ensureTables();
  // '~' sorts after every character of a relationship id, so the bound includes all entries due at `now`.
  const upTo = `${now}|~`;
  const rows = dueIndex()
    .listEntities<{ relationshipId: string; dueAt: string; days?: number }>({
      queryOptions: { filter: odata`PartitionKey eq ${job} and RowKey le ${upTo}` },
    })
    .byPage({ maxPageSize: Math.min(limit, 1000) });
  const due: DueRow[] = [];
  for await (const page of rows) {
    for (const row of page) {
      due.push({
        rowKey: String(row.rowKey),
        entry: { job, dueAt: row.dueAt, relationshipId: row.relationshipId, days: row.days },
      });
      if (due.length >= limit) return due;
    }
  }
  return due;
}

/** Removed only once the state change it called for is stored (or found unnecessary). */
export async function removeDueEntry(row: DueRow): Promise<void> {
  try {
    await dueIndex().deleteEntity(row.entry.job, row.rowKey);
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}
