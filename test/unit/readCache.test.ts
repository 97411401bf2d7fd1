import { loadConfig } from '../../shared/config';
import { ReadCache } from '../../shared/store/readCache';

describe('read cache of rarely changing rows', () => {
  function counter(values: string[]) {
    let reads = 0;
    return {
      read: async () => values[Math.min(reads++, values.length - 1)],
      reads: () => reads,
    };
  }

  it('reads a key from storage once, then from memory', async () => {
    const cache = new ReadCache<string>();
    const source = counter(['v1']);
    expect(await cache.get('a', source.read)).toBe('v1');
    expect(await cache.get('a', source.read)).toBe('v1');
    expect(source.reads()).toBe(1);
  });

  it('remembers that a row does not exist', async () => {
    const cache = new ReadCache<string | undefined>();
    let reads = 0;
    const read = async () => {
      reads++;
      return undefined;
    };
    expect(await cache.get('a', read)).toBeUndefined();
    expect(await cache.get('a', read)).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('reads again after a write in this process forgets the key', async () => {
    const cache = new ReadCache<string>();
    const source = counter(['v1', 'v2']);
    await cache.get('a', source.read);
    cache.forget('a');
    expect(await cache.get('a', source.read)).toBe('v2');
  });

  it('does not keep what a read returned when a write happened while it was in flight', async () => {
    const cache = new ReadCache<string>();
    let finish: (value: string) => void = () => undefined;
    const slow = cache.get('a', () => new Promise<string>((resolve) => (finish = resolve)));
    cache.forget('a'); // a write of 'a' lands while the read is still out
    finish('before the write');
    expect(await slow).toBe('before the write');
    expect(await cache.get('a', async () => 'after the write')).toBe('after the write');
  });

  it('takes READ_CACHE_SECONDS as whole seconds, 30 by default, 0 for off', () => {
    expect(loadConfig({}).readCacheSeconds).toBe(30);
    expect(loadConfig({ READ_CACHE_SECONDS: '0' }).readCacheSeconds).toBe(0);
    expect(() => loadConfig({ READ_CACHE_SECONDS: '1.5' })).toThrow(/whole number/);
  });
});
