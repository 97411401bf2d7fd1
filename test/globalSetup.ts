import { startAzurite } from '../scripts/azurite';
import { buildPortal } from '../scripts/buildPortal';

/**
 * Starts an in-memory Azurite for every test file (workers inherit its connection string) and
 * builds the portal from its sources, so the browser tests always drive the current pages.
 */
export default async function globalSetup(): Promise<void> {
  const [azurite] = await Promise.all([startAzurite({ inMemory: true }), buildPortal()]);
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.SANDBOX_MODE = 'true';
  (globalThis as { __azurite__?: typeof azurite }).__azurite__ = azurite;
}
