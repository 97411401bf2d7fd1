/**
 * Named points of the one write path where a test makes a change stop as a crash would: nothing
 * after the point runs, and what was stored before it stays. Never armed outside tests.
 */
export type FaultPoint =
  /** Pre-writes stored, the transaction not sent. */
  | 'beforeTransaction'
  /** The transaction stored; its events for other partitions, clean-ups and follow-ups not done. */
  | 'afterTransaction'
  /** A job's change stored, its due entry not removed. */
  | 'beforeDueEntryRemoved';

export class SimulatedCrash extends Error {
  constructor(readonly point: FaultPoint) {
    super(`Simulated crash at ${point}`);
    this.name = 'SimulatedCrash';
  }
}

const armed = new Map<FaultPoint, number>();

/** The next `times` passes through `point` throw a SimulatedCrash. */
export function armFault(point: FaultPoint, times = 1): void {
  armed.set(point, times);
}

export function disarmFaults(): void {
  armed.clear();
}

export function crashPoint(point: FaultPoint): void {
  const left = armed.get(point);
  if (left === undefined) return;
  if (left <= 1) armed.delete(point);
  else armed.set(point, left - 1);
  throw new SimulatedCrash(point);
}
