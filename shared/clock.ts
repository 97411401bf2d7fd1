import { DateTime } from 'luxon';
import { config } from './config';
import { readStoredClock, StoredClock, writeStoredClock } from './store/sandboxClock';

/**
 * The service clock. Production reads the system time; the sandbox (SPEC §11) may set it to a
 * chosen instant, standing still or running from there, so time rules can be exercised without
 * waiting. The setting is stored, so every instance on the same account sees the same clock and
 * a restart keeps it; each instance re-reads it at most once a second. Handlers and jobs call
 * `refreshServiceClock()` when they start and read `serviceNow()` once, passing `now` down, so the
 * domain never reads a clock itself. Token lifetimes and retry timing use real time, never this.
 */
const cacheMs = 1000;

let known: StoredClock | undefined;
let knownAtMs = Number.NEGATIVE_INFINITY;
let refreshing: Promise<void> | undefined;

function timeOf(clock: StoredClock | undefined, realMs: number): DateTime {
  if (!clock) return DateTime.fromMillis(realMs, { zone: 'utc' });
  const instant = clock.running ? clock.instantMs + (realMs - clock.anchoredAtMs) : clock.instantMs;
  return DateTime.fromMillis(instant, { zone: 'utc' });
}

/** The service time, from the clock setting last read (refreshServiceClock keeps it at most 1 s old). */
export function serviceNow(): DateTime {
  return timeOf(known, Date.now());
}

/**
 * Re-reads the stored sandbox clock when the copy held is older than a second (one read at a
 * time), or at once with `force` (before a change computed from the current setting).
 */
export async function refreshServiceClock(options: { force?: boolean } = {}): Promise<void> {
  if (!config().sandboxMode || (!options.force && Date.now() - knownAtMs < cacheMs)) return;
  refreshing ??= (async () => {
    const startedAtMs = Date.now();
    try {
      known = await readStoredClock();
      knownAtMs = startedAtMs;
    } finally {
      refreshing = undefined;
    }
  })();
  await refreshing;
}

export interface ClockState {
  now: DateTime;
  /** A sandbox clock is set (false: real time). */
  pinned: boolean;
  running: boolean;
}

export function serviceClockState(): ClockState {
  return { now: serviceNow(), pinned: known !== undefined, running: known ? known.running : true };
}

/** Sets the sandbox clock to `now`, standing or running, or (undefined) returns to real time. */
export async function setServiceClock(setting: { now: DateTime; running: boolean } | undefined): Promise<void> {
  const realMs = Date.now();
  const clock = setting && { instantMs: setting.now.toMillis(), running: setting.running, anchoredAtMs: realMs };
  await writeStoredClock(clock);
  known = clock;
  knownAtMs = realMs;
}
