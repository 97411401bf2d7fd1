import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { freePort } from '../../scripts/azurite';
import { Fleet, Json, waitFor } from './fleet';
import { Client } from './support';

/**
 * Crash safety of a job (SPEC §15.4): the host is a child process (`node host.js` from a build of
 * this tree) on the test Azurite; it is killed with SIGKILL in the middle of a 200-customer job,
 * another host is started on the same storage, and the job completes with exactly one relationship
 * per customer, each with the template's assignments, and nothing done twice.
 */
const root = path.join(__dirname, '..', '..');
const outDir = path.join(root, '.test-dist');

jest.setTimeout(240_000);

describe('a job across a host crash', () => {
  let port: number;
  let running: ChildProcess | undefined;

  beforeAll(async () => {
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    port = await freePort();
  });
  afterAll(() => {
    running?.kill('SIGKILL');
  });

  /** A host process on the test's storage account and tables, answering on `port`. */
  async function startHost(): Promise<ChildProcess> {
    const child = spawn(process.execPath, [path.join(outDir, 'scripts', 'host.js')], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        SANDBOX_MODE: 'true',
        // A message the dead host held comes back after this lease (the runtime's is 10 minutes).
        LOCAL_QUEUE_LEASE_SECONDS: '2',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    running = child;
    await waitFor(async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/sandbox/clock`)).ok || undefined;
      } catch {
        return undefined;
      }
    }, 30_000);
    return child;
  }

  it('completes with one relationship per customer and the template’s assignments', async () => {
    let host = await startHost();
    const client = new Client(`http://127.0.0.1:${port}`);
    const fleet = new Fleet(client);
    const partner = await fleet.partner();
    const customers = Array.from({ length: 200 }, () => randomUUID());
    await Promise.all(customers.map((customer) => fleet.importDap(partner.tenantId, customer)));
    const groups = [randomUUID(), randomUUID(), randomUUID()];
    const template = await fleet.template(partner.token, groups);
    const location = await fleet.assign(partner.token, template.id, customers);

    // Killed once part of the job is done, mid-flight.
    const doneAtKill = await waitFor(async () => {
      const job = await fleet.job(partner.token, location);
      const succeeded = (job.counts as { succeeded: number }).succeeded;
      return succeeded >= 20 ? succeeded : undefined;
    }, 60_000);
    host.kill('SIGKILL');
    await new Promise((resolve) => host.once('exit', resolve));
    expect(doneAtKill).toBeLessThan(200);

    host = await startHost();
    // The sandbox's signing key is per process: the same partner user gets a token from the new host.
    partner.token = await client.token({ tid: partner.tenantId, oid: partner.userId, roles: ['AdminAgent'] });
    const { job, items } = await fleet.settledJob(partner.token, location, 180_000);
    expect(job).toMatchObject({ status: 'succeeded', counts: { total: 200, succeeded: 200, failed: 0 } });

    const relationships = await fleet.partnerRelationships(partner.token);
    expect(relationships).toHaveLength(200);
    expect(relationships.map((r) => (r.customer as Json).tenantId).sort()).toEqual([...customers].sort());
    expect(relationships.every((r) => r.status === 'active')).toBe(true);
    const byId = new Map(relationships.map((r) => [r.id, r]));
    for (const item of items) {
      expect(byId.has(item.relationshipId)).toBe(true);
      const assignments = await fleet.assignments(partner.token, item.relationshipId);
      expect([...assignments.keys()].sort()).toEqual([...groups].sort());
    }
    // Nothing was created twice: one creation audit entry per relationship.
    const created = await fleet.audits(partner.tenantId, 'Create delegated admin relationship');
    expect(created).toHaveLength(200);
  });
});
