import { odata } from '@azure/data-tables';
import { DueEntry, JobId } from '../domain/jobs';
import { RowOp, writeRows } from './rowOps';
import { Entity, idDigit } from './rows';
import { ensureTables, ignoreStatus, tableClient, tableNames } from './tables';

/**
 * The one due index (SPEC §4, §12), for every job: PartitionKey `{job}|{day due}|{hex digit}`,
 * RowKey `{dueAt}|{subjectId}[|{days}]`. Timestamps have a fixed width, so "everything due by
 * now" is the job's past days plus today's RowKeys up to now: a job reads only the entries that
 * are due, however many are stored. Day partitions keep the index's partitions from growing with
 * it, and the digit (the first of the subject's id) spreads a busy day, such as a bulk onboarding,
 * over 16 of them. Entries are written before the change that needs them (harmless should it not
 * happen) and removed only once what they call for is stored (shared/app/jobs.ts).
 */
const dueIndex = () => tableClient(tableNames.dueIndex);

export function duePartition(job: JobId, dueAt: string, subjectId: string): string {
  return `${job}|${dueAt.slice(0, 10)}|${idDigit(subjectId)}`;
}

/** Every entry of `job` due at or before `now`, oldest day first. */
function dueFilter(job: JobId, now: string): string {
  const today = `${job}|${now.slice(0, 10)}`;
  // '~' sorts after every character of an id, so the bound includes all entries due at `now`.
  const upTo = `${now}|~`;
  // '}' follows '|': today's partitions are those from `{today}|` up to `{today}}`.
  const pastDays = odata`PartitionKey ge ${`${job}|`} and PartitionKey lt ${today}`;
  const todaySoFar = odata`PartitionKey ge ${`${today}|`} and PartitionKey lt ${`${today}}`} and RowKey le ${upTo}`;
  return `(${pastDays}) or (${todaySoFar})`;
}

/** A due entry as stored: what it says and where it is. */
export interface DueRow {
  entry: DueEntry;
  partitionKey: string;
  rowKey: string;
}

/** A string property holds at most 32K UTF-16 characters: longer `data` is split over `data`, `data1`, ... */
const dataChunk = 30_000;

/** The row of an entry. Its key holds all it says (but `data`), so writing it twice leaves one row. */
export function dueRow(entry: DueEntry): Entity {
  const row: Entity = {
    partitionKey: duePartition(entry.job, entry.dueAt, entry.subjectId),
    rowKey: [entry.dueAt, entry.subjectId, ...(entry.days === undefined ? [] : [String(entry.days)])].join('|'),
    subjectId: entry.subjectId,
    dueAt: entry.dueAt,
    days: entry.days,
  };
  for (let start = 0, n = 0; entry.data !== undefined && start < entry.data.length; start += dataChunk, n++) {
    row[n === 0 ? 'data' : `data${n}`] = entry.data.slice(start, start + dataChunk);
  }
  return row;
}

function dataOf(row: Record<string, unknown>): string | undefined {
  if (typeof row.data !== 'string') return undefined;
  let data = row.data;
  for (let n = 1; typeof row[`data${n}`] === 'string'; n++) data += row[`data${n}`] as string;
  return data;
}

/** Index rows for `entries`, to write before the change that needs them. */
export function dueEntryWrites(entries: readonly DueEntry[]): RowOp[] {
  return entries.map((entry) => ({ table: tableNames.dueIndex, mode: 'insert', entity: dueRow(entry) }));
}

/** Writes entries on their own (seeding, tests); a change writes them through the executor. */
export async function writeDueEntries(entries: readonly DueEntry[]): Promise<void> {
  await ensureTables();
  await writeRows(dueEntryWrites(entries));
}

/** Entries of `job` due at or before `now` (a Graph timestamp), oldest day first, at most `limit`. */
export async function dueEntries(job: JobId, now: string, limit: number): Promise<DueRow[]> {
  await ensureTables();
  const rows = dueIndex()
    .listEntities<{ subjectId: string; dueAt: string; days?: number }>({
      queryOptions: { filter: dueFilter(job, now) },
    })
    .byPage({ maxPageSize: Math.min(limit, 1000) });
  const due: DueRow[] = [];
  for await (const page of rows) {
    for (const row of page) {
      due.push({
        partitionKey: String(row.partitionKey),
        rowKey: String(row.rowKey),
        entry: { job, dueAt: row.dueAt, subjectId: row.subjectId, days: row.days, data: dataOf(row) },
      });
      if (due.length >= limit) return due;
    }
  }
  return due;
}

/** Removed only once the change it called for is stored (or found unnecessary). */
export async function removeDueEntry(row: Pick<DueRow, 'partitionKey' | 'rowKey'>): Promise<void> {
  await dueIndex().deleteEntity(row.partitionKey, row.rowKey).catch(ignoreStatus(404));
}
