/**
 * `npm run bench:webhooks`: webhook delivery (SPEC §16) end to end. A partner registers a local
 * receiver for `granular-admin-relationship-approved` and `-activated`; its customers approve 500
 * relationships (16 requests in flight), each sending both events: 1,000 events through the
 * outbox, the `webhook-deliveries` queue and signed POSTs. The receiver checks every signature
 * against the downloaded certificate and records when each event id arrived; the delay is from
 * the change's time (ResourceChangeUtcDate, the service clock, which is real time here) to its
 * arrival. Reports p50/p99/max delay, lost and duplicated ids, the approval rate and latency next
 * to the same approvals for a partner without a registration (what publishing adds to a request),
 * and the host's CPU; prints a Markdown table and writes bench-results/webhooks.json.
 *
 * WEBHOOK_BENCH_APPROVALS (default 500) and WEBHOOK_BENCH_CONCURRENCY (default 16) change the size.
 */
import { randomUUID, verify, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CpuWindow,
  createBody,
  fixed,
  forEachConcurrently,
  JsonClient,
  machineDescription,
  markdownTable,
  percent,
  percentile,
  relationshipsUrl,
  resultsDirectory,
  startEnvironment,
} from './common';

const approvals = Number(process.env.WEBHOOK_BENCH_APPROVALS ?? 500);
const concurrency = Number(process.env.WEBHOOK_BENCH_CONCURRENCY ?? 16);
const eventsPerApproval = 2;
/** How long to wait for the last event, and then for anything duplicated or late. */
const deliveryTimeoutMs = 300_000;
const quietMs = 3000;

interface Arrival {
  eventId: string;
  relationshipId: string;
  receivedAt: number;
  delayMs: number;
  verified: boolean;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A receiver as a partner writes one: verify, record, answer 200. */
async function startReceiver(): Promise<{ url: string; arrivals: Arrival[]; close(): Promise<void> }> {
  const arrivals: Arrival[] = [];
  const certificates = new Map<string, Promise<X509Certificate>>();
  const certificateAt = (url: string): Promise<X509Certificate> => {
    let loading = certificates.get(url);
    if (!loading) {
      loading = fetch(url).then(async (response) => new X509Certificate(Buffer.from(await response.arrayBuffer())));
      certificates.set(url, loading);
    }
    return loading;
  };
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const receivedAt = Date.now();
      const signature = String(request.headers.authorization ?? '').replace(/^Signature /, '');
      const certificate = await certificateAt(String(request.headers['x-ms-certificate-url']));
      const event = JSON.parse(body.toString('utf8')) as { ResourceChangeUtcDate: string; ResourceUri: string };
      arrivals.push({
        eventId: String(request.headers['x-event-id']),
        relationshipId: event.ResourceUri.split('/').pop() as string,
        receivedAt,
        delayMs: receivedAt - Date.parse(event.ResourceChangeUtcDate),
        verified: verify('sha256', body, certificate.publicKey, Buffer.from(signature, 'base64')),
      });
      response.writeHead(200);
      response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    arrivals,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const environment = await startEnvironment('webhooks');
  const client = new JsonClient(environment.baseUrl, concurrency * 2);
  const receiver = await startReceiver();
  try {
    const partnerTenantId = randomUUID();
    const partner = await client.partnerToken(partnerTenantId);
    const registered = await client.call('POST', '/webhooks/v1/registration', {
      token: partner,
      body: {
        WebhookUrl: receiver.url,
        WebhookEvents: ['granular-admin-relationship-approved', 'granular-admin-relationship-activated'],
      },
    });
    if (registered.status !== 200) throw new Error(`registration failed: ${JSON.stringify(registered.body)}`);

    /** Relationships of `token`'s tenant awaiting approval, each with its customer's token. */
    const prepare = async (token: string, count: number) => {
      const pending: { id: string; customer: string }[] = [];
      await forEachConcurrently(
        Array.from({ length: count }, (_, index) => index),
        32,
        async (index) => {
          const customerTenantId = randomUUID();
          const created = await client.call('POST', relationshipsUrl, {
            token,
            body: createBody(`Webhook bench ${index}`, customerTenantId),
          });
          const id = String(created.body.id);
          const locked = await client.call('POST', `${relationshipsUrl}/${id}/requests`, {
            token,
            body: { action: 'lockForApproval' },
          });
          if (locked.status !== 201) throw new Error(`lock failed: ${JSON.stringify(locked.body)}`);
          pending.push({ id, customer: await client.customerToken(customerTenantId) });
        },
      );
      return pending;
    };
    /** Approves them, `concurrency` at a time: latencies, when each was answered, and failures. */
    const approveAll = async (pending: { id: string; customer: string }[]) => {
      const latencies: number[] = [];
      const answeredAt = new Map<string, number>();
      let failed = 0;
      await forEachConcurrently(pending, concurrency, async ({ id, customer }) => {
        const began = performance.now();
        const approved = await client.call('POST', `${relationshipsUrl}/${id}/requests`, {
          token: customer,
          body: { action: 'approve' },
        });
        latencies.push(performance.now() - began);
        answeredAt.set(id, Date.now());
        if (approved.status !== 201) failed++;
      });
      return { latencies: latencies.sort((a, b) => a - b), answeredAt, failed };
    };

    // The same approvals by a partner without a registration: what publishing events adds to a request.
    const baselineCount = Math.max(50, Math.round(approvals / 5));
    console.log(`Baseline: ${baselineCount} approvals for a partner without a registration...`);
    const baseline = await approveAll(await prepare(await client.partnerToken(randomUUID()), baselineCount));

    console.log(`Preparing ${approvals} relationships awaiting approval (not timed)...`);
    const pending = await prepare(partner, approvals);
    console.log(
      `Approving ${approvals} relationships, ${concurrency} in flight (${approvals * eventsPerApproval} events)...`,
    );
    const cpu = new CpuWindow({ host: environment.hostPid, azurite: environment.azuritePid });
    const start = performance.now();
    const { latencies, answeredAt, failed } = await approveAll(pending);
    const approveSeconds = (performance.now() - start) / 1000;
    const expected = (approvals - failed) * eventsPerApproval;
    const unique = () => new Set(receiver.arrivals.map((arrival) => arrival.eventId)).size;
    const deadline = Date.now() + deliveryTimeoutMs;
    while (unique() < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const deliveredSeconds = (performance.now() - start) / 1000;
    const cpuPercent = cpu.finish();
    await new Promise((resolve) => setTimeout(resolve, quietMs));

    const delays = receiver.arrivals.map((arrival) => arrival.delayMs).sort((a, b) => a - b);
    const afterAnswer = receiver.arrivals
      .map((arrival) => arrival.receivedAt - (answeredAt.get(arrival.relationshipId) ?? NaN))
      .sort((a, b) => a - b);
    const lost = expected - unique();
    const duplicated = receiver.arrivals.length - unique();
    const unverified = receiver.arrivals.filter((arrival) => !arrival.verified).length;
    const p50 = percentile(delays, 50);
    const rows = [
      ['events delivered (approved + activated per approval)', `${unique()} of ${expected}`],
      ['lost', String(lost)],
      ['duplicated event ids', String(duplicated)],
      ['signatures that failed verification', String(unverified)],
      ['delay change → delivery, p50 (target ≤ 1 s)', `${fixed(p50 / 1000, 2)} s ${p50 <= 1000 ? 'pass' : '**FAIL**'}`],
      ['delay change → delivery, p99', `${fixed(percentile(delays, 99) / 1000, 2)} s`],
      ['delay change → delivery, max', `${fixed((delays[delays.length - 1] ?? NaN) / 1000, 2)} s`],
      [
        'delay answer → delivery, p50 / p99',
        `${fixed(percentile(afterAnswer, 50) / 1000, 2)} / ${fixed(percentile(afterAnswer, 99) / 1000, 2)} s`,
      ],
      ['approvals / s (the API, while delivering)', fixed(approvals / approveSeconds, 1)],
      [
        'approval latency p50 / p99',
        `${fixed(percentile(latencies, 50), 1)} / ${fixed(percentile(latencies, 99), 1)} ms`,
      ],
      [
        'approval latency p50 / p99 without a registration (baseline, same run)',
        `${fixed(percentile(baseline.latencies, 50), 1)} / ${fixed(percentile(baseline.latencies, 99), 1)} ms`,
      ],
      ['events delivered / s (first approval → last event)', fixed(unique() / deliveredSeconds, 1)],
      [
        'host CPU (% of one core) / Azurite / other',
        `${percent(cpuPercent.host)} / ${percent(cpuPercent.azurite)} / ${percent(cpuPercent.other)}`,
      ],
    ];
    const table = markdownTable(['measure', 'value'], ['l', 'r'], rows);
    console.log(`\n${table}\n\n${machineDescription()}; ${environment.description}.`);
    writeFileSync(
      path.join(resultsDirectory, 'webhooks.json'),
      JSON.stringify(
        {
          approvals,
          concurrency,
          expected,
          delivered: unique(),
          lost,
          duplicated,
          unverified,
          delayMs: { p50, p99: percentile(delays, 99), max: delays[delays.length - 1] },
          approvalsPerSecond: approvals / approveSeconds,
          approvalLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
          baselineApprovalLatencyMs: {
            p50: percentile(baseline.latencies, 50),
            p99: percentile(baseline.latencies, 99),
          },
          afterAnswerMs: { p50: percentile(afterAnswer, 50), p99: percentile(afterAnswer, 99) },
          eventsPerSecond: unique() / deliveredSeconds,
          cpuPercent,
          machine: machineDescription(),
          environment: environment.description,
        },
        null,
        2,
      ),
    );
    if (lost > 0 || duplicated > 0 || unverified > 0) process.exitCode = 1;
  } finally {
    client.close();
    await receiver.close();
    await environment.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
