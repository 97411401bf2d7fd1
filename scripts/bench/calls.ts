/**
 * `npm run bench:calls`: how many storage round trips each API operation and each job costs.
 *
 * Starts an in-memory Azurite, a counting proxy in front of it and the built host (talking to
 * Azurite only through the proxy), then runs each operation a few times, one at a time, on fresh
 * relationships (a fresh customer each, as in a bulk onboarding; the partner's profile is cached
 * after the first call, as it is in steady state). Every request the host sends to storage is
 * counted and classified by kind: point read, query (each page is a call), insert, upsert or
 * replace, merge, delete, transaction (one entity-group transaction, however many actions), and a
 * queue message sent (a second proxy sits in front of the Queue service). Left out: the sandbox
 * clock's reads and the webhook registrations' (each at most once per cache period).
 * Jobs are counted per due item (their calls over their report's `due`).
 * Prints a Markdown table and writes bench-results/calls.json. Exact whatever the machine's load.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { azuriteConnectionString, startAzurite } from '../azurite';
import { CallKind, CountingProxy } from './countingProxy';
import {
  createBody,
  exchangeAdministrator,
  JsonClient,
  JsonResponse,
  markdownTable,
  relationshipsUrl,
  resultsDirectory,
  startEnvironment,
} from './common';

const repeats = Number(process.env.CALLS_REPEATS ?? 5);
const intuneAdministrator = '3a2c62db-5318-420d-8d74-23affee5d9d5';
const serviceSupportAdministrator = 'f023fd81-a637-4b56-95fd-791ac0226033';

const kinds = [
  'point read',
  'query',
  'insert',
  'upsert',
  'merge',
  'delete',
  'transaction',
  'table',
  'queue send',
] as const;
type Kind = CallKind;

interface Row {
  step: string;
  /** Calls per operation (or per due item), averaged over the runs. */
  calls: number;
  byKind: Partial<Record<Kind, number>>;
  runs: number;
}

class CallsBench {
  readonly rows: Row[] = [];
  private readonly partnerTenantId = randomUUID();
  private partner = '';

  constructor(
    private readonly client: JsonClient,
    private readonly proxy: Pick<CountingProxy, 'take'>,
  ) {}

  private async expect(status: number, response: Promise<JsonResponse>, what: string): Promise<JsonResponse> {
    const result = await response;
    if (result.status !== status) {
      throw new Error(`${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`);
    }
    return result;
  }

  /** Counts the storage calls of `work` (run `runs` times, or divided by what it reports). */
  private async count(step: string, runs: number, work: (run: number) => Promise<number | void>): Promise<void> {
    const totals = new Map<Kind, number>();
    let units = 0;
    for (let run = 0; run < runs; run++) {
      this.proxy.take();
      const reported = await work(run);
      units += typeof reported === 'number' ? reported : 1;
      for (const [kind, n] of this.proxy.take()) totals.set(kind, (totals.get(kind) ?? 0) + n);
    }
    const per = (n: number): number => Math.round((n / Math.max(units, 1)) * 100) / 100;
    const byKind: Partial<Record<Kind, number>> = {};
    let calls = 0;
    for (const kind of kinds) {
      const n = totals.get(kind);
      if (n) {
        byKind[kind] = per(n);
        calls += n;
      }
    }
    this.rows.push({ step, calls: per(calls), byKind, runs: units });
    console.log(`  ${step.padEnd(42)} ${String(per(calls)).padStart(6)}`);
  }

  private async clock(now: DateTime): Promise<void> {
    await this.expect(200, this.client.call('PUT', '/sandbox/clock', { body: { now: now.toISO() } }), 'clock');
  }

  private async newCustomer(): Promise<{ tenantId: string; token: string }> {
    const tenantId = randomUUID();
    return { tenantId, token: await this.client.customerToken(tenantId) };
  }

  private async create(customerTenantId: string, body: Record<string, unknown> = {}): Promise<string> {
    const created = await this.expect(
      201,
      this.client.call('POST', relationshipsUrl, {
        token: this.partner,
        body: { ...createBody(`Calls ${randomUUID().slice(0, 8)}`, customerTenantId), ...body },
      }),
      'create',
    );
    return String(created.body.id);
  }

  private action(token: string, id: string, action: string): Promise<JsonResponse> {
    return this.expect(
      201,
      this.client.call('POST', `${relationshipsUrl}/${id}/requests`, { token, body: { action } }),
      action,
    );
  }

  private async active(body: Record<string, unknown> = {}): Promise<{ id: string; customer: string }> {
    const customer = await this.newCustomer();
    const id = await this.create(customer.tenantId, body);
    await this.action(this.partner, id, 'lockForApproval');
    await this.action(customer.token, id, 'approve');
    return { id, customer: customer.token };
  }

  private assign(id: string, roles: string[]): Promise<JsonResponse> {
    return this.expect(
      201,
      this.client.call('POST', `${relationshipsUrl}/${id}/accessAssignments`, {
        token: this.partner,
        body: {
          accessContainer: { accessContainerId: randomUUID(), accessContainerType: 'securityGroup' },
          accessDetails: { unifiedRoles: roles.map((roleDefinitionId) => ({ roleDefinitionId })) },
        },
      }),
      'assignment create',
    );
  }

  private async etagOf(url: string, token = this.partner): Promise<string> {
    const read = await this.expect(200, this.client.call('GET', url, { token }), `GET ${url}`);
    return String(read.body['@odata.etag']);
  }

  private async runJob(job: string): Promise<number> {
    const report = await this.expect(200, this.client.call('POST', `/sandbox/jobs/${job}`), job);
    return Number(report.body.due);
  }

  async execute(): Promise<void> {
    const t0 = DateTime.fromISO('2030-01-01T00:00:00Z', { zone: 'utc' });
    await this.clock(t0);
    this.partner = await this.client.partnerToken(this.partnerTenantId);
    // Warm-up, uncounted: tables, the partner's profile, the token caches.
    await this.active();

    const twoRoles = {
      accessDetails: {
        unifiedRoles: [exchangeAdministrator, intuneAdministrator].map((r) => ({ roleDefinitionId: r })),
      },
    };
    console.log('Storage calls per operation:');
    const ids: string[] = [];
    const customers: { tenantId: string; token: string }[] = [];
    for (let i = 0; i < repeats; i++) customers.push(await this.newCustomer());
    await this.count('POST create (a new customer)', repeats, async (run) => {
      ids.push(await this.create(customers[run].tenantId, twoRoles));
    });
    await this.count('GET by id', repeats, async (run) => {
      await this.expect(
        200,
        this.client.call('GET', `${relationshipsUrl}/${ids[run]}`, { token: this.partner }),
        'GET',
      );
    });
    await this.count('GET list ($filter, $top=100)', repeats, async () => {
      const filter = encodeURIComponent("status eq 'active'");
      await this.expect(
        200,
        this.client.call('GET', `${relationshipsUrl}?$filter=${filter}&$top=100`, { token: this.partner }),
        'list',
      );
    });
    await this.count('POST requests lockForApproval', repeats, async (run) => {
      await this.action(this.partner, ids[run], 'lockForApproval');
    });
    await this.count('POST requests approve', repeats, async (run) => {
      await this.action(customers[run].token, ids[run], 'approve');
    });
    await this.count('GET requests (list)', repeats, async (run) => {
      await this.expect(
        200,
        this.client.call('GET', `${relationshipsUrl}/${ids[run]}/requests`, { token: this.partner }),
        'requests',
      );
    });
    const assignments: string[] = [];
    await this.count('POST accessAssignments', repeats, async (run) => {
      const created = await this.assign(ids[run], [exchangeAdministrator, intuneAdministrator]);
      assignments.push(`${relationshipsUrl}/${ids[run]}/accessAssignments/${String(created.body.id)}`);
    });
    await this.count('GET accessAssignment by id', repeats, async (run) => {
      await this.expect(200, this.client.call('GET', assignments[run], { token: this.partner }), 'GET assignment');
    });
    const assignmentEtags: string[] = [];
    for (const url of assignments) assignmentEtags.push(await this.etagOf(url));
    await this.count('PATCH accessAssignment (202)', repeats, async (run) => {
      await this.expect(
        202,
        this.client.call('PATCH', assignments[run], {
          token: this.partner,
          headers: { 'if-match': assignmentEtags[run] },
          body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: exchangeAdministrator }] } },
        }),
        'PATCH assignment',
      );
    });
    for (const [index, url] of assignments.entries()) assignmentEtags[index] = await this.etagOf(url);
    await this.count('DELETE accessAssignment', repeats, async (run) => {
      await this.expect(
        204,
        this.client.call('DELETE', assignments[run], {
          token: this.partner,
          headers: { 'if-match': assignmentEtags[run] },
        }),
        'DELETE assignment',
      );
    });
    const relationshipEtags: string[] = [];
    for (const id of ids) relationshipEtags.push(await this.etagOf(`${relationshipsUrl}/${id}`));
    await this.count('PATCH relationship autoExtendDuration', repeats, async (run) => {
      await this.expect(
        200,
        this.client.call('PATCH', `${relationshipsUrl}/${ids[run]}`, {
          token: this.partner,
          headers: { 'if-match': relationshipEtags[run] },
          body: { autoExtendDuration: 'P180D' },
        }),
        'PATCH relationship',
      );
    });
    for (const id of ids) await this.assign(id, [exchangeAdministrator, intuneAdministrator]);
    for (const [index, id] of ids.entries())
      relationshipEtags[index] = await this.etagOf(`${relationshipsUrl}/${id}`, customers[index].token);
    await this.count('PATCH relationship: customer removes a role (202)', repeats, async (run) => {
      await this.expect(
        202,
        this.client.call('PATCH', `${relationshipsUrl}/${ids[run]}`, {
          token: customers[run].token,
          headers: { 'if-match': relationshipEtags[run] },
          body: { accessDetails: { unifiedRoles: [{ roleDefinitionId: exchangeAdministrator }] } },
        }),
        'role removal',
      );
    });
    await this.count('POST requests terminate (1 assignment)', repeats, async (run) => {
      await this.action(this.partner, ids[run], 'terminate');
    });
    const drafts: string[] = [];
    for (let i = 0; i < repeats; i++) drafts.push(await this.create((await this.newCustomer()).tenantId));
    const draftEtags: string[] = [];
    for (const id of drafts) draftEtags.push(await this.etagOf(`${relationshipsUrl}/${id}`));
    await this.count('DELETE relationship (draft)', repeats, async (run) => {
      await this.expect(
        204,
        this.client.call('DELETE', `${relationshipsUrl}/${drafts[run]}`, {
          token: this.partner,
          headers: { 'if-match': draftEtags[run] },
        }),
        'DELETE',
      );
    });
    await this.count('GET auditLogs/directoryAudits ($top=50)', repeats, async () => {
      await this.expect(
        200,
        this.client.call('GET', '/v1.0/auditLogs/directoryAudits?$top=50', { token: this.partner }),
        'audit',
      );
    });

    await this.support();
    await this.jobs(t0);
    // Last, so the jobs' due items are the same as without it.
    await this.subscribed();
  }

  /**
   * The same changes for a partner whose registration takes every webhook event (SPEC §16): what
   * publishing adds to the request (the host runs without queue triggers here, so no delivery's
   * calls mix in; `npm run bench:webhooks` measures delivery). Customers have no registration.
   */
  private async subscribed(): Promise<void> {
    const partnerTenantId = randomUUID();
    const partner = await this.client.partnerToken(partnerTenantId);
    const events = await this.expect(
      200,
      this.client.call('GET', '/webhooks/v1/registration/events', { token: partner }),
      'events',
    );
    await this.expect(
      200,
      this.client.call('POST', '/webhooks/v1/registration', {
        token: partner,
        body: { WebhookUrl: 'https://receiver.example.com/events', WebhookEvents: events.body },
      }),
      'registration',
    );
    const previous = this.partner;
    this.partner = partner;
    // Warm-up, uncounted: the partner's profile, the registrations read once.
    await this.active();
    const customers: { tenantId: string; token: string }[] = [];
    const ids: string[] = [];
    for (let i = 0; i < repeats; i++) {
      customers.push(await this.newCustomer());
      const id = await this.create(customers[i].tenantId);
      await this.action(partner, id, 'lockForApproval');
      ids.push(id);
    }
    await this.count('subscribed: POST requests approve (2 events)', repeats, async (run) => {
      await this.action(customers[run].token, ids[run], 'approve');
    });
    await this.count('subscribed: POST accessAssignments (2 events)', repeats, async (run) => {
      await this.assign(ids[run], [exchangeAdministrator]);
    });
    await this.count('subscribed: POST requests terminate (1 assignment, 2 events)', repeats, async (run) => {
      await this.action(partner, ids[run], 'terminate');
    });
    this.partner = previous;
  }

  private async support(): Promise<void> {
    const engineerId = randomUUID();
    const category = `calls-${randomUUID().slice(0, 8)}`;
    await this.expect(
      201,
      this.client.call('PUT', `/sandbox/supportEngineers/${engineerId}`, {
        body: { displayName: 'Bench Engineer', expertise: [category] },
      }),
      'engineer',
    );
    const engineer = await this.client.token({ tid: randomUUID(), roles: ['SupportEngineer'], oid: engineerId });
    const email = `admin-${randomUUID().slice(0, 8)}@example.com`;
    const requestTenant = randomUUID();
    const resourceTenant = randomUUID();
    const admin = await this.client.token({ tid: requestTenant, wids: [serviceSupportAdministrator], email });
    const resourceAdmin = await this.client.token({ tid: resourceTenant, wids: [serviceSupportAdministrator], email });
    const supportRequests: string[] = [];
    await this.count('POST support/requests', repeats, async () => {
      const created = await this.expect(
        201,
        this.client.call('POST', '/v1.0/support/requests', {
          token: admin,
          body: {
            title: 'Sign-in fails',
            description: 'Users cannot sign in.',
            category,
            allowAdvancedDiagnostics: false,
          },
        }),
        'support request',
      );
      supportRequests.push(String(created.body.id));
    });
    const accessRequests: string[] = [];
    await this.count('POST support/accessRequests', repeats, async (run) => {
      const created = await this.expect(
        201,
        this.client.call('POST', '/v1.0/support/accessRequests', {
          token: engineer,
          body: {
            supportRequestId: supportRequests[run],
            resourceTenantId: resourceTenant,
            justification: 'Read the sign-in logs.',
          },
        }),
        'access request',
      );
      accessRequests.push(String(created.body.id));
    });
    await this.count('POST support/accessRequests/{id}/approve', repeats, async (run) => {
      await this.expect(
        200,
        this.client.call('POST', `/v1.0/support/accessRequests/${accessRequests[run]}/approve`, {
          token: admin,
          headers: { 'x-resource-tenant-authorization': `Bearer ${resourceAdmin}` },
        }),
        'approve access',
      );
    });
    await this.count('POST support/requests/{id}/close', repeats, async (run) => {
      await this.expect(
        200,
        this.client.call('POST', `/v1.0/support/requests/${supportRequests[run]}/close`, { token: admin }),
        'close',
      );
    });
  }

  /** Each job over `repeats` due items of its own (the clock jumps far enough that nothing else is due). */
  private async jobs(t0: DateTime): Promise<void> {
    console.log('Storage calls per due item of each job:');
    // Pending requests that lapse: locked at t1, due at t1 + 90 days.
    const t1 = t0.plus({ years: 5 });
    await this.clock(t1);
    this.partner = await this.client.partnerToken(this.partnerTenantId);
    for (let i = 0; i < repeats; i++)
      await this.action(this.partner, await this.create((await this.newCustomer()).tenantId), 'lockForApproval');
    await this.clock(t1.plus({ days: 90 }));
    await this.count('job expirePendingRequests', 1, () => this.runJob('expirePendingRequests'));

    // End dates: relationships of 30 days (expire) and with P180D (extend), 2 assignments each.
    const t2 = t1.plus({ years: 5 });
    await this.clock(t2);
    this.partner = await this.client.partnerToken(this.partnerTenantId);
    for (let i = 0; i < repeats; i++) {
      const { id } = await this.active({ duration: 'P30D' });
      await this.assign(id, [exchangeAdministrator]);
      await this.assign(id, [exchangeAdministrator]);
    }
    await this.clock(t2.plus({ days: 30 }));
    await this.count('job processEndDates (expire, 2 assignments)', 1, () => this.runJob('processEndDates'));
    await this.clock(t2.plus({ days: 31 }));
    await this.count('job sendExpiryWarnings (nothing left to warn)', 1, () => this.runJob('sendExpiryWarnings'));

    const t3 = t2.plus({ years: 5 });
    await this.clock(t3);
    this.partner = await this.client.partnerToken(this.partnerTenantId);
    for (let i = 0; i < repeats; i++) await this.active({ duration: 'P60D', autoExtendDuration: 'P180D' });
    await this.clock(t3.plus({ days: 60 }));
    await this.count('job processEndDates (auto-extend)', 1, () => this.runJob('processEndDates'));

    const t4 = t3.plus({ years: 5 });
    await this.clock(t4);
    this.partner = await this.client.partnerToken(this.partnerTenantId);
    for (let i = 0; i < repeats; i++) await this.active({ duration: 'P60D' });
    await this.clock(t4.plus({ days: 30 }));
    await this.count('job sendExpiryWarnings (30-day warning)', 1, () => this.runJob('sendExpiryWarnings'));

    // Purge: everything ended so far, 365 days on.
    await this.clock(t4.plus({ years: 2 }));
    await this.runJob('processEndDates');
    await this.runJob('expirePendingRequests');
    await this.clock(t4.plus({ years: 4 }));
    await this.count('job purgeEnded', 1, () => this.runJob('purgeEnded'));
    await this.count('job publishEvents (nothing stranded)', 1, async () => {
      await this.runJob('publishEvents');
      return 1;
    });
    await this.client.call('PUT', '/sandbox/clock', { body: { now: null } });
  }
}

async function main(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  const [proxy, queueProxy] = await Promise.all([
    new CountingProxy(azurite.port, 'table').start(),
    new CountingProxy(azurite.queuePort, 'queue').start(),
  ]);
  process.env.BENCH_STORAGE = azuriteConnectionString({ table: proxy.port, queue: queueProxy.port });
  // No queue triggers: a delivery's calls would mix with the requests' (bench:webhooks measures them).
  const environment = await startEnvironment('calls', { hostArgs: ['--no-queues'] });
  const client = new JsonClient(environment.baseUrl, 4);
  // Table and queue kinds never share a name: one map holds both.
  const bench = new CallsBench(client, { take: () => new Map([...proxy.take(), ...queueProxy.take()]) });
  try {
    await bench.execute();
  } finally {
    client.close();
    await environment.stop();
    await Promise.all([proxy.stop(), queueProxy.stop()]);
    await azurite.stop();
  }
  const table = markdownTable(
    ['operation', 'storage calls', ...kinds],
    ['l', 'r', ...kinds.map(() => 'r' as const)],
    bench.rows.map((row) => [row.step, String(row.calls), ...kinds.map((kind) => String(row.byKind[kind] ?? ''))]),
  );
  console.log(`\n${table}`);
  const file = path.join(resultsDirectory, 'calls.json');
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), repeats, rows: bench.rows }, null, 2));
  console.log(`Written to ${file}.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
