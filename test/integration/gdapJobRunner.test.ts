import { RestError } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { ItemWorker, runItem } from '../../shared/app/gdapJobs';
import { invalid, stale } from '../../shared/domain/errors';
import { newItems } from '../../shared/domain/gdapJobs';
import { findItem, insertJob } from '../../shared/store/gdapJobs';
import { terminateJob } from '../fixtures';

/**
 * The job runner's retries (SPEC §15.4) on a real Azurite: an item whose work meets transient
 * failures (storage 5xx, a lost ETag race) is retried with backoff inside the item and counts one
 * attempt; one that outlasts its retries is left as it was for its message's next delivery; a
 * refusal is the item's failure at once, with its reason.
 */
async function storedItem() {
  const job = terminateJob(1);
  const [item] = newItems(job.id, [`${randomUUID()}-${job.partnerTenantId}`], 'relationship', job.createdDateTime);
  await insertJob(job, [item]);
  return { job, stored: (await findItem(job.id, item.id))! };
}

/** A worker that fails with `failure` the first `failures` times, then completes. */
function flaky(failures: number, failure: () => Error): { worker: ItemWorker; calls: () => number } {
  let calls = 0;
  return {
    worker: async () => {
      calls++;
      if (calls <= failures) throw failure();
      return { state: 'completed' };
    },
    calls: () => calls,
  };
}

const unavailable = () => new RestError('The server is busy.', { statusCode: 503 });

describe('job runner retries', () => {
  it('retries storage 5xx and lost ETag races with backoff, then records one attempt', async () => {
    const { job, stored } = await storedItem();
    let failures = 0;
    const work = flaky(3, () => (++failures % 2 ? unavailable() : stale('changed meanwhile')));
    const started = Date.now();
    expect(await runItem(job, stored, new Map(), work.worker)).toBe('settled');
    expect(work.calls()).toBe(4);
    // Three waits of 100, 200 and 400 ms, each randomised between half and one and a half times.
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect((await findItem(job.id, stored.value.id))?.value).toMatchObject({
      state: 'completed',
      attempts: 1,
      error: null,
    });
  });

  it('leaves an item whose storage stays unavailable for its message’s next delivery', async () => {
    const { job, stored } = await storedItem();
    const work = flaky(Number.POSITIVE_INFINITY, unavailable);
    expect(await runItem(job, stored, new Map(), work.worker)).toBe('retryLater');
    expect(work.calls()).toBe(5);
    expect((await findItem(job.id, stored.value.id))?.value).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('fails an item at once on a refusal, with its Graph code and message', async () => {
    const { job, stored } = await storedItem();
    const work = flaky(Number.POSITIVE_INFINITY, () => invalid('The relationship is not active.'));
    expect(await runItem(job, stored, new Map(), work.worker)).toBe('settled');
    expect(work.calls()).toBe(1);
    expect((await findItem(job.id, stored.value.id))?.value).toMatchObject({
      state: 'failed',
      attempts: 1,
      error: { code: 'badRequest', message: 'The relationship is not active.' },
    });
  });
});
