import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { DateTime } from 'luxon';
import { loadFunctions, LocalHost, startLocalHost } from '../../scripts/localHost';
import { runDueJob } from '../../shared/app/jobs';
import { publishEvents } from '../../shared/app/maintenance';
import { Client, expectOk, relationshipsUrl } from './support';
import { Receiver, startReceiver } from './webhookReceiver';

process.env.WEBHOOK_RETRY_SECONDS = '0.05';
process.env.WEBHOOK_RETRY_MAX_SECONDS = '0.2';
process.env.WEBHOOK_TIMEOUT_SECONDS = '1';

/**
 * At least once, never lost (SPEC §16): a host process is killed (SIGKILL) in the middle of a
 * burst of approvals; a new host on the same storage then delivers the event of every approval
 * that was stored, acknowledged or not: those published before the kill from the queue (messages
 * the dead host held come back after their lease), those whose publication the kill cut off from
 * the recovery job (its entries come due on real time; here it is run as if three minutes had passed).
 */
describe('webhooks when the host is killed', () => {
  let child: ChildProcess | undefined;
  let restarted: LocalHost | undefined;
  let receiver: Receiver;
  // The host comes back on the same port, as a restarted instance does: the URLs in events the
  // killed one published (certificate, audit records) still answer.
  let port: number;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await receiver?.close();
    await restarted?.close();
  });

  /** The host in a child process (TypeScript run as it is), with this test's storage and tables. */
  async function startChildHost(): Promise<{ process: ChildProcess; url: string }> {
    const root = path.join(__dirname, '..', '..');
    const support = path.join(root, 'test', 'support');
    const started = spawn(
      process.execPath,
      ['-r', path.join(support, 'tsRequire.js'), path.join(support, 'childHost.ts')],
      { cwd: root, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      started.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening (\S+)/.exec(output);
        if (match) resolve(match[1]);
      });
      started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      started.once('exit', (code) => reject(new Error(`the child host exited (${code}): ${output}`)));
    });
    return { process: started, url };
  }

  it('delivers the event of every stored approval after a restart', async () => {
    receiver = await startReceiver();
    const host = await startChildHost();
    child = host.process;
    const client = new Client(host.url);
    const { partner, customer, customerTenantId } = await client.tenants();
    expectOk(
      await client.call('POST', '/webhooks/v1/registration', {
        token: partner,
        body: { WebhookUrl: receiver.url, WebhookEvents: ['granular-admin-relationship-approved'] },
      }),
      200,
    );
    const ids = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const created = expectOk(
          await client.createRelationship(partner, { customer: { tenantId: customerTenantId } }),
          201,
        );
        expectOk(await client.request(partner, String(created.body.id), 'lockForApproval'), 201);
        return String(created.body.id);
      }),
    );

    // The burst: eight approvals at a time; the host is killed once a dozen are answered.
    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const approveNext = async (): Promise<void> => {
      while (next < ids.length && !killed) {
        const id = ids[next++];
        try {
          const answer = await client.request(customer, id, 'approve');
          if (answer.status === 201 && !killed) acknowledged.push(id);
        } catch {
          // The connection died with the host: not acknowledged.
        }
        if (acknowledged.length >= 12 && !killed) {
          killed = true;
          child?.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, approveNext));
    if (child?.exitCode === null && child.signalCode === null)
      await new Promise((resolve) => child?.once('exit', resolve));
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(12);

    // The restart: another host on the same storage, and the recovery job once its entries are due.
    loadFunctions(path.join(__dirname, '..', '..', 'functions'));
    restarted = await startLocalHost({
      port,
      runTimers: false,
      runQueues: { maxPollingIntervalMs: 200, leaseMs: 2000 },
    });
    const after = new Client(restarted.url);
    await runDueJob(publishEvents, DateTime.utc().plus({ minutes: 3 }));

    const stored: string[] = [];
    const adminAgent = await tokenOf(after, partner);
    for (const id of ids) {
      const read = await after.call('GET', `${relationshipsUrl}/${id}`, { token: adminAgent });
      if (read.body.status === 'active') stored.push(id);
    }
    // Every acknowledged approval was stored; some answered by nobody may have been too.
    expect(stored).toEqual(expect.arrayContaining(acknowledged));
    const approvedIds = () =>
      new Set(receiver.events().map((event) => event.event.ResourceUri.split('/').pop() as string));
    await receiver.waitFor(() => stored.every((id) => approvedIds().has(id)), 30_000);
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
    // Nothing for an approval that was not stored.
    expect([...approvedIds()].every((id) => stored.includes(id))).toBe(true);
  }, 90_000);
});

/** A token for the same caller, minted by the restarted host. */
async function tokenOf(client: Client, token: string): Promise<string> {
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
    tid: string;
    roles?: string[];
  };
  return client.token({ tid: claims.tid, roles: claims.roles });
}
