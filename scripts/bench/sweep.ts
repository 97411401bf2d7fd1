/**
 * `npm run bench:sweep`: the end-date job's cost must follow the due items, not the stored ones
 * (SPEC §4). Two scenarios on one in-memory Azurite, each in its own tables and process:
 * 1,000 relationships all due, and 100,000 relationships of which the same 1,000 are due.
 * Prints a Markdown table and writes bench-results/sweep.json.
 */
import { TransactionAction } from '@azure/data-tables';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import path from 'node:path';
import { startAzurite } from '../azurite';

interface ScenarioResult {
  stored: number;
  due: number;
  seedSeconds: number;
  sweepMilliseconds: number;
  indexEntriesRead: number;
  relationshipsRead: number;
  extended: number;
}

const now = DateTime.fromISO('2027-01-01T00:00:00Z', { zone: 'utc' });
const relationshipsPerPartner = 1000;

/** Seeding hammers Azurite; a dropped connection is retried (the writes are upserts, so repeats are harmless). */
async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || (code !== 'EPIPE' && code !== 'ECONNRESET')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function inBatches<T>(
  items: T[],
  size: number,
  parallel: number,
  work: (batch: T[]) => Promise<unknown>,
): Promise<void> {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        await withRetry(() => work(batch));
      }
    }),
  );
}

/** Runs in the child process: seed, then sweep once, then print the result as JSON. */
async function runScenario(stored: number, due: number): Promise<void> {
  // Imported here: configuration is read on first use, after the parent set the environment.
  const { processEndDates } = await import('../../shared/app/maintenance');
  const { runDueJob } = await import('../../shared/app/jobs');
  const { relationshipToRow } = await import('../../shared/store/relationships');
  const { writeDueEntries } = await import('../../shared/store/dueIndex');
  const { ensureTables, tableClient, tableNames } = await import('../../shared/store/tables');
  const { toGraphDateTime } = await import('../../shared/domain/time');
  await ensureTables();

  const seedStart = performance.now();
  const rows: { partitionKey: string; rowKey: string }[][] = [];
  const dueEntries: { job: 'processEndDates'; dueAt: string; subjectId: string }[] = [];
  let dueCount = 0;
  for (let partner = 0; partner * relationshipsPerPartner < stored; partner++) {
    const partnerTenantId = randomUUID();
    const partition: { partitionKey: string; rowKey: string }[] = [];
    for (let i = 0; i < relationshipsPerPartner && partner * relationshipsPerPartner + i < stored; i++) {
      const index = partner * relationshipsPerPartner + i;
      const isDue = index % Math.floor(stored / due) === 0 && dueCount < due;
      if (isDue) dueCount++;
      const end = isDue ? now.minus({ hours: 1 + (index % 24) }) : now.plus({ days: 1 + (index % 700) });
      const id = `${randomUUID()}-${partnerTenantId}`;
      const relationship = {
        id,
        partnerTenantId,
        displayName: `Bench ${index}`,
        duration: 'P730D',
        autoExtendDuration: 'P180D' as const,
        customer: { tenantId: randomUUID(), displayName: '' },
        roleIds: ['29232cdf-9323-42fd-ade2-1d097af3e4de'],
        status: 'active' as const,
        createdDateTime: toGraphDateTime(now.minus({ days: 730 })),
        lastModifiedDateTime: toGraphDateTime(now.minus({ days: 730 })),
        activatedDateTime: toGraphDateTime(now.minus({ days: 730 })),
        endDateTime: toGraphDateTime(end),
        lockedDateTime: toGraphDateTime(now.minus({ days: 730 })),
      };
      partition.push(relationshipToRow(relationship));
      dueEntries.push({ job: 'processEndDates', dueAt: relationship.endDateTime, subjectId: id });
    }
    rows.push(partition);
  }
  const client = tableClient(tableNames.tenants);
  // A partner's relationships spread over its partitions; a transaction holds one partition's.
  const byPartition = new Map<string, { partitionKey: string; rowKey: string }[]>();
  for (const row of rows.flat()) {
    const partition = byPartition.get(row.partitionKey);
    if (partition) partition.push(row);
    else byPartition.set(row.partitionKey, [row]);
  }
  await inBatches([...byPartition.values()], 1, 8, async ([partition]) => {
    for (let start = 0; start < partition.length; start += 100) {
      const batch = partition.slice(start, start + 100);
      await client.submitTransaction(batch.map((row): TransactionAction => ['upsert', row, 'Replace']));
    }
  });
  // In due order, so each batch falls in few day partitions of the index.
  dueEntries.sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  await inBatches(dueEntries, 100, 8, (batch) => writeDueEntries(batch));
  const seedSeconds = (performance.now() - seedStart) / 1000;

  const sweepStart = performance.now();
  const report = await runDueJob(processEndDates, now);
  const sweepMilliseconds = performance.now() - sweepStart;
  const result: ScenarioResult = {
    stored,
    due: Number(report.due),
    seedSeconds: Math.round(seedSeconds * 10) / 10,
    sweepMilliseconds: Math.round(sweepMilliseconds),
    indexEntriesRead: Number(report.indexEntriesRead),
    relationshipsRead: Number(report.relationshipsRead),
    extended: ((report.extended as string[] | undefined) ?? []).length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(connectionString: string, stored: number, due: number): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--scenario', String(stored), String(due)], {
      env: { ...process.env, AzureWebJobsStorage: connectionString, TABLE_PREFIX: `sweep${stored}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`scenario ${stored} exited with ${code}: ${output}`));
      resolve(JSON.parse(line) as ScenarioResult);
    });
  });
}

async function main(): Promise<void> {
  const due = 1000;
  const azurite = await startAzurite({ inMemory: true });
  try {
    console.log('Seeding and sweeping (100,000 rows take a minute or two to seed)...');
    const small = await runChild(azurite.connectionString, due, due);
    const large = await runChild(azurite.connectionString, 100_000, due);
    const lines = [
      '| stored | due | extended | index entries read | relationships read | entries read / due | sweep (ms) |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...[small, large].map(
        (r) =>
          `| ${r.stored} | ${r.due} | ${r.extended} | ${r.indexEntriesRead} | ${r.relationshipsRead} | ${(r.indexEntriesRead / r.due).toFixed(2)} | ${r.sweepMilliseconds} |`,
      ),
    ];
    const timeRatio = large.sweepMilliseconds / small.sweepMilliseconds;
    const readRatio = large.indexEntriesRead / large.due;
    console.log(lines.join('\n'));
    console.log(
      `\nTime ratio (100k stored / 1k stored): ${timeRatio.toFixed(2)} (target ≤ 1.5); index entries read per due item: ${readRatio.toFixed(2)} (target ≤ 1.2).`,
    );
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      path.join('bench-results', 'sweep.json'),
      JSON.stringify({ date: new Date().toISOString(), scenarios: [small, large], timeRatio, readRatio }, null, 2),
    );
  } finally {
    await azurite.stop();
  }
}

if (process.argv[2] === '--scenario') {
  runScenario(Number(process.argv[3]), Number(process.argv[4])).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
