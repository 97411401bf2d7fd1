import { RunningAzurite, startAzurite } from '../../scripts/azurite';
import { tableClient, tableNames } from '../../shared/store/tables';
import { Client, expectGraphError, expectOk, relationshipsUrl, startTestHost, TestHost } from './support';

/**
 * Storage that stops answering (issue 15): requests answer 503 with Retry-After within the
 * storage budget instead of hanging, and the host recovers by itself. This file runs on an
 * Azurite of its own, which it pauses with SIGSTOP, so other test files are not held up.
 */
const budgetSeconds = 2;

describe('storage unavailable', () => {
  let azurite: RunningAzurite;
  let host: TestHost;
  let client: Client;
  let partner: string;

  beforeAll(async () => {
    azurite = await startAzurite({ inMemory: true });
    // Configuration is read on first use, so these hold for every module of this file.
    process.env.AzureWebJobsStorage = azurite.connectionString;
    process.env.STORAGE_TIMEOUT_SECONDS = String(budgetSeconds);
    host = await startTestHost();
    client = new Client(host.url);
    ({ partner } = await client.tenants());
  });

  afterAll(async () => {
    if (azurite.pids.table) process.kill(azurite.pids.table, 'SIGCONT');
    await host.close();
    await azurite.stop();
  });

  it('answers 503 + Retry-After within the budget while storage is paused, then recovers', async () => {
    const created = expectOk(await client.createRelationship(partner), 201);
    const pid = azurite.pids.table as number;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const read = await client.call('GET', `${relationshipsUrl}/${created.body.id}`, { token: partner });
      const tookMs = Date.now() - started;
      expectGraphError(read, 503, 'serviceUnavailable');
      expect(Number(read.headers.get('retry-after'))).toBeGreaterThan(0);
      // The budget and a little time to answer; without it the request would hang for minutes.
      expect(tookMs).toBeLessThan(budgetSeconds * 1000 + 1500);
      expectGraphError(await client.createRelationship(partner), 503, 'serviceUnavailable');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expectOk(await client.call('GET', `${relationshipsUrl}/${created.body.id}`, { token: partner }), 200);
    expectOk(await client.createRelationship(partner), 201);
  });

  it('creates a table again when it disappeared behind the service, answering 503 meanwhile', async () => {
    const created = expectOk(await client.createRelationship(partner), 201);
    await tableClient(tableNames.tenants).deleteTable();
    const first = await client.call('GET', `${relationshipsUrl}/${created.body.id}`, { token: partner });
    expectGraphError(first, 503, 'serviceUnavailable');
    // The next request finds the tables created again (the deleted rows are gone with their table).
    expectGraphError(
      await client.call('GET', `${relationshipsUrl}/${created.body.id}`, { token: partner }),
      404,
      'ResourceNotFound',
    );
    expectOk(await client.createRelationship(partner), 201);
  });
});
