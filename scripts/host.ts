/**
 * `npm start`: Azurite (unless AzureWebJobsStorage settings name an account) plus the local host on
 * http://127.0.0.1:7071, sandbox on unless SANDBOX_MODE says otherwise.
 */
import path from 'node:path';
import { defaultAzuritePorts, RunningAzurite, startAzurite } from './azurite';
import { loadFunctions, startLocalHost } from './localHost';

async function main(): Promise<void> {
  process.env.SANDBOX_MODE ??= 'true';
  let azurite: RunningAzurite | undefined;
  // A connection string or identity-based settings (AzureWebJobsStorage__…) name an account.
  const storageGiven = Object.entries(process.env).some(
    ([name, value]) => /^AzureWebJobsStorage($|__)/i.test(name) && value?.trim(),
  );
  if (!storageGiven) {
    // Azurite's default ports; a service already listening there is used as it is.
    azurite = await startAzurite({
      inMemory: false,
      location: '.azurite',
      port: defaultAzuritePorts.table,
      queuePort: defaultAzuritePorts.queue,
    });
    process.env.AzureWebJobsStorage = azurite.connectionString;
    console.log(
      `Azurite Tables on http://127.0.0.1:${azurite.port}, Queues on http://127.0.0.1:${azurite.queuePort} (data in .azurite/).`,
    );
  }
  // Configuration is read on first use, so functions load only after the environment is final.
  loadFunctions(path.join(__dirname, '..', 'functions'));
  const port = Number(process.env.PORT ?? 7071);
  const host = await startLocalHost({
    port,
    hostname: process.env.HOST ?? '127.0.0.1',
    runTimers: true,
    runQueues: true,
  });
  console.log(`GDAP service listening on ${host.url} (sandbox ${process.env.SANDBOX_MODE === 'true' ? 'on' : 'off'}).`);

  const shutdown = async (): Promise<void> => {
    await host.close();
    await azurite?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
