import { randomUUID } from 'node:crypto';
import { onItemSettled } from '../../shared/app/gdapJobs';
import { GdapJobItem } from '../../shared/domain/gdapJobs';
import { Fleet } from './fleet';
import { Client, startIsolatedTestHost, startTestHost, testQueueSettings, TestHost } from './support';

/**
 * Two instances of the service on one storage account share one job (SPEC §15.4): each takes some
 * of its queue messages, and no item is handled twice.
 */
// 150 customers on two hosts: the job is given up to 120 s (settledJob) on a shared machine.
jest.setTimeout(180_000);

describe('a job on two instances', () => {
  let first: TestHost;
  let second: TestHost;
  const settledBy = new Map<string, string[]>();
  const record = (instance: string) => (item: GdapJobItem) => {
    settledBy.set(item.id, [...(settledBy.get(item.id) ?? []), instance]);
  };

  beforeAll(async () => {
    // Few messages per poll, so one instance cannot take all of them at once.
    const runQueues = { ...testQueueSettings, batchSize: 2, newBatchThreshold: 1 };
    first = await startTestHost({ runQueues });
    onItemSettled(record('first'));
    second = await startIsolatedTestHost({
      runQueues,
      inside: () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const isolated = require('../../shared/app/gdapJobs') as typeof import('../../shared/app/gdapJobs');
        isolated.onItemSettled(record('second'));
      },
    });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it('both take items, and each item is settled once', async () => {
    const fleet = new Fleet(new Client(first.url));
    const partner = await fleet.partner();
    const customers = Array.from({ length: 150 }, () => randomUUID());
    await Promise.all(customers.map((customer) => fleet.importDap(partner.tenantId, customer)));
    const template = await fleet.template(partner.token, [randomUUID(), randomUUID()]);
    const location = await fleet.assign(partner.token, template.id, customers);
    const { job, items } = await fleet.settledJob(partner.token, location, 120_000);

    expect(job).toMatchObject({ status: 'succeeded', counts: { total: 150, succeeded: 150 } });
    expect(items.every((item) => item.attempts === 1)).toBe(true);
    expect([...settledBy.keys()].sort()).toEqual(items.map((item) => item.id));
    expect([...settledBy.values()].every((instances) => instances.length === 1)).toBe(true);
    const share = (instance: string) => [...settledBy.values()].filter(([by]) => by === instance).length;
    expect(share('first')).toBeGreaterThan(0);
    expect(share('second')).toBeGreaterThan(0);
    expect(share('first') + share('second')).toBe(150);
    // One relationship per customer, whoever handled it.
    const relationships = await fleet.partnerRelationships(partner.token);
    expect(relationships.map((r) => (r.customer as { tenantId: string }).tenantId).sort()).toEqual(
      [...customers].sort(),
    );
  });
});
