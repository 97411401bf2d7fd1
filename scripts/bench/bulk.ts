/**
 * `npm run bench:bulk`: the FAQ's "10,000 customers, do it by API" case. One partner creates,
 * locks and has approved one relationship for each of 10,000 customers (random tenant GUIDs),
 * through the HTTP API with 32 requests in flight, each customer's Global Administrator approving
 * its own. Reports total time, rate (relationships fully onboarded per second), errors and the
 * host's peak RSS, next to raw `@azure/data-tables` insert throughput measured in the same run
 * against the same Azurite. Prints a Markdown table and writes bench-results/bulk.json.
 *
 * BULK_CUSTOMERS (default 10000) and BULK_CONCURRENCY (default 32) change the size. Against
 * Azurite the rate falls as the partner's partitions grow (its store scans a partition for every
 * point operation), so the run stops starting new customers after BULK_TIME_LIMIT_SECONDS
 * (default 900; 0 for no limit) and reports what it completed by then. For that reason it also
 * measures raw inserts into a partition as large as the partner's at the end of the run.
 */
import { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tenantPartitionRange } from '../../shared/store/rows';
import {
  closedLoop,
  CpuWindow,
  createBody,
  fixed,
  forEachConcurrently,
  JsonClient,
  JsonResponse,
  machineDescription,
  markdownTable,
  mib,
  peakResidentBytes,
  percent,
  percentile,
  rawTable,
  relationshipLikeRow,
  relationshipsUrl,
  resultsDirectory,
  RssSampler,
  startEnvironment,
} from './common';

const customerCount = Number(process.env.BULK_CUSTOMERS ?? 10_000);
const concurrency = Number(process.env.BULK_CONCURRENCY ?? 32);
const timeLimitSeconds = Number(process.env.BULK_TIME_LIMIT_SECONDS ?? 900);
const rawSeconds = 10;

type Step = 'create' | 'lockForApproval' | 'approve';

async function main(): Promise<void> {
  const environment = await startEnvironment('bulk');
  const client = new JsonClient(environment.baseUrl, concurrency * 2);
  const rss = new RssSampler(environment.hostPid).start();
  const run = Date.now().toString(36);
  try {
    // The floor: raw inserts into one partition, same concurrency, same Azurite.
    const table = rawTable(environment.connectionString, `bulkraw${run}`);
    await table.createTable();
    const partition = randomUUID();
    await closedLoop(8, 2000, (n) => table.createEntity(relationshipLikeRow(partition, `warm|${n}`)));
    console.log(`Raw inserts, ${concurrency} in flight, ${rawSeconds} s...`);
    const raw = await closedLoop(concurrency, rawSeconds * 1000, (n) =>
      table.createEntity(relationshipLikeRow(partition, `rel|${n}-${randomUUID()}`)),
    );
    console.log(`  ${fixed(raw.rate, 0)} inserts/s, p50 ${fixed(raw.p50, 2)} ms, p99 ${fixed(raw.p99, 2)} ms`);

    // Tokens are the sandbox's stand-in for each customer's own sign-in: minted before the clock starts.
    const partnerTenantId = randomUUID();
    const partner = await client.partnerToken(partnerTenantId);
    const customers = Array.from({ length: customerCount }, () => ({ tenantId: randomUUID(), token: '' }));
    const mintStart = performance.now();
    await forEachConcurrently(customers, concurrency, async (customer) => {
      customer.token = await client.customerToken(customer.tenantId);
    });
    const mintSeconds = (performance.now() - mintStart) / 1000;
    console.log(`Minted ${customerCount} customer tokens in ${fixed(mintSeconds)} s (not counted).`);

    console.log(`Onboarding ${customerCount} customers, ${concurrency} in flight...`);
    const latencies: Record<Step, number[]> = { create: [], lockForApproval: [], approve: [] };
    const failures: string[] = [];
    let errors = 0;
    let done = 0;
    const progress: { onboarded: number; seconds: number; rate: number }[] = [];
    let lastMark = performance.now();
    let started = 0;
    const timed = async (step: Step, call: () => Promise<JsonResponse>): Promise<JsonResponse> => {
      const began = performance.now();
      const response = await call();
      latencies[step].push(performance.now() - began);
      if (response.status !== 201) {
        throw new Error(`${step} → ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
      }
      return response;
    };
    rss.reset();
    const cpu = new CpuWindow({ host: environment.hostPid, azurite: environment.azuritePid });
    const start = performance.now();
    const deadline = timeLimitSeconds > 0 ? performance.now() + timeLimitSeconds * 1000 : Infinity;
    await forEachConcurrently(customers, concurrency, async (customer, index) => {
      if (performance.now() > deadline) return;
      started++;
      try {
        const created = await timed('create', () =>
          client.call('POST', relationshipsUrl, {
            token: partner,
            body: createBody(`Onboarding ${run} ${index}`, customer.tenantId),
          }),
        );
        const requests = `${relationshipsUrl}/${String(created.body.id)}/requests`;
        await timed('lockForApproval', () =>
          client.call('POST', requests, { token: partner, body: { action: 'lockForApproval' } }),
        );
        await timed('approve', () =>
          client.call('POST', requests, { token: customer.token, body: { action: 'approve' } }),
        );
      } catch (error) {
        errors++;
        if (failures.length < 10) failures.push(error instanceof Error ? error.message : String(error));
      }
      done++;
      if (done % 1000 === 0) {
        const now = performance.now();
        const rate = 1000 / ((now - lastMark) / 1000);
        lastMark = now;
        progress.push({
          onboarded: done,
          seconds: Math.round((now - start) / 100) / 10,
          rate: Math.round(rate * 10) / 10,
        });
        console.log(`  ${done} after ${fixed((now - start) / 1000)} s (last 1,000 at ${fixed(rate)}/s)`);
      }
    });
    const totalSeconds = (performance.now() - start) / 1000;
    const cpuPercent = cpu.finish();
    const hostPeak = rss.windowPeak();
    const onboarded = started - errors;
    const complete = started === customerCount;
    const rate = onboarded / totalSeconds;

    // Check by reading back: every relationship of the partner is active.
    const filter = encodeURIComponent("status eq 'active'");
    const check = await client.call('GET', `${relationshipsUrl}?$filter=${filter}&$count=true&$top=1`, {
      token: partner,
    });
    const activeCount = Number(check.body['@odata.count']);

    // Azurite walks a partition for every point operation, so the run's later calls cost more than
    // the raw figure's (a fresh partition). The same floor, measured in a partition as large as the
    // partner's largest ended up, shows what the store itself allows at that size.
    const partnerPartitions = environment.tablePrefix
      ? await partitionSizes(
          rawTable(environment.connectionString, `${environment.tablePrefix}Tenants`),
          partnerTenantId,
        )
      : undefined;
    const largestPartnerPartition = partnerPartitions && Math.max(...partnerPartitions.values());
    let rawAtSize: Awaited<ReturnType<typeof closedLoop>> | undefined;
    if (largestPartnerPartition) {
      const grown = randomUUID();
      const keys = Array.from({ length: largestPartnerPartition }, (_, i) => `fill|${String(i).padStart(7, '0')}`);
      const batches = Array.from({ length: Math.ceil(keys.length / 100) }, (_, i) =>
        keys.slice(i * 100, i * 100 + 100),
      );
      console.log(
        `Raw inserts into a partition of ${largestPartnerPartition} rows (the partner's largest), ${rawSeconds} s...`,
      );
      await forEachConcurrently(batches, 4, async (batch) => {
        await table.submitTransaction(batch.map((rowKey) => ['create', relationshipLikeRow(grown, rowKey)]));
      });
      rawAtSize = await closedLoop(concurrency, rawSeconds * 1000, (n) =>
        table.createEntity(relationshipLikeRow(grown, `rel|${n}-${randomUUID()}`)),
      );
      console.log(`  ${fixed(rawAtSize.rate, 0)} inserts/s`);
    }

    const machine = machineDescription();
    const stepRows = (Object.keys(latencies) as Step[]).map((step) => {
      const sorted = latencies[step].sort((a, b) => a - b);
      return [
        `POST ${step}`,
        String(sorted.length),
        fixed(percentile(sorted, 50), 1),
        fixed(percentile(sorted, 99), 1),
      ];
    });
    const ratio = rate / raw.rate;
    const requestRate = (3 * onboarded) / totalSeconds;
    const requestRatio = requestRate / raw.rate;
    const summary = markdownTable(
      ['measure', 'value'],
      ['l', 'r'],
      [
        [
          'customers onboarded (create + lock + approve)',
          `${onboarded} of ${customerCount}${complete ? '' : ` (**stopped at the ${timeLimitSeconds} s limit**)`}`,
        ],
        ['errors', String(errors)],
        ['total time', `${fixed(totalSeconds)} s`],
        ['rate (relationships fully onboarded / s)', fixed(rate, 1)],
        ['HTTP requests / s (3 per customer)', fixed(requestRate, 1)],
        [`raw inserts / s (${concurrency} in flight, fresh partition, same run)`, fixed(raw.rate, 0)],
        // Issue 16 settled the unit: per HTTP request, against raw inserts.
        [
          'HTTP requests / s ÷ raw insert rate (target ≥ 0.3)',
          `${fixed(requestRatio, 3)} ${requestRatio >= 0.3 ? 'pass' : '**FAIL**'}`,
        ],
        ['for reference: relationships fully onboarded / s ÷ raw insert rate', fixed(ratio, 3)],
        ...(rawAtSize && largestPartnerPartition
          ? [
              [
                `for reference: raw inserts / s into a partition of ${largestPartnerPartition} rows (the partner's largest at the end)`,
                fixed(rawAtSize.rate, 0),
              ],
            ]
          : []),
        ['active relationships read back ($count)', String(activeCount)],
        ['host peak RSS (target ≤ 256 MiB)', `${mib(hostPeak)} MiB`],
        [
          'CPU % of a core: host / Azurite / bench / other',
          [cpuPercent.host, cpuPercent.azurite, cpuPercent.bench, cpuPercent.other].map(percent).join(' / '),
        ],
        ['customer tokens minted beforehand (not counted)', `${fixed(mintSeconds)} s`],
      ],
    );
    const steps = markdownTable(['step', 'requests', 'p50 ms', 'p99 ms'], ['l', 'r', 'r', 'r'], stepRows);
    const curve = markdownTable(
      ['onboarded', 'after s', 'rate of the last 1,000 / s'],
      ['r', 'r', 'r'],
      progress.map((p) => [String(p.onboarded), fixed(p.seconds), String(p.rate)]),
    );
    console.log(`\nMachine: ${machine}\nSet-up: ${environment.description}; ${concurrency} customers in flight.\n`);
    console.log(summary);
    console.log(`\n${steps}`);
    if (progress.length) console.log(`\n${curve}`);
    if ((cpuPercent.other ?? 0) > 15) {
      console.log(
        `\nWARNING: other processes on this machine used ${cpuPercent.other} % of a core during the run; ` +
          'the figures are not those of a quiet machine.',
      );
    }
    if (failures.length) console.log(`\nFirst failures:\n${failures.map((f) => `- ${f}`).join('\n')}`);
    const file = path.join(resultsDirectory, 'bulk.json');
    writeFileSync(
      file,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine,
          environment: environment.description,
          customers: customerCount,
          started,
          complete,
          timeLimitSeconds,
          concurrency,
          onboarded,
          errors,
          failures,
          totalSeconds: Math.round(totalSeconds * 10) / 10,
          rate: Math.round(rate * 10) / 10,
          rawInsertRate: Math.round(raw.rate),
          requestRate: Math.round(requestRate * 10) / 10,
          partnerRows: partnerPartitions && [...partnerPartitions.values()].reduce((sum, rows) => sum + rows, 0),
          partnerPartitions: partnerPartitions?.size,
          largestPartnerPartitionRows: largestPartnerPartition,
          rawInsertRateAtPartnerPartitionSize: rawAtSize ? Math.round(rawAtSize.rate) : undefined,
          ratioToRawInsert: Math.round(ratio * 1000) / 1000,
          requestRatioToRawInsert: Math.round(requestRatio * 1000) / 1000,
          activeReadBack: activeCount,
          hostPeakRssMiB: hostPeak === undefined ? undefined : Math.round(hostPeak / 2 ** 20),
          hostRssHighWaterMarkMiB: environment.hostPid
            ? Math.round((peakResidentBytes(environment.hostPid) ?? 0) / 2 ** 20)
            : undefined,
          cpuPercent,
          steps: Object.fromEntries(
            stepRows.map(([step, count, p50, p99]) => [
              step,
              { count: Number(count), p50: Number(p50), p99: Number(p99) },
            ]),
          ),
          progress,
          mintSeconds: Math.round(mintSeconds * 10) / 10,
        },
        null,
        2,
      ),
    );
    console.log(`Written to ${file}.`);
    if (errors > 0 || activeCount !== onboarded) process.exitCode = 1;
  } finally {
    rss.stop();
    client.close();
    await environment.stop();
  }
}

/** Rows per partition of one tenant (its partitions are `{tenantId}|{digit}`). */
async function partitionSizes(table: TableClient, tenantId: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const found = table.listEntities({
    queryOptions: {
      filter: tenantPartitionRange(tenantId),
      select: ['PartitionKey'],
    },
  });
  for await (const row of found) {
    const partition = String(row.partitionKey);
    sizes.set(partition, (sizes.get(partition) ?? 0) + 1);
  }
  return sizes;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
