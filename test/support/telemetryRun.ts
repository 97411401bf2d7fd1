import { randomUUID } from 'node:crypto';
import { terminate, worker } from './functionsCore';
import { loadApp } from './functionsWorker';

/**
 * A child process for test/integration/telemetry.test.ts: the app loaded as the worker loads it,
 * two requests, then the app stops. Prints what the worker saw as one JSON line.
 */
async function main(): Promise<void> {
  loadApp();
  // After the app: the function files must be the first to load @azure/functions.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { callHttp } = require('./runtimeCalls') as typeof import('./runtimeCalls');
  const capabilities = await (
    worker.programmingModel as unknown as { getCapabilities(defaults: object): Promise<Record<string, string>> }
  ).getCapabilities({});
  const minted = await callHttp('POST', '/sandbox/tokens', { body: { tid: randomUUID(), roles: ['AdminAgent'] } });
  const token = (minted.body as { access_token: string }).access_token;
  const listed = await callHttp('GET', '/v1.0/tenantRelationships/delegatedAdminRelationships', { token });
  await terminate();
  process.stdout.write(
    `${JSON.stringify({ capabilities, statuses: [minted.status, listed.status], requestId: listed.headers['request-id'] })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
