import { ensureTables, ignoreStatus, isStatus, tableClient, tableNames } from './tables';

/**
 * The sandbox clock's one row (SPEC §11), in the Settings table, so every instance on the same
 * storage account and TABLE_PREFIX reads the same clock and it survives restarts. It records the
 * service instant it was set to, whether it runs, and the real time it was set at.
 */
export interface StoredClock {
  /** The service time at `anchoredAtMs`, in epoch milliseconds. */
  instantMs: number;
  /** True: the clock runs at real speed from `instantMs`; false: it stands at `instantMs`. */
  running: boolean;
  /** Real time (epoch milliseconds) when it was set. */
  anchoredAtMs: number;
}

const partitionKey = 'sandbox';
const rowKey = 'clock';
const settings = () => tableClient(tableNames.settings);

export async function readStoredClock(): Promise<StoredClock | undefined> {
  await ensureTables();
  try {
    const row = await settings().getEntity<Record<string, unknown>>(partitionKey, rowKey);
    return {
      instantMs: Date.parse(String(row.instant)),
      running: row.running === true,
      anchoredAtMs: Date.parse(String(row.anchoredAt)),
    };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Sets the clock, or (undefined) removes it: back to real time. */
export async function writeStoredClock(clock: StoredClock | undefined): Promise<void> {
  await ensureTables();
  if (!clock) {
    await settings().deleteEntity(partitionKey, rowKey).catch(ignoreStatus(404));
    return;
  }
  // ISO strings: readable in a storage browser, and exact to the millisecond.
  await settings().upsertEntity(
    {
      partitionKey,
      rowKey,
      instant: new Date(clock.instantMs).toISOString(),
      running: clock.running,
      anchoredAt: new Date(clock.anchoredAtMs).toISOString(),
    },
    'Replace',
  );
}
