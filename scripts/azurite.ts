import { ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import path from 'node:path';

/** Azurite's well-known development account (public, documented by Microsoft). */
const devAccountName = 'devstoreaccount1';
const devAccountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(port: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${devAccountName};AccountKey=${devAccountKey};` +
    `TableEndpoint=http://127.0.0.1:${port}/${devAccountName};`
  );
}

export interface RunningAzurite {
  connectionString: string;
  port: number;
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

/**
 * Starts Azurite's Table service (the only one the service uses) as a child process, telemetry
 * off, either in memory (tests) or persisting under `location` (npm start).
 */
export async function startAzurite(options: {
  inMemory: boolean;
  location?: string;
  port?: number;
  /** Extra Node flags (benchmarks: --cpu-prof). */
  nodeOptions?: string[];
}): Promise<RunningAzurite> {
  const port = options.port ?? (await freePort());
  const tableMain = require.resolve('azurite/dist/src/table/main.js');
  const storage = options.inMemory
    ? ['--inMemoryPersistence']
    : ['--location', path.resolve(options.location ?? '.azurite')];
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeOptions ?? []),
      tableMain,
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(port),
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--silent',
      ...storage,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitUntilListening(port, child, 30_000);
  return {
    connectionString: azuriteConnectionString(port),
    port,
    // Azurite closes gracefully only on SIGINT (flushing its store, writing a --cpu-prof profile).
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGINT');
      }),
  };
}
