/**
 * `npm run bench:templates`: fleet onboarding (SPEC §15). One partner assigns a GDAP template
 * with 3 security groups to 10,000 customers in one call; half of them have a DAP (implied
 * consent: active at once, with the groups), the other half are approved by their Global
 * Administrators through the API as their invitations appear, and the groups follow each approval.
 * Reports the time until the job has no pending item, customers per second, storage calls per
 * customer (Tables and Queues, through counting proxies in front of Azurite), failed items and the
 * host's peak RSS. Before the main run, a calibration job of DAP customers alone gives the storage
 * calls per DAP customer exactly. Prints a Markdown table and writes bench-results/templates.json.
 *
 * TEMPLATES_CUSTOMERS (default 10000), TEMPLATES_DAP_SAMPLE (default 500) and
 * TEMPLATES_APPROVERS (default 32) change the size.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { azuriteConnectionString, startAzurite } from '../azurite';
import {
  CpuWindow,
  forEachConcurrently,
  machineDescription,
  markdownTable,
  mib,
  nodeOptions,
  resultsDirectory,
  RssSampler,
  startEnvironment,
} from './common';
import { CountingProxy } from './countingProxy';

const customerCount = Number(process.env.TEMPLATES_CUSTOMERS ?? 10_000);
const dapSample = Number(process.env.TEMPLATES_DAP_SAMPLE ?? 500);
const approvers = Number(process.env.TEMPLATES_APPROVERS ?? 32);
const globalAdministrator = '62e90394-69f5-4237-9190-012177145e10';
const groupRoles = [
  ['29232cdf-9323-42fd-ade2-1d097af3e4de', 'f2ef992c-3afb-46b9-b7cf-a126ee74c451'], // Exchange Admin, Global Reader
  ['3a2c62db-5318-420d-8d74-23affee5d9d5'], // Intune Administrator
  ['729827e3-9c14-49f7-bb1b-9608f156bbb8'], // Helpdesk Administrator
];

type Json = Record<string, unknown>;

class Api {
  constructor(private readonly baseUrl: string) {}

  async call(
    method: string,
    url: string,
    token?: string,
    body?: unknown,
  ): Promise<{ status: number; location: string | null; body: Json }> {
    const target = url.startsWith('http') ? url : `${this.baseUrl}${url}`;
    let response: Response;
    try {
      response = await this.fetchOnce(method, target, token, body);
    } catch (error) {
      // A keep-alive connection the host closed as it was reused: what a client retries.
      return { status: 599, location: null, body: { error: String((error as Error).cause ?? error) } };
    }
    const text = await response.text();
    return {
      status: response.status,
      location: response.headers.get('location'),
      body: text ? (JSON.parse(text) as Json) : {},
    };
  }

  private fetchOnce(method: string, target: string, token?: string, body?: unknown): Promise<Response> {
    return fetch(target, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async ok(
    method: string,
    url: string,
    token: string | undefined,
    body: unknown,
    status: number,
  ): Promise<{ location: string | null; body: Json }> {
    let result = await this.call(method, url, token, body);
    // Reads are retried while the starved account answers 503 (or a connection drops).
    for (
      let attempt = 1;
      method === 'GET' && (result.status === 503 || result.status === 599) && attempt < 10;
      attempt++
    ) {
      await sleep(1000);
      result = await this.call(method, url, token, body);
    }
    if (result.status !== status)
      throw new Error(`${method} ${url}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
    return result;
  }

  async token(claims: Json): Promise<string> {
    return String((await this.ok('POST', '/sandbox/tokens', undefined, claims, 200)).body.access_token);
  }
}

interface Counts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  canceled: number;
}

async function assign(api: Api, token: string, templateId: string, customers: string[]): Promise<string> {
  return String(
    (await api.ok('POST', `/v1/gdapTemplates/${templateId}/assign`, token, { customerTenantIds: customers }, 202))
      .location,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilDone(api: Api, token: string, job: string): Promise<Counts> {
  for (;;) {
    const counts = (await api.ok('GET', job, token, undefined, 200)).body.counts as Counts;
    if (counts.pending === 0) return counts;
    await sleep(500);
  }
}

async function main(): Promise<void> {
  // Counting proxies between the host and Azurite: every storage call of the host is counted.
  const azurite = await startAzurite({ inMemory: true, nodeOptions: nodeOptions('BENCH_AZURITE_NODE_OPTIONS') });
  const tables = await new CountingProxy(azurite.port, 'table').start();
  const queues = await new CountingProxy(azurite.queuePort, 'queue').start();
  process.env.BENCH_STORAGE = azuriteConnectionString({ table: tables.port, queue: queues.port });
  const environment = await startEnvironment('templates');
  const api = new Api(environment.baseUrl);
  const rss = new RssSampler(environment.hostPid).start();
  const calls = () => {
    const table = tables.snapshot();
    const queue = queues.snapshot();
    return { total: table.total + queue.total, byKind: { ...table.byKind, ...queue.byKind } };
  };
  const reset = () => {
    tables.reset();
    queues.reset();
  };
  try {
    const partnerTenantId = randomUUID();
    const partner = await api.token({ tid: partnerTenantId, oid: randomUUID(), roles: ['AdminAgent'] });
    const template = await api.ok(
      'POST',
      '/v1/gdapTemplates',
      partner,
      {
        displayName: 'Fleet baseline',
        duration: 'P730D',
        relationshipNamePrefix: 'Fleet',
        accessAssignments: groupRoles.map((roleIds) => ({
          accessContainer: { accessContainerId: randomUUID(), accessContainerType: 'securityGroup' },
          accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
        })),
      },
      201,
    );
    const templateId = String(template.body.id);

    const sample = Array.from({ length: dapSample }, () => randomUUID());
    const customers = Array.from({ length: customerCount }, () => randomUUID());
    const withDap = new Set(customers.slice(0, Math.floor(customerCount / 2)));
    console.log(
      `Seeding ${dapSample + withDap.size} DAP relationships and ${customerCount - withDap.size} customer tokens...`,
    );
    await forEachConcurrently([...sample, ...withDap], 32, async (customer) => {
      await api.ok('PUT', `/sandbox/dap/${partnerTenantId}/${customer}`, undefined, undefined, 200);
    });
    const customerTokens = new Map<string, string>();
    await forEachConcurrently(
      customers.filter((customer) => !withDap.has(customer)),
      32,
      async (customer) => {
        customerTokens.set(customer, await api.token({ tid: customer, wids: [globalAdministrator] }));
      },
    );

    // Calibration: DAP customers alone, so their storage calls are exactly theirs.
    console.log(`Calibration: ${dapSample} DAP customers...`);
    reset();
    const sampleStart = Date.now();
    const sampleCounts = await waitUntilDone(api, partner, await assign(api, partner, templateId, sample));
    const sampleSeconds = (Date.now() - sampleStart) / 1000;
    const sampleCalls = calls();

    // The main run: one call for every customer; approvals through the API as invitations appear.
    console.log(`Main run: ${customerCount} customers in one assign call...`);
    reset();
    rss.reset();
    const cpu = new CpuWindow({ host: environment.hostPid, tables: azurite.pids.table, queues: azurite.pids.queue });
    const start = Date.now();
    const job = await assign(api, partner, templateId, customers);
    const approved = new Set<string>();
    let approvalErrors = 0;
    let approvalRetries = 0;
    let finished = false;
    const approvals: string[] = [];
    const approverLoop = async (): Promise<void> => {
      while (!finished || approvals.length > 0) {
        const relationshipId = approvals.shift();
        if (!relationshipId) {
          await sleep(50);
          continue;
        }
        const [id, token] = relationshipId.split(' ');
        // A client retries what the service asks it to retry (503 with Retry-After on a starved account).
        for (let attempt = 1; ; attempt++) {
          const result = await api.call(
            'POST',
            `/v1.0/tenantRelationships/delegatedAdminRelationships/${id}/requests`,
            token,
            {
              action: 'approve',
            },
          );
          if (result.status === 201) break;
          // A retried approval whose first try was stored after all (its answer timed out): done.
          if (attempt > 1 && result.status === 400 && /current status is 'active'/.test(JSON.stringify(result.body)))
            break;
          if ((result.status === 503 || result.status === 429 || result.status === 599) && attempt < 10) {
            approvalRetries++;
            await sleep(1000 * attempt);
            continue;
          }
          approvalErrors++;
          console.error(`Approving ${id} failed: ${result.status} ${JSON.stringify(result.body)}`);
          break;
        }
      }
    };
    const workers = Array.from({ length: approvers }, approverLoop);
    let lastProgress = Date.now();
    let counts: Counts;
    const invitations = customerCount - withDap.size;
    for (;;) {
      // Awaiting items are read until every invitation was seen: after that there is nothing to learn from them.
      let url: string | undefined =
        approved.size < invitations ? `${job}/items?$filter=state eq 'awaitingApproval'&$top=1000` : undefined;
      while (url) {
        const page = (await api.ok('GET', url, partner, undefined, 200)).body as {
          value: Json[];
          '@odata.nextLink'?: string;
        };
        for (const item of page.value) {
          const relationshipId = String(item.relationshipId);
          if (approved.has(relationshipId)) continue;
          approved.add(relationshipId);
          approvals.push(`${relationshipId} ${customerTokens.get(String(item.customerTenantId))}`);
        }
        url = page['@odata.nextLink'];
      }
      // The job's counts, once no invitation is left to approve.
      if (approvals.length > 0) {
        await sleep(2000);
        continue;
      }
      counts = (await api.ok('GET', job, partner, undefined, 200)).body.counts as Counts;
      if (counts.pending === 0) break;
      if (Date.now() - lastProgress > 10_000) {
        lastProgress = Date.now();
        const elapsed = ((Date.now() - start) / 1000).toFixed(0);
        console.log(
          `  ${elapsed} s: ${counts.succeeded} succeeded, ${counts.failed} failed, ${approved.size} invitations seen, ${approved.size - approvals.length} approvals sent`,
        );
      }
      await sleep(2000);
    }
    finished = true;
    await Promise.all(workers);
    const seconds = (Date.now() - start) / 1000;
    const failedItems = (await api.ok('GET', `${job}/items?$filter=state eq 'failed'`, partner, undefined, 200)).body
      .value as Json[];
    for (const item of failedItems) console.error(`Failed item ${String(item.id)}: ${JSON.stringify(item.error)}`);
    const mainCalls = calls();
    const peak = rss.peak;
    const cpuPercent = cpu.finish();

    const result = {
      machine: machineDescription(),
      environment: environment.description,
      customers: customerCount,
      withDap: withDap.size,
      approvedThroughApi: approved.size,
      approvalErrors,
      approvalRetries,
      groups: groupRoles.length,
      seconds,
      customersPerSecond: customerCount / seconds,
      counts,
      failedItems: failedItems.map((item) => ({ id: item.id, error: item.error })),
      storageCallsPerCustomer: mainCalls.total / customerCount,
      storageCalls: mainCalls,
      hostPeakRssMiB: peak / 2 ** 20,
      cpuPercentOfOneCore: cpuPercent,
      calibration: {
        dapCustomers: dapSample,
        seconds: sampleSeconds,
        counts: sampleCounts,
        storageCallsPerDapCustomer: sampleCalls.total / dapSample,
        storageCalls: sampleCalls,
      },
    };
    writeFileSync(path.join(resultsDirectory, 'templates.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      markdownTable(
        ['measure', 'value', 'target'],
        ['l', 'r', 'r'],
        [
          ['customers (half with DAP, half approved through the API)', String(customerCount), '10,000'],
          ['time until no item is pending', `${seconds.toFixed(1)} s`, '≤ 300 s'],
          ['customers per second', (customerCount / seconds).toFixed(1), ''],
          ['items succeeded / failed', `${counts.succeeded} / ${counts.failed}`, '0 failed'],
          ['storage calls per customer (all, Tables + Queues)', (mainCalls.total / customerCount).toFixed(1), ''],
          ['storage calls per DAP customer (calibration job)', (sampleCalls.total / dapSample).toFixed(1), '≤ 12'],
          [
            'CPU % of one core: host / Azurite Tables / Queues / bench / other',
            ['host', 'tables', 'queues', 'bench', 'other'].map((name) => cpuPercent[name] ?? 'n/a').join(' / '),
            '',
          ],
          ['host peak RSS', `${mib(peak)} MiB`, '≤ 256 MiB'],
        ],
      ),
    );
    console.log('Main run calls by kind:', JSON.stringify(mainCalls.byKind));
    console.log('Calibration calls by kind:', JSON.stringify(sampleCalls.byKind));
  } finally {
    await environment.stop();
    await tables.stop();
    await queues.stop();
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
