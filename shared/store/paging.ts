import { odata, TableClient, TableEntityResult } from '@azure/data-tables';
import { invalid } from '../domain/errors';
import { CollectionQuery, CollectionSpec, matchesFilter, toTableFilter } from '../query/odata';
import { byKey, decodeSkipToken, encodeSkipToken, Keyed, Page, pageInMemory } from '../query/paging';

export type { Keyed, Page, Stored } from '../query/paging';

/**
 * Where a collection's rows are: a filter on PartitionKey (one partition, or a range whose
 * partition order follows key order, so resuming after a key is exact) and the RowKey prefix
 * of its rows. A row's key, which orders the collection and resumes its pages, is its RowKey
 * after the prefix, so rows of several sources with different prefixes merge in one order.
 */
export interface RowSource {
  partitions: string;
  rowKeyPrefix: string;
}

export interface CollectionRead<T> {
  client: TableClient;
  sources: readonly RowSource[];
  query: CollectionQuery;
  spec: CollectionSpec<T>;
  fromRow: (row: TableEntityResult<Record<string, unknown>>) => T;
  /** Rows that look like members but are not (tombstones). */
  skip?: (row: TableEntityResult<Record<string, unknown>>) => boolean;
  /** The properties `fromRow` and `skip` read, when rows carry more (storage then sends only these). */
  select?: readonly string[];
  /**
   * For collections that grow without end (a tenant's logs): the sort that is the key order (its
   * pages stream like no sort at all), and the most rows a read that is not a stream (`$count`,
   * another `$orderby`) may take, past which it is refused with `tooMany`'s message.
   */
  bound?: { naturalOrder: CollectionQuery['orderBy']; maxRows: number; tooMany: string };
}

/** Without $orderby or $count a page streams in key order and resumes after its last key. */
interface ScanPlan {
  streaming: boolean;
  resumeAfter?: string;
}

function planScan(query: CollectionQuery, naturalOrder: CollectionQuery['orderBy'] = []): ScanPlan {
  const skip = decodeSkipToken(query.skipToken);
  const sortsByKey =
    query.orderBy.length === 0 ||
    (query.orderBy.length === naturalOrder.length &&
      query.orderBy.every(
        (key, index) => key.path === naturalOrder[index].path && key.descending === naturalOrder[index].descending,
      ));
  const streaming = sortsByKey && !query.count && (skip === undefined || 'after' in skip);
  return { streaming, resumeAfter: streaming && skip && 'after' in skip ? skip.after : undefined };
}

/** The RowKey just past every key that starts with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * The matching rows of one source, in storage order: when streaming, one more than the page
 * holds (to know whether another page exists), otherwise all of them.
 */
async function scan<T>(read: CollectionRead<T>, source: RowSource, plan: ScanPlan): Promise<Keyed<T>[]> {
  const { client, query, spec, fromRow, skip: isSkipped, select } = read;
  const { partitions, rowKeyPrefix } = source;
  const bounds = [partitions];
  // The prefix bounds stay when resuming: a $skipToken is client text and may point anywhere.
  if (rowKeyPrefix) bounds.push(odata`RowKey ge ${rowKeyPrefix}`, odata`RowKey lt ${prefixEnd(rowKeyPrefix)}`);
  if (plan.resumeAfter !== undefined) bounds.push(odata`RowKey gt ${rowKeyPrefix + plan.resumeAfter}`);
  const pushedDown = toTableFilter(query.filter, spec);
  const filter = [...bounds, ...(pushedDown ? [`(${pushedDown})`] : [])].join(' and ');

  const matches: Keyed<T>[] = [];
  const limit = plan.streaming ? undefined : read.bound;
  const pages = client
    .listEntities<Record<string, unknown>>({ queryOptions: { filter, select: select && [...select] } })
    .byPage({ maxPageSize: plan.streaming ? Math.min(query.top + 1, 1000) : 1000 });
  for await (const rows of pages) {
    for (const row of rows) {
      if (isSkipped?.(row)) continue;
      const value = fromRow(row);
      if (!matchesFilter(query.filter, value, spec)) continue;
      matches.push({ value, etag: row.etag, key: String(row.rowKey).slice(rowKeyPrefix.length) });
      if (plan.streaming && matches.length > query.top) return matches;
      if (limit && matches.length > limit.maxRows) throw invalid(limit.tooMany);
    }
  }
  return matches;
}

/**
 * Reads a Graph collection page from storage. Filters the storage can evaluate are pushed down
 * (built with the `odata` tag, never from raw client text) and every row is re-checked in memory.
 * Without $orderby or $count each source is read only up to one page, in parallel, the results
 * merged by key, and the next page resumes after the last key: paging costs what a page holds,
 * not what the partitions hold.
 */
export async function queryCollection<T>(read: CollectionRead<T>): Promise<Page<T>> {
  const plan = planScan(read.query, read.bound?.naturalOrder);
  const perSource = await Promise.all(read.sources.map((source) => scan(read, source, plan)));
  const merged = read.sources.length === 1 ? perSource[0] : perSource.flat().sort(byKey);
  if (!plan.streaming && read.bound && merged.length > read.bound.maxRows) throw invalid(read.bound.tooMany);
  if (!plan.streaming) return pageInMemory(merged, read.query, read.spec);
  const page = merged.slice(0, read.query.top);
  return {
    items: page.map(({ value, etag }) => ({ value, etag })),
    skipToken: merged.length > read.query.top ? encodeSkipToken({ after: page[page.length - 1].key }) : undefined,
  };
}
