import { startAzurite } from '../scripts/azurite';

/** Starts an in-memory Azurite for every test file; workers inherit its connection string. */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.SANDBOX_MODE = 'true';
  (globalThis as { __azurite__?: typeof azurite }).__azurite__ = azurite;
}
