import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { findJob, listJobs, runDueJob } from '../../shared/app/jobs';
import { armFault, disarmFaults } from '../../shared/store/faults';
import {
  expectOk,
  InstanceJobRunner,
  relationshipsUrl,
  roles,
  startIsolatedTestHost,
  TestHost,
  useTestHost,
} from './support';

/**
 * Two instances of the service on one storage account (issue 15): every job runs on both at the
 * same moment, as two instances' timers would, and each due item is handled exactly once: one
 * instance's report lists it, its audit entry exists once, and nothing is left for a later run.
 */
describe('two instances running every job at once', () => {
  const { client } = useTestHost();
  let second: TestHost & { runJob: InstanceJobRunner };

  const first: InstanceJobRunner = (id, now) => runDueJob(findJob(id)!, now);
  const t0 = DateTime.fromISO('2026-02-01T00:00:00Z', { zone: 'utc' });
  const partnerTenantId = randomUUID();
  const customerTenantId = randomUUID();
  const supportTenantId = randomUUID();
  let partner: string;
  let customer: string;
  const ids = { pending: [] as string[], expiring: [] as string[], extending: [] as string[], terminated: '' };
  /** Every subject each job's reports named, over every round, on both instances. */
  const named = new Map<string, string[]>();
  /** The outbox job's `published` counts, summed over both instances, per round. */
  const published: number[] = [];

  beforeAll(async () => {
    second = await startIsolatedTestHost();
    expectOk(await client.call('PUT', '/sandbox/clock', { body: { now: t0.toISO() } }), 200);
    partner = await client.token({ tid: partnerTenantId, roles: ['AdminAgent'] });
    customer = await client.token({ tid: customerTenantId, wids: [roles.globalAdministrator] });
    const customerRef = { customer: { tenantId: customerTenantId } };
    for (let n = 0; n < 6; n++) {
      const created = expectOk(await client.createRelationship(partner, customerRef), 201);
      expectOk(await client.request(partner, String(created.body.id), 'lockForApproval'), 201);
      ids.pending.push(String(created.body.id));
      const expiring = await client.activeRelationship(partner, customer, customerTenantId, { duration: 'P20D' });
      ids.expiring.push(String(expiring.id));
      const extending = await client.activeRelationship(partner, customer, customerTenantId, {
        duration: 'P20D',
        autoExtendDuration: 'P180D',
      });
      ids.extending.push(String(extending.id));
    }
    // A terminate of a relationship with more assignments than one transaction holds, cut off by a crash.
    const terminated = await client.activeRelationship(partner, customer, customerTenantId);
    ids.terminated = String(terminated.id);
    for (let n = 0; n < 45; n++) {
      expectOk(
        await client.call('POST', `${relationshipsUrl}/${ids.terminated}/accessAssignments`, {
          token: partner,
          body: {
            accessContainer: { accessContainerId: randomUUID(), accessContainerType: 'securityGroup' },
            accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.exchangeAdministrator }] },
          },
        }),
        201,
      );
    }
    armFault('afterTransaction');
    expect((await client.request(partner, ids.terminated, 'terminate')).status).toBe(500);
    disarmFaults();

    // A support change cut off by a crash: its audit entries wait for the outbox's job.
    const oid = randomUUID();
    const category = `c-${oid}`;
    expectOk(
      await client.call('PUT', `/sandbox/supportEngineers/${oid}`, {
        body: { displayName: 'E', expertise: [category] },
      }),
      201,
    );
    const admin = await client.token({ tid: supportTenantId, wids: [roles.serviceSupportAdministrator] });
    const filed = expectOk(
      await client.call('POST', '/v1.0/support/requests', {
        token: admin,
        body: { title: 't', description: 'd', category, allowAdvancedDiagnostics: false },
      }),
      201,
    );
    const engineer = await client.token({ tid: randomUUID(), oid, roles: ['SupportEngineer'] });
    expectOk(
      await client.call('POST', '/v1.0/support/accessRequests', {
        token: engineer,
        body: { supportRequestId: filed.body.id, resourceTenantId: randomUUID(), justification: 'logs' },
      }),
      201,
    );
    armFault('afterTransaction');
    const closed = await client.call('POST', `/v1.0/support/requests/${String(filed.body.id)}/close`, { token: admin });
    expect(closed.status).toBe(500);
    disarmFaults();
  }, 120_000);
  afterAll(async () => {
    // Through the second instance: the first one's host closes first.
    await fetch(`${second.url}/sandbox/clock`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ now: null }),
    });
    await second.close();
  });

  /** Runs every job on both instances at once, at `now` (real time for the jobs that use it). */
  async function round(now: DateTime): Promise<void> {
    // Every job the host registered (read now: the functions load when the host starts).
    const jobs = listJobs().map((job) => job.id);
    expect(jobs.length).toBeGreaterThanOrEqual(6);
    const runs = jobs.flatMap((job) => [first, second.runJob].map((runner) => ({ job, run: runner(job, now) })));
    published.push(0);
    for (const { job, run } of runs) {
      const report = await run;
      if (typeof report.published === 'number') published[published.length - 1] += report.published;
      for (const [label, value] of Object.entries(report)) {
        if (!Array.isArray(value)) continue;
        const key = `${job}.${label}`;
        named.set(key, [...(named.get(key) ?? []), ...(value as string[])]);
      }
    }
  }
  const ended = () => [...ids.pending, ...ids.expiring, ...ids.extending, ids.terminated];
  const sorted = (values: string[]) => [...values].sort();
  const namedAs = (key: string) => sorted(named.get(key) ?? []);

  async function auditCount(activity: string, id: string): Promise<number> {
    const filter = encodeURIComponent(`activityDisplayName eq '${activity}'`);
    const page = await client.call<{ value: { targetResources: { id: string }[] }[] }>(
      'GET',
      `/v1.0/auditLogs/directoryAudits?$filter=${filter}&$top=300`,
      { token: await client.token({ tid: partnerTenantId, roles: ['AdminAgent'] }) },
    );
    return page.body.value.filter((entry) => entry.targetResources[0]?.id === id).length;
  }

  it('handles each due item once however the two interleave', async () => {
    // Day 15: the 7-day warnings of the relationships ending on day 20, and the crashed terminate's rest.
    await round(t0.plus({ days: 15 }));
    expect(namedAs('sendExpiryWarnings.warned7Days')).toEqual(sorted(ids.expiring));
    expect(namedAs('finishRelationshipChanges.finished')).toEqual([ids.terminated]);

    // Day 100: pending approvals lapsed (day 90), ends reached (day 20): expired or extended, once each.
    await round(t0.plus({ days: 100 }));
    expect(namedAs('expirePendingRequests.expired')).toEqual(sorted(ids.pending));
    expect(namedAs('processEndDates.expired')).toEqual(sorted(ids.expiring));
    expect(namedAs('processEndDates.extended')).toEqual(sorted(ids.extending));
    // The extended ones are terminated on day 100, so that they too are purged by day 500.
    expectOk(await client.call('PUT', '/sandbox/clock', { body: { now: t0.plus({ days: 100 }).toISO() } }), 200);
    for (const id of ids.extending) expectOk(await client.request(partner, id, 'terminate'), 201);

    // Day 500: everything that ended has been ended 365 days: purged once each.
    await round(t0.plus({ days: 500 }));
    expect(namedAs('purgeEnded.purged')).toEqual(sorted(ended()));

    // No report of either instance named a subject twice.
    for (const [key, subjects] of named)
      expect({ key, twice: subjects.filter((id, i) => subjects.indexOf(id) !== i) }).toEqual({ key, twice: [] });

    // The outbox's job (on real time: days 15 and 100 are before the crash's recovery entry fell
    // due, day 500 after) published the support change's entries in one round.
    expect(published.slice(0, 2)).toEqual([0, 0]);
    expect(published[2]).toBeGreaterThan(0);

    // Nothing was left for a later run, on either instance.
    const before = new Map(named);
    await round(t0.plus({ days: 501 }));
    expect(named).toEqual(before);
    expect(published[3]).toBe(0);
  }, 120_000);

  it('wrote each handled item’s audit entry once', async () => {
    expectOk(await client.call('PUT', '/sandbox/clock', { body: { now: t0.plus({ days: 501 }).toISO() } }), 200);
    for (const id of ids.extending) {
      expect(await auditCount('Auto-extend delegated admin relationship', id)).toBe(1);
    }
    expect(await auditCount('Terminate delegated admin relationship', ids.terminated)).toBe(1);
    const supportLog = await client.call<{ value: { activityDisplayName: string }[] }>(
      'GET',
      '/v1.0/auditLogs/directoryAudits?$top=50',
      { token: await client.token({ tid: supportTenantId, wids: [roles.globalReader] }) },
    );
    expect(supportLog.body.value.filter((entry) => entry.activityDisplayName === 'Request canceled')).toHaveLength(1);
    // Purged relationships are gone.
    for (const id of ended()) {
      expect((await client.call('GET', `${relationshipsUrl}/${id}`, { token: partner })).status).toBe(404);
    }
  });
});
