/**
 * `npm start`: Azurite (unless AzureWebJobsStorage names an account) plus the local host on
 * http://127.0.0.1:7071, sandbox on unless SANDBOX_MODE says otherwise.
 */
import path from 'node:path';
import { isListening, RunningAzurite, startAzurite } from './azurite';
import { loadFunctions, startLocalHost } from './localHost';

const defaultAzuritePort = 10002;

async function main(): Promise<void> {
  process.env.SANDBOX_MODE ??= 'true';
  let azurite: RunningAzurite | undefined;
  if (!process.env.AzureWebJobsStorage) {
    if (await isListening(defaultAzuritePort)) {
      console.log(`Using the Azurite already listening on port ${defaultAzuritePort}.`);
      process.env.AzureWebJobsStorage = 'UseDevelopmentStorage=true';
    } else {
      azurite = await startAzurite({ inMemory: false, location: '.azurite', port: defaultAzuritePort });
      process.env.AzureWebJobsStorage = azurite.connectionString;
      console.log(`Azurite Table service on http://127.0.0.1:${azurite.port} (data in .azurite/).`);
    }
  }
  // Configuration is read on first use, so functions load only after the environment is final.
  loadFunctions(path.join(__dirname, '..', 'functions'));
  const port = Number(process.env.PORT ?? 7071);
  const host = await startLocalHost({ port, hostname: process.env.HOST ?? '127.0.0.1', runTimers: true });
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
