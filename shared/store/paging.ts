import { odata, TableClient, TableEntityResult } from '@azure/data-tables';
import { badRequest } from '../http/errors';
import { CollectionQuery, CollectionSpec, compareEntities, matchesFilter, toTableFilter } from '../http/odata';

/** A stored value with the ETag of the row it came from. */
export interface Stored<T> {
  value: T;
  etag: string;
}

export interface Page<T> {
  items: Stored<T>[];
  /** Opaque token for the next page, absent on the last one. */
  skipToken?: string;
  count?: number;
}

type SkipState = { after: string } | { offset: number };

function encodeSkipToken(state: SkipState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

function decodeSkipToken(token: string | undefined): SkipState | undefined {
  if (token === undefined) return undefined;
  try {
    const state: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (state && typeof state === 'object') {
      if ('after' in state && typeof state.after === 'string') return { after: state.after };
      if ('offset' in state && Number.isSafeInteger(state.offset) && (state.offset as number) >= 0) {
        return { offset: state.offset as number };
      }
    }
  } catch {
    // fall through to the client error below
  }
  throw badRequest('Invalid $skipToken: use the @odata.nextLink returned by the previous page.');
}

/** A stored value with the stable key that orders it when nothing else does (its RowKey or id). */
export interface Keyed<T> extends Stored<T> {
  key: string;
}

const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Pages an in-memory list the same way `queryPartition` pages storage, for collections gathered
 * from several partitions (a customer's view) or needing a full scan ($orderby, $count).
 */
export function pageInMemory<T>(items: readonly Keyed<T>[], query: CollectionQuery, spec: CollectionSpec<T>): Page<T> {
  const skip = decodeSkipToken(query.skipToken);
  const matching = items
    .filter((item) => matchesFilter(query.filter, item.value, spec))
    .sort((a, b) => compareEntities(a.value, b.value, query.orderBy, spec) || byKey(a, b));
  let begin = 0;
  if (skip && 'offset' in skip) begin = skip.offset;
  if (skip && 'after' in skip) {
    const next = matching.findIndex((item) => item.key > skip.after);
    begin = next < 0 ? matching.length : next;
  }
  const end = begin + query.top;
  return {
    items: matching.slice(begin, end).map(({ value, etag }) => ({ value, etag })),
    skipToken: end < matching.length ? encodeSkipToken({ offset: end }) : undefined,
    count: query.count ? matching.length : undefined,
  };
}

export interface PartitionQuery<T> {
  client: TableClient;
  /**
   * The partitions to read, as a filter on PartitionKey: one partition, or a range whose
   * partition order follows RowKey order (so resuming after a RowKey is still exact).
   */
  partitions: string;
  /** Only rows whose RowKey starts with this prefix belong to the collection ('' for all). */
  rowKeyPrefix: string;
  query: CollectionQuery;
  spec: CollectionSpec<T>;
  fromRow: (row: TableEntityResult<Record<string, unknown>>) => T;
  /** Rows that look like members but are not (tombstones). */
  skip?: (row: TableEntityResult<Record<string, unknown>>) => boolean;
  /** The properties `fromRow` and `skip` read, when rows carry more (storage then sends only these). */
  select?: readonly string[];
}

/** Without $orderby or $count a page streams in RowKey order and resumes after its last RowKey. */
interface ScanPlan {
  streaming: boolean;
  resumeAfter?: string;
}

function planScan(query: CollectionQuery): ScanPlan {
  const skip = decodeSkipToken(query.skipToken);
  const streaming = query.orderBy.length === 0 && !query.count && (skip === undefined || 'after' in skip);
  return { streaming, resumeAfter: streaming && skip && 'after' in skip ? skip.after : undefined };
}

/**
 * The matching rows of `partitions`, in storage order: when streaming, one more than the page
 * holds (to know whether another page exists), otherwise all of them.
 */
async function scan<T>(options: PartitionQuery<T>, plan: ScanPlan): Promise<Keyed<T>[]> {
  const { client, partitions, rowKeyPrefix, query, spec, fromRow, skip: isSkipped, select } = options;
  const bounds = [partitions];
  if (rowKeyPrefix) {
    const prefixEnd =
      rowKeyPrefix.slice(0, -1) + String.fromCharCode(rowKeyPrefix.charCodeAt(rowKeyPrefix.length - 1) + 1);
    // The prefix bounds stay when resuming: a $skipToken is client text and may point before the prefix.
    bounds.push(odata`RowKey ge ${rowKeyPrefix}`, odata`RowKey lt ${prefixEnd}`);
  }
  if (plan.resumeAfter !== undefined) bounds.push(odata`RowKey gt ${plan.resumeAfter}`);
  const pushedDown = toTableFilter(query.filter, spec);
  const filter = [...bounds, ...(pushedDown ? [`(${pushedDown})`] : [])].join(' and ');

  const matches: Keyed<T>[] = [];
  const pages = client
    .listEntities<Record<string, unknown>>({ queryOptions: { filter, select: select && [...select] } })
    .byPage({ maxPageSize: plan.streaming ? Math.min(query.top + 1, 1000) : 1000 });
  for await (const rows of pages) {
    for (const row of rows) {
      if (isSkipped?.(row)) continue;
      const value = fromRow(row);
      if (!matchesFilter(query.filter, value, spec)) continue;
      matches.push({ value, etag: row.etag, key: String(row.rowKey) });
      if (plan.streaming && matches.length > query.top) return matches;
    }
  }
  return matches;
}

function toPage<T>(matches: Keyed<T>[], query: CollectionQuery, spec: CollectionSpec<T>, plan: ScanPlan): Page<T> {
  if (!plan.streaming) return pageInMemory(matches, query, spec);
  const page = matches.slice(0, query.top);
  return {
    items: page.map(({ value, etag }) => ({ value, etag })),
    skipToken: matches.length > query.top ? encodeSkipToken({ after: page[page.length - 1].key }) : undefined,
  };
}

/**
 * Queries storage for a Graph collection page. Filters the storage can evaluate are pushed down
 * (built with the `odata` tag, never from raw client text) and every row is re-checked in memory.
 * Without $orderby or $count the scan stops as soon as the page is full and the next page resumes
 * after the last RowKey, so paging costs what a page holds, not what the partitions hold.
 */
export async function queryPartition<T>(options: PartitionQuery<T>): Promise<Page<T>> {
  const plan = planScan(options.query);
  return toPage(await scan(options, plan), options.query, options.spec, plan);
}

/**
 * The same over partitions whose rows interleave in RowKey order (a tenant's logs, newest first):
 * each is read up to one page, in parallel, and the results merged by RowKey.
 */
export async function queryPartitions<T>(
  options: Omit<PartitionQuery<T>, 'partitions'> & { partitionKeys: readonly string[] },
): Promise<Page<T>> {
  const plan = planScan(options.query);
  const perPartition = await Promise.all(
    options.partitionKeys.map((partitionKey) =>
      scan({ ...options, partitions: odata`PartitionKey eq ${partitionKey}` }, plan),
    ),
  );
  const merged = perPartition.flat().sort(byKey);
  return toPage(plan.streaming ? merged.slice(0, options.query.top + 1) : merged, options.query, options.spec, plan);
}
