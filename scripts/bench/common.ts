/**
 * Shared parts of `npm run bench` and `npm run bench:bulk`: the environment under test (Azurite
 * and the local host, each its own process), host memory and CPU sampling from /proc, a small
 * keep-alive HTTP client for preparation steps, raw Table Storage load loops and formatting.
 */
import { TableClient } from '@azure/data-tables';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, isListening, startAzurite } from '../azurite';
import { instanceHeapFlags } from '../instanceMemory';

export const relationshipsUrl = '/v1.0/tenantRelationships/delegatedAdminRelationships';
export const globalAdministrator = '62e90394-69f5-4237-9190-012177145e10';
export const exchangeAdministrator = '29232cdf-9323-42fd-ade2-1d097af3e4de';
export const resultsDirectory = 'bench-results';

// ---------------------------------------------------------------------------------------------
// /proc sampling (Linux): resident memory and CPU time of the host and Azurite processes.

const clockTicks = 100; // USER_HZ: 100 on every Linux architecture Node supports

/** Resident set size of a process in bytes, or undefined when it cannot be read (not Linux, gone). */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's high-water mark of a process's resident memory since it started (VmHWM). */
export function peakResidentBytes(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User plus system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** The process holding a listening TCP socket on 127.0.0.1/0.0.0.0:`port`, found through /proc. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, inode is the tenth field.
      if (fields.length > 9 && fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port) {
        inodes.add(fields[9]);
      }
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let descriptors: string[];
    try {
      descriptors = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of descriptors) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(entry);
      } catch {
        // the descriptor closed meanwhile
      }
    }
  }
  return undefined;
}

/** Polls a process's resident memory; `peak` is the highest sample since the last `reset`. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peak = 0;

  constructor(
    readonly pid: number | undefined,
    private readonly intervalMs = 50,
  ) {}

  start(): this {
    if (this.pid === undefined) return this;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  private sample(): void {
    const rss = this.pid === undefined ? undefined : residentBytes(this.pid);
    if (rss !== undefined && rss > this.peak) this.peak = rss;
  }

  /** Starts a new measurement window from the current size. */
  reset(): void {
    this.peak = 0;
    this.sample();
  }

  /** Peak in the current window (one last sample included), undefined when the process is unknown. */
  windowPeak(): number | undefined {
    if (this.pid === undefined) return undefined;
    this.sample();
    return this.peak;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat. */
export function machineBusySeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = fields.slice(0, 8).reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
    return busy / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * CPU use over a window, in percent of one core (200 % is both cores of a two-core machine): of
 * each named process, of this process (`bench`), and of everything else on the machine (`other`,
 * which should be near 0: anything more means the figures were taken on a busy machine).
 */
export class CpuWindow {
  private readonly start: Map<string, number | undefined>;
  private readonly began = performance.now();
  private readonly selfStart = process.cpuUsage();
  private readonly machineStart = machineBusySeconds();

  constructor(private readonly pids: Record<string, number | undefined>) {
    this.start = new Map(Object.entries(pids).map(([name, pid]) => [name, pid && cpuSeconds(pid)]));
  }

  /** CPU seconds each process used over the window, set by `finish`. */
  seconds: Record<string, number | undefined> = {};

  finish(): Record<string, number | undefined> {
    const elapsed = (performance.now() - this.began) / 1000;
    const used: Record<string, number | undefined> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.start.get(name);
      const after = pid && cpuSeconds(pid);
      used[name] = before !== undefined && after !== undefined ? after - before : undefined;
    }
    const self = process.cpuUsage(this.selfStart);
    used.bench = (self.user + self.system) / 1e6;
    const machineEnd = machineBusySeconds();
    if (this.machineStart !== undefined && machineEnd !== undefined) {
      const ours = Object.values(used).reduce<number>((sum, value) => sum + (value ?? 0), 0);
      used.other = Math.max(0, machineEnd - this.machineStart - ours);
    }
    this.seconds = used;
    return Object.fromEntries(
      Object.entries(used).map(([name, seconds]) => [
        name,
        seconds === undefined ? undefined : Math.round((seconds / elapsed) * 100),
      ]),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The environment under test.

export interface BenchEnvironment {
  baseUrl: string;
  hostPort: number;
  /** Connection string of the account the host uses, for the raw Table Storage measurements. */
  connectionString: string;
  hostPid: number | undefined;
  azuritePid: number | undefined;
  /** Prefix of the host's table names, when the benchmark started the host. */
  tablePrefix?: string;
  /** Where the environment came from, for the report. */
  description: string;
  stop(): Promise<void>;
}

/** A schedule that never comes due during a benchmark (1 January at midnight). */
const yearly = '0 0 0 1 1 *';
const jobIds = [
  'expirePendingRequests',
  'processEndDates',
  'sendExpiryWarnings',
  'purgeEnded',
  'expireSupportAccessRequests',
];

/** The local port of an account's Table endpoint (10002 for UseDevelopmentStorage=true). */
function tablePortOf(connectionString: string): number | undefined {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return 10002;
  const match = /TableEndpoint=https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)/i.exec(connectionString);
  return match ? Number(match[1]) : undefined;
}

async function waitFor(check: () => Promise<boolean>, what: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start within 60 s`);
}

/** Node flags from an environment variable (BENCH_HOST_NODE_OPTIONS, BENCH_AZURITE_NODE_OPTIONS). */
export const nodeOptions = (variable: string): string[] => (process.env[variable] ?? '').split(/\s+/).filter(Boolean);

/**
 * Uses a running host and account when BENCH_URL (and BENCH_STORAGE, or AzureWebJobsStorage, for
 * its account) are set; otherwise starts an in-memory Azurite and `node dist/scripts/host.js` as
 * child processes, the host with its timers pushed out of the run and its output in
 * bench-results/host.log, with an instance's heap (instanceMemory.ts). BENCH_HOST_NODE_OPTIONS adds
 * Node flags to the host (e.g. --cpu-prof); `hostArgs` are the host's own (`--no-queues`).
 */
export async function startEnvironment(name: string, options: { hostArgs?: string[] } = {}): Promise<BenchEnvironment> {
  mkdirSync(resultsDirectory, { recursive: true });
  const runningUrl = process.env.BENCH_URL?.replace(/\/+$/, '');
  const givenStorage = process.env.BENCH_STORAGE ?? process.env.AzureWebJobsStorage;
  if (runningUrl) {
    const hostPort = Number(new URL(runningUrl).port || 80);
    const connectionString = givenStorage ?? 'UseDevelopmentStorage=true';
    const tablePort = tablePortOf(connectionString);
    return {
      baseUrl: runningUrl,
      hostPort,
      connectionString,
      hostPid: pidListeningOn(hostPort),
      azuritePid: tablePort ? pidListeningOn(tablePort) : undefined,
      description: `running host ${runningUrl}, its account given by BENCH_STORAGE/AzureWebJobsStorage`,
      stop: async () => undefined,
    };
  }

  const azurite = givenStorage
    ? undefined
    : await startAzurite({ inMemory: true, nodeOptions: nodeOptions('BENCH_AZURITE_NODE_OPTIONS') });
  const connectionString = givenStorage ?? azurite?.connectionString ?? '';
  const hostPort = await freePort();
  const log = createWriteStream(path.join(resultsDirectory, `${name}-host.log`));
  const tablePrefix = `bench${Date.now().toString(36)}`;
  const host = spawn(
    process.execPath,
    // The heap of a deployed instance, as `npm start` gives it; BENCH_HOST_NODE_OPTIONS come after, so they win.
    [
      ...instanceHeapFlags,
      ...nodeOptions('BENCH_HOST_NODE_OPTIONS'),
      path.join(__dirname, '..', 'host.js'),
      ...(options.hostArgs ?? []),
    ],
    {
      env: {
        ...process.env,
        AzureWebJobsStorage: connectionString,
        SANDBOX_MODE: 'true',
        PORT: String(hostPort),
        HOST: '127.0.0.1',
        // Fresh tables per run, so runs against a shared account do not see each other's rows.
        TABLE_PREFIX: tablePrefix,
        ...Object.fromEntries(jobIds.map((job) => [`JOB_SCHEDULE_${job}`, yearly])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  host.stdout?.pipe(log);
  host.stderr?.pipe(log);
  await waitFor(() => isListening(hostPort), 'the host', host);
  const azuritePort = azurite?.port ?? tablePortOf(connectionString);
  const stop = async (): Promise<void> => {
    if (host.exitCode === null && host.signalCode === null) {
      await new Promise<void>((resolve) => {
        host.once('exit', () => resolve());
        host.kill('SIGTERM');
      });
    }
    log.end();
    await azurite?.stop();
  };
  // An interrupted benchmark takes its host and Azurite down with it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop().finally(() => process.exit(130)));
  }
  return {
    baseUrl: `http://127.0.0.1:${hostPort}`,
    hostPort,
    tablePrefix,
    connectionString,
    hostPid: host.pid,
    azuritePid: azuritePort ? pidListeningOn(azuritePort) : undefined,
    description: azurite
      ? 'in-memory Azurite and `node dist/scripts/host.js`, each its own process, started by the benchmark'
      : 'the account in BENCH_STORAGE/AzureWebJobsStorage and a host started by the benchmark',
    stop,
  };
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return (
    `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`
  );
}

// ---------------------------------------------------------------------------------------------
// A minimal keep-alive JSON client for preparation steps (the measured HTTP load is autocannon's).

export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
}

export class JsonClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(baseUrl: string, maxSockets = 64) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  call(
    method: string,
    pathAndQuery: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<JsonResponse> {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          agent: this.agent,
          hostname: this.url.hostname,
          port: this.url.port,
          method,
          path: pathAndQuery,
          headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
            } catch {
              resolve({ status: response.statusCode ?? 0, body: { text } });
            }
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  async token(claims: {
    tid: string;
    oid?: string;
    roles?: string[];
    wids?: string[];
    email?: string;
  }): Promise<string> {
    const result = await this.call('POST', '/sandbox/tokens', { body: claims });
    if (result.status !== 200) throw new Error(`token minting failed: ${result.status} ${JSON.stringify(result.body)}`);
    return String(result.body.access_token);
  }

  partnerToken(tenantId: string): Promise<string> {
    return this.token({ tid: tenantId, roles: ['AdminAgent'] });
  }

  customerToken(tenantId: string): Promise<string> {
    return this.token({ tid: tenantId, wids: [globalAdministrator] });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The body of a relationship create: a unique name, two years, Exchange Administrator. */
export function createBody(displayName: string, customerTenantId: string): Record<string, unknown> {
  return {
    displayName,
    duration: 'P730D',
    customer: { tenantId: customerTenantId },
    accessDetails: { unifiedRoles: [{ roleDefinitionId: exchangeAdministrator }] },
  };
}

/** Runs `work` over `items` with `concurrency` workers taking the next item as they finish one. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Raw Table Storage: the floor the service cannot beat.

export function rawTable(connectionString: string, tableName: string): TableClient {
  return TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
}

/** A row shaped like a stored relationship (same property count and sizes). */
export function relationshipLikeRow(
  partitionKey: string,
  rowKey: string,
): Record<string, unknown> & {
  partitionKey: string;
  rowKey: string;
} {
  const now = new Date().toISOString().replace('Z', '0000Z');
  const id = `${randomUUID()}-${partitionKey}`;
  return {
    partitionKey,
    rowKey,
    id,
    displayName: `Raw ${rowKey}`,
    nameKey: `name|raw%20${rowKey}`,
    duration: 'P730D',
    autoExtendDuration: 'PT0S',
    customerTenantId: randomUUID(),
    customerDisplayName: '',
    roleIds: JSON.stringify([exchangeAdministrator]),
    status: 'created',
    createdDateTime: now,
    lastModifiedDateTime: now,
  };
}

export interface CellResult {
  requests: number;
  seconds: number;
  /** Completed requests (or storage operations) per second. */
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * `concurrency` async workers call `operation` back to back for `durationMs`; latencies in ms.
 * Errors are counted, not thrown (they must be zero, and the table says so).
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  operation: (sequence: number) => Promise<unknown>,
): Promise<CellResult> {
  const latencies: number[] = [];
  let errors = 0;
  let sequence = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const began = performance.now();
        try {
          await operation(sequence++);
        } catch {
          errors++;
        }
        latencies.push(performance.now() - began);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    rate: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting.

export const mib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / 2 ** 20).toFixed(0));
export const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
export const percent = (value: number | undefined): string => (value === undefined ? 'n/a' : String(value));

export function markdownTable(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}
