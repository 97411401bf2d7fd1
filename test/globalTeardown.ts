import type { RunningAzurite } from '../scripts/azurite';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __azurite__?: RunningAzurite }).__azurite__?.stop();
}
