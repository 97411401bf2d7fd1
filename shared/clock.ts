import { DateTime } from 'luxon';

/**
 * The service clock. Production reads the system time; the sandbox (SPEC §11) may pin it to a
 * chosen instant so time rules can be exercised without waiting. Handlers read it once per
 * request and pass `now` down, so the domain never reads a clock itself.
 */
let pinned: DateTime | undefined;

export function serviceNow(): DateTime {
  return pinned ?? DateTime.utc();
}

/** Pins the clock (sandbox only); `undefined` returns to the system time. */
export function pinServiceClock(instant: DateTime | undefined): void {
  pinned = instant?.toUTC();
}

export function isServiceClockPinned(): boolean {
  return pinned !== undefined;
}
