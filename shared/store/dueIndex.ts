import { odata, TransactionAction } from '@azure/data-tables';
import { DueEntry, RelationshipJobId } from '../domain/maintenance';
import { Entity, idDigit } from './rows';
import { ensureTables, ignoreStatus, tableClient, tableNames } from './tables';

/**
 * The due-date index (SPEC §4, §12): PartitionKey `{job}|{day due}|{hex digit}`, RowKey
 * `{dueAt}|{relationshipId}[|{days}]`. Timestamps have a fixed width, so "everything due by now"
 * is the job's past days plus today's RowKeys up to now: a job reads only the entries that are
 * due, however many are stored. Day partitions keep the index's partitions from growing with it,
 * and the digit (the first of the relationship's or event's id) spreads a busy day, such as a
 * bulk onboarding, over 16 of them.
 */
const dueIndex = () => tableClient(tableNames.dueIndex);

export function duePartition(job: string, dueAt: string, id: string): string {
  return `${job}|${dueAt.slice(0, 10)}|${idDigit(id)}`;
}

/** Every entry of `job` due at or before `now`, oldest day first. */
export function dueFilter(job: string, now: string): string {
  const today = `${job}|${now.slice(0, 10)}`;
  // '~' sorts after every character of an id, so the bound includes all entries due at `now`.
  const upTo = `${now}|~`;
  // '}' follows '|': today's partitions are those from `{today}|` up to `{today}}`.
  const pastDays = odata`PartitionKey ge ${`${job}|`} and PartitionKey lt ${today}`;
  const todaySoFar = odata`PartitionKey ge ${`${today}|`} and PartitionKey lt ${`${today}}`} and RowKey le ${upTo}`;
  return `(${pastDays}) or (${todaySoFar})`;
}

function rowKeyOf(entry: DueEntry): string {
  return [entry.dueAt, entry.relationshipId, ...(entry.days === undefined ? [] : [String(entry.days)])].join('|');
}

export interface DueRow {
  entry: DueEntry;
  partitionKey: string;
  rowKey: string;
}

/** Idempotent: writing the same entry twice leaves one row. */
export async function addDueEntries(entries: readonly DueEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await ensureTables();
  const byPartition = new Map<string, Entity[]>();
  for (const entry of entries) {
    const partitionKey = duePartition(entry.job, entry.dueAt, entry.relationshipId);
    const rows = byPartition.get(partitionKey) ?? [];
    rows.push({
      partitionKey,
      rowKey: rowKeyOf(entry),
      relationshipId: entry.relationshipId,
      dueAt: entry.dueAt,
      days: entry.days,
    });
    byPartition.set(partitionKey, rows);
  }
  // A lone row is a plain insert, and one already there is the same entry (its key holds all it
  // says): cheaper for the storage than a one-action transaction or an upsert (Azurite looks the
  // row up twice for an upsert).
  await Promise.all(
    [...byPartition.values()].map((rows) =>
      rows.length === 1
        ? dueIndex().createEntity(rows[0]).catch(ignoreStatus(409))
        : dueIndex().submitTransaction(rows.map((row): TransactionAction => ['upsert', row, 'Replace'])),
    ),
  );
}

/** Entries of `job` due at or before `now` (a Graph timestamp), oldest day first, at most `limit`. */
export async function dueEntries(job: RelationshipJobId, now: string, limit: number): Promise<DueRow[]> {
  await ensureTables();
  const rows = dueIndex()
    .listEntities<{ relationshipId: string; dueAt: string; days?: number }>({
      queryOptions: { filter: dueFilter(job, now) },
    })
    .byPage({ maxPageSize: Math.min(limit, 1000) });
  const due: DueRow[] = [];
  for await (const page of rows) {
    for (const row of page) {
      due.push({
        partitionKey: String(row.partitionKey),
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
  await dueIndex().deleteEntity(row.partitionKey, row.rowKey).catch(ignoreStatus(404));
}
