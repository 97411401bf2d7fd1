import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { jobIds } from '../../shared/domain/jobs';
import { dueEntries } from '../../shared/store/dueIndex';
import { execute, StoragePlan, TransactionRefused } from '../../shared/store/executor';
import { armFault, disarmFaults } from '../../shared/store/faults';
import { recoverOutbound } from '../../shared/store/outbox';
import { writeRows } from '../../shared/store/rowOps';
import { ensureTables, isStatus, tableClient, TableName, tableNames } from '../../shared/store/tables';
import { toGraphDateTime } from '../../shared/domain/time';

/**
 * The one executor on a real Azurite: a transaction conditional on its ETags, pre-writes before
 * it, outbound rows after it through the outbox, and what a crash between the phases leaves.
 */
const table = tableNames.supportRequests;

async function exists(tableName: TableName, partitionKey: string, rowKey: string): Promise<boolean> {
  try {
    await tableClient(tableName).getEntity(partitionKey, rowKey);
    return true;
  } catch (error) {
    if (isStatus(error, 404)) return false;
    throw error;
  }
}

/** A plan that updates `row` at `etag`, writes a pointer first and an event row in another partition after. */
function plan(
  partitionKey: string,
  etag: string,
  changeId = randomUUID(),
): { changeId: string; eventPartition: string; plan: StoragePlan } {
  const eventPartition = `${randomUUID()}|00`;
  return {
    changeId,
    eventPartition,
    plan: {
      before: [
        {
          table: tableNames.supportIndex,
          mode: 'upsert',
          entity: { partitionKey: `p|${partitionKey}`, rowKey: 'pointer' },
        },
      ],
      transaction: {
        table,
        actions: [
          ['update', { partitionKey, rowKey: 'row', value: 2 }, 'Replace', { etag }],
          ['create', { partitionKey, rowKey: `chg|${changeId}` }],
        ],
      },
      outbound: {
        changeId,
        rows: [
          {
            table: tableNames.tenants,
            mode: 'insert',
            entity: { partitionKey: eventPartition, rowKey: `aud|${changeId}` },
          },
        ],
        witness: { table, partitionKey, rowKey: `chg|${changeId}` },
      },
      after: [],
    },
  };
}

async function recoveryEntriesOf(changeId: string) {
  const due = await dueEntries(jobIds.publishEvents, toGraphDateTime(DateTime.utc().plus({ minutes: 5 })), 10_000);
  return due.filter((row) => row.entry.subjectId === changeId);
}

describe('the commit executor', () => {
  beforeAll(() => ensureTables());
  afterEach(() => disarmFaults());

  async function freshRow(): Promise<{ partitionKey: string; etag: string }> {
    const partitionKey = randomUUID();
    const created = await tableClient(table).createEntity({ partitionKey, rowKey: 'row', value: 1 });
    return { partitionKey, etag: created.etag as string };
  }

  it('stores the transaction, its pre-write and its outbound rows, and removes the recovery entry', async () => {
    const { partitionKey, etag } = await freshRow();
    const { plan: storage, changeId, eventPartition } = plan(partitionKey, etag);
    const committed = await execute(storage);
    expect(committed.etags[0]).toBeTruthy();
    expect((await tableClient(table).getEntity(partitionKey, 'row')).value).toBe(2);
    expect(await exists(tableNames.supportIndex, `p|${partitionKey}`, 'pointer')).toBe(true);
    expect(await exists(tableNames.tenants, eventPartition, `aud|${changeId}`)).toBe(true);
    expect(await recoveryEntriesOf(changeId)).toEqual([]);
  });

  it('refuses a transaction whose ETag is stale, storing none of its rows nor its outbound ones', async () => {
    const { partitionKey, etag } = await freshRow();
    await tableClient(table).updateEntity({ partitionKey, rowKey: 'row', value: 9 }, 'Replace', { etag });
    const { plan: storage, changeId, eventPartition } = plan(partitionKey, etag);
    const refusal = await execute(storage).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TransactionRefused);
    expect((refusal as TransactionRefused).reason).toBe('stale');
    expect((await tableClient(table).getEntity(partitionKey, 'row')).value).toBe(9);
    expect(await exists(table, partitionKey, `chg|${changeId}`)).toBe(false);
    expect(await exists(tableNames.tenants, eventPartition, `aud|${changeId}`)).toBe(false);
    // Its recovery entry went with it: the job has nothing to look at.
    expect(await recoveryEntriesOf(changeId)).toEqual([]);
  });

  it('after a crash past the transaction, the outbox job writes the outbound rows once', async () => {
    const { partitionKey, etag } = await freshRow();
    const { plan: storage, changeId, eventPartition } = plan(partitionKey, etag);
    armFault('afterTransaction');
    await expect(execute(storage)).rejects.toThrow(/Simulated crash/);
    expect((await tableClient(table).getEntity(partitionKey, 'row')).value).toBe(2);
    expect(await exists(tableNames.tenants, eventPartition, `aud|${changeId}`)).toBe(false);
    const [recovery] = await recoveryEntriesOf(changeId);
    expect(await recoverOutbound(recovery.entry)).toBe(1);
    expect(await exists(tableNames.tenants, eventPartition, `aud|${changeId}`)).toBe(true);
    // A second run (two instances, or a retry) writes the same row again: still one.
    expect(await recoverOutbound(recovery.entry)).toBe(1);
  });

  it('removes a marker witness once the outbound rows are out, itself or, after a crash, through the job', async () => {
    const marked = async () => {
      const { partitionKey, etag } = await freshRow();
      const planned = plan(partitionKey, etag);
      planned.plan.outbound = {
        ...planned.plan.outbound!,
        witness: { table, partitionKey, rowKey: `chg|${planned.changeId}`, marker: true },
      };
      return { ...planned, partitionKey };
    };
    const stored = await marked();
    await execute(stored.plan);
    expect(await exists(tableNames.tenants, stored.eventPartition, `aud|${stored.changeId}`)).toBe(true);
    expect(await exists(table, stored.partitionKey, `chg|${stored.changeId}`)).toBe(false);

    const crashed = await marked();
    armFault('afterTransaction');
    await expect(execute(crashed.plan)).rejects.toThrow(/Simulated crash/);
    expect(await exists(table, crashed.partitionKey, `chg|${crashed.changeId}`)).toBe(true);
    const [recovery] = await recoveryEntriesOf(crashed.changeId);
    expect(await recoverOutbound(recovery.entry)).toBe(1);
    expect(await exists(tableNames.tenants, crashed.eventPartition, `aud|${crashed.changeId}`)).toBe(true);
    expect(await exists(table, crashed.partitionKey, `chg|${crashed.changeId}`)).toBe(false);
    // A second run finds no witness: what it witnessed is out already, so it publishes nothing again.
    expect(await recoverOutbound(recovery.entry)).toBe(0);
  });

  it('after a crash before the transaction, the outbox job writes nothing: the witness does not exist', async () => {
    const { partitionKey, etag } = await freshRow();
    const { plan: storage, changeId, eventPartition } = plan(partitionKey, etag);
    armFault('beforeTransaction');
    await expect(execute(storage)).rejects.toThrow(/Simulated crash/);
    expect((await tableClient(table).getEntity(partitionKey, 'row')).value).toBe(1);
    const [recovery] = await recoveryEntriesOf(changeId);
    expect(await recoverOutbound(recovery.entry)).toBe(0);
    expect(await exists(tableNames.tenants, eventPartition, `aud|${changeId}`)).toBe(false);
  });

  it('writes rows of one partition in one call, taking an insert already there and a missing deletion as done', async () => {
    const partitionKey = randomUUID();
    await tableClient(table).createEntity({ partitionKey, rowKey: 'a' });
    await writeRows([
      { table, mode: 'insert', entity: { partitionKey, rowKey: 'a' } },
      { table, mode: 'insert', entity: { partitionKey, rowKey: 'b' } },
      { table, mode: 'delete', entity: { partitionKey, rowKey: 'gone' } },
    ]);
    expect(await exists(table, partitionKey, 'a')).toBe(true);
    expect(await exists(table, partitionKey, 'b')).toBe(true);
  });
});
