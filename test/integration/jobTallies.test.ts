import { randomUUID } from 'node:crypto';
import { DomainError } from '../../shared/domain/errors';
import { countTallies, GdapJob, GdapJobItem, ItemState, newItems } from '../../shared/domain/gdapJobs';
import { Stored } from '../../shared/store/paging';
import { chunkItems, ChunkWriter, findItem, insertJob, jobTallies, replaceItem } from '../../shared/store/gdapJobs';
import { tableClient, tableNames } from '../../shared/store/tables';
import { terminateJob } from '../fixtures';

/**
 * A job's counts come from its chunks' tallies (shared/store/gdapJobs.ts), on a real Azurite: each
 * item moves in one transaction with its chunk's tally, so the counts stay those of the items
 * whoever moves them, and a refused move changes neither.
 */
async function storedJob(total: number): Promise<{ job: GdapJob; items: Stored<GdapJobItem>[] }> {
  const job = terminateJob(total);
  const targets = Array.from({ length: total }, () => `${randomUUID()}-${job.partnerTenantId}`);
  await insertJob(job, newItems(job.id, targets, 'relationship', job.createdDateTime));
  return { job, items: await chunkItems(job.id, 0) };
}

const moved = (stored: Stored<GdapJobItem>, state: ItemState, minute: number): GdapJobItem => ({
  ...stored.value,
  state,
  lastModifiedDateTime: `2026-01-01T00:${String(minute).padStart(2, '0')}:00.0000000Z`,
});

/** The counts as the items themselves say, read one by one. */
async function countedFromItems(job: GdapJob, items: Stored<GdapJobItem>[]) {
  const states = await Promise.all(items.map(async (item) => (await findItem(job.id, item.value.id))!.value.state));
  const tally = Object.fromEntries(['queued', 'completed', 'failed'].map((state) => [state, 0]));
  for (const state of states) tally[state] = (tally[state] ?? 0) + 1;
  return tally;
}

describe('job tallies', () => {
  it('count a new job’s items as queued, one tally per chunk', async () => {
    const { job } = await storedJob(30);
    const tallies = await jobTallies(job.id);
    expect(tallies).toHaveLength(2);
    expect(countTallies(tallies)).toEqual({ total: 30, succeeded: 0, failed: 0, pending: 30, canceled: 0 });
  });

  it('stay exact while two instances move the items of one chunk at once', async () => {
    const { job, items } = await storedJob(20);
    // Two instances' writers of the chunk, which know nothing of each other: each refuses the
    // other's tally and reads it again.
    const writers = [new ChunkWriter(job.id, 0), new ChunkWriter(job.id, 0)];
    await Promise.all(
      items.map((item, index) =>
        writers[index % 2].replaceItem(moved(item, index % 3 === 0 ? 'failed' : 'completed', index), item),
      ),
    );
    const counts = countTallies(await jobTallies(job.id));
    expect(counts).toEqual({ total: 20, succeeded: 13, failed: 7, pending: 0, canceled: 0 });
    expect(await countedFromItems(job, items)).toMatchObject({ completed: 13, failed: 7, queued: 0 });
    expect((await jobTallies(job.id))[0].lastModifiedDateTime).toBe('2026-01-01T00:19:00.0000000Z');
  });

  it('refuse a move from a state the item no longer has, changing neither it nor the tally', async () => {
    const { job, items } = await storedJob(2);
    await replaceItem(moved(items[0], 'completed', 1), items[0]);
    // A second worker still holding the item as it was read before.
    const late = replaceItem(moved(items[0], 'failed', 2), items[0]);
    await expect(late).rejects.toBeInstanceOf(DomainError);
    await expect(late).rejects.toMatchObject({ kind: 'stale' });
    expect(countTallies(await jobTallies(job.id))).toEqual({
      total: 2,
      succeeded: 1,
      failed: 0,
      pending: 1,
      canceled: 0,
    });
    expect((await findItem(job.id, items[0].value.id))?.value.state).toBe('completed');
  });

  it('count a chunk stored without its tally (a job from before tallies) from its items', async () => {
    const { job, items } = await storedJob(3);
    await replaceItem(moved(items[0], 'completed', 1), items[0]);
    await tableClient(tableNames.gdapJobs).deleteEntity(`item|${job.id}|0000`, '~tally');
    expect(await jobTallies(job.id)).toEqual([]);
    // This process's writer still holds the deleted tally's ETag: refused, it reads, finds none, counts.
    await replaceItem(moved(items[1], 'failed', 2), items[1]);
    expect(countTallies(await jobTallies(job.id))).toEqual({
      total: 3,
      succeeded: 1,
      failed: 1,
      pending: 1,
      canceled: 0,
    });
  });
});
