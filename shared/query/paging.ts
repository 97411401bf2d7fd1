import { invalid } from '../domain/errors';
import { Versioned } from '../domain/change';
import { CollectionQuery, CollectionSpec, compareEntities, matchesFilter } from './odata';

/** A value with the ETag of the row it came from. */
export type Stored<T> = Versioned<T>;

/** One page of a collection. */
export interface Page<T> {
  items: Stored<T>[];
  /** Opaque token for the next page, absent on the last one. */
  skipToken?: string;
  count?: number;
}

/** A stored value with the stable key that orders it when nothing else does (its RowKey or id). */
export interface Keyed<T> extends Stored<T> {
  key: string;
}

/**
 * What a `$skipToken` holds: the key after which the next page starts (pages that stream in key
 * order from storage), or an offset (pages cut from a list sorted in memory).
 */
export type SkipState = { after: string } | { offset: number };

export function encodeSkipToken(state: SkipState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

export function decodeSkipToken(token: string | undefined): SkipState | undefined {
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
  throw invalid('Invalid $skipToken: use the @odata.nextLink returned by the previous page.');
}

export const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Pages an in-memory list the same way storage queries page, for collections gathered from
 * several places (a customer's view, a support request's children) or needing a full read
 * ($orderby, $count).
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
