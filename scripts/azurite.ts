import { ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import path from 'node:path';

/** Azurite's well-known development account (public, documented by Microsoft). */
const devAccountName = 'devstoreaccount1';
const devAccountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's default ports, which `UseDevelopmentStorage=true` names. */
export const defaultAzuritePorts = { table: 10002, queue: 10001 };

export function azuriteConnectionString(ports: { table: number; queue: number }): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${devAccountName};AccountKey=${devAccountKey};` +
    `TableEndpoint=http://127.0.0.1:${ports.table}/${devAccountName};` +
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/${devAccountName};`
  );
}

export interface RunningAzurite {
  connectionString: string;
  /** The Table service's port. */
  port: number;
  queuePort: number;
  /** Process ids of the services this call started (tests pause them to play an unresponsive account). */
  pids: Partial<Record<'table' | 'queue', number>>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

async function waitUntilListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode} before listening`);
    if (await isListening(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Azurite did not listen on port ${port} within ${timeoutMs} ms`);
}

type AzuriteService = 'table' | 'queue';

/** Azurite's services run as child processes, telemetry off, in memory (tests) or under `location`. */
async function startService(
  service: AzuriteService,
  port: number,
  options: { inMemory: boolean; location?: string; nodeOptions?: string[] },
): Promise<{ pid?: number; stop: () => Promise<void> }> {
  const main = require.resolve(`azurite/dist/src/${service}/main.js`);
  const storage = options.inMemory
    ? ['--inMemoryPersistence']
    : ['--location', path.resolve(options.location ?? '.azurite')];
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeOptions ?? []),
      main,
      `--${service}Host`,
      '127.0.0.1',
      `--${service}Port`,
      String(port),
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--silent',
      ...storage,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitUntilListening(port, child, 30_000);
  // Azurite closes gracefully only on SIGINT (flushing its store, writing a --cpu-prof profile).
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGINT');
    });
  return { pid: child.pid, stop };
}

/**
 * Starts the two Azurite services the app uses, Tables and Queues, each its own process (started
 * together). A port that is given and already listening is taken to be that Azurite service,
 * running already, and is used as it is.
 */
export async function startAzurite(options: {
  inMemory: boolean;
  location?: string;
  /** The Table service's port (default: a free one). */
  port?: number;
  queuePort?: number;
  /** Extra Node flags (benchmarks: --cpu-prof). */
  nodeOptions?: string[];
}): Promise<RunningAzurite> {
  const ports = { table: options.port ?? (await freePort()), queue: options.queuePort ?? (await freePort()) };
  const started = await Promise.allSettled(
    (Object.entries(ports) as [AzuriteService, number][]).map(async ([service, port]) => {
      const given = service === 'table' ? options.port : options.queuePort;
      if (given !== undefined && (await isListening(port))) return { service, stop: async () => undefined };
      return { service, ...(await startService(service, port, options)) };
    }),
  );
  const running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stops = running.map((each) => each.stop);
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(stops.map((stop) => stop()));
    throw failure.reason;
  }
  return {
    connectionString: azuriteConnectionString(ports),
    port: ports.table,
    queuePort: ports.queue,
    pids: Object.fromEntries(running.map((each) => [each.service, 'pid' in each ? each.pid : undefined])),
    stop: async () => {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
