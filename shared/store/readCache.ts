import { LRUCache } from 'lru-cache';
import { config } from '../config';

/**
 * Rows that rarely change but are read on every write path (a partner's profile for the account
 * gate, a tenant's display name), kept for `READ_CACHE_SECONDS` so a request does not wait on a
 * storage round trip for each. A write in this process forgets the key at once; one made by
 * another instance is seen within that time.
 */
export class ReadCache<V> {
  /** Made on first use, once the configuration is settled; null when caching is off. */
  private entries: LRUCache<string, { value: V }> | null | undefined;
  /** Bumped by every `forget`, so a read that overlapped a write does not store what it read. */
  private generation = 0;

  constructor(private readonly maxEntries = 10_000) {}

  private store(): LRUCache<string, { value: V }> | null {
    if (this.entries === undefined) {
      const ttlSeconds = config().readCacheSeconds;
      this.entries = ttlSeconds > 0 ? new LRUCache({ max: this.maxEntries, ttl: ttlSeconds * 1000 }) : null;
    }
    return this.entries;
  }

  async get(key: string, read: () => Promise<V>): Promise<V> {
    const cached = this.store()?.get(key);
    if (cached) return cached.value;
    const generation = this.generation;
    const value = await read();
    if (generation === this.generation) this.store()?.set(key, { value });
    return value;
  }

  /** Called once a write of `key` is stored (or has failed): the next read goes to storage. */
  forget(key: string): void {
    this.generation++;
    this.store()?.delete(key);
  }
}
