import path from 'node:path';
import { loadFunctions, startLocalHost } from '../../scripts/localHost';

/**
 * The local host in a process of its own, for tests that kill it: started with
 * `node -r test/support/tsRequire.js test/support/childHost.ts` and the test's environment
 * (storage, TABLE_PREFIX), it serves on PORT (a free one when unset) with the queue triggers
 * running, and prints its URL.
 */
async function main(): Promise<void> {
  loadFunctions(path.join(__dirname, '..', '..', 'functions'));
  const host = await startLocalHost({
    port: Number(process.env.PORT ?? 0),
    runTimers: false,
    // A killed host's messages come back to the next one after this lease.
    runQueues: { maxPollingIntervalMs: 200, leaseMs: 2000 },
  });
  process.stdout.write(`listening ${host.url}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
