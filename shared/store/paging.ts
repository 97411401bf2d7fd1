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

/**
 * Pages an in-memory list the same way `queryPartition` pages storage, for collections gathered
 * from several partitions (a customer's view) or needing a full scan ($orderby, $count).
 */
export function pageInMemory<T>(items: readonly Keyed<T>[], query: CollectionQuery, spec: CollectionSpec<T>): Page<T> {
  const skip = decodeSkipToken(query.skipToken);
  const matching = items
    .filter((item) => matchesFilter(query.filter, item.value, spec))
    .sort(
      (a, b) => compareEntities(a.value, b.value, query.orderBy, spec) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
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
  partitionKey: string;
  /** Only rows whose RowKey starts with this prefix belong to the collection ('' for all). */
  rowKeyPrefix: string;
  query: CollectionQuery;
  spec: CollectionSpec<T>;
  fromRow: (row: TableEntityResult<Record<string, unknown>>) => T;
  /** Rows that look like members but are not (tombstones). */
  skip?: (row: TableEntityResult<Record<string, unknown>>) => boolean;
}

/**
 * Queries one partition for a Graph collection page. Filters the storage can evaluate are pushed
 * down (built with the `odata` tag, never from raw client text) and every row is re-checked in
 * memory. Without $orderby or $count the scan stops as soon as the page is full and the next page
 * resumes after the last RowKey, so paging costs what a page holds, not what the partition holds.
 */
export async function queryPartition<T>(options: PartitionQuery<T>): Promise<Page<T>> {
  const { client, partitionKey, rowKeyPrefix, query, spec, fromRow, skip: isSkipped } = options;
  const skip = decodeSkipToken(query.skipToken);
  const streaming = query.orderBy.length === 0 && !query.count && (skip === undefined || 'after' in skip);
  const resumeAfter = streaming && skip && 'after' in skip ? skip.after : undefined;
  const bounds = [odata`PartitionKey eq ${partitionKey}`];
  if (rowKeyPrefix) {
    const prefixEnd =
      rowKeyPrefix.slice(0, -1) + String.fromCharCode(rowKeyPrefix.charCodeAt(rowKeyPrefix.length - 1) + 1);
    // The prefix bounds stay when resuming: a $skipToken is client text and may point before the prefix.
    bounds.push(odata`RowKey ge ${rowKeyPrefix}`, odata`RowKey lt ${prefixEnd}`);
  }
  if (resumeAfter !== undefined) bounds.push(odata`RowKey gt ${resumeAfter}`);
  const pushedDown = toTableFilter(query.filter, spec);
  const filter = [...bounds, ...(pushedDown ? [`(${pushedDown})`] : [])].join(' and ');

  const matches: Keyed<T>[] = [];
  // A streaming page asks storage for one row more than it shows, to know whether another page exists.
  const pages = client
    .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
    .byPage({ maxPageSize: streaming ? Math.min(query.top + 1, 1000) : 1000 });
  scan: for await (const rows of pages) {
    for (const row of rows) {
      if (isSkipped?.(row)) continue;
      const value = fromRow(row);
      if (!matchesFilter(query.filter, value, spec)) continue;
      matches.push({ value, etag: row.etag, key: String(row.rowKey) });
      if (streaming && matches.length > query.top) break scan;
    }
  }
  if (!streaming) return pageInMemory(matches, query, spec);

  const page = matches.slice(0, query.top);
  return {
    items: page.map(({ value, etag }) => ({ value, etag })),
    skipToken: matches.length > query.top ? encodeSkipToken({ after: page[page.length - 1].key }) : undefined,
  };
}
