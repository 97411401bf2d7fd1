import { randomUUID } from 'node:crypto';
import { ChangeContext } from '../domain/change';
import { DomainError, stale } from '../domain/errors';
import { Initiator } from '../domain/events';
import { TransactionRefused } from '../store/executor';

/**
 * The read → decide → commit loop every use case runs (ARCHITECTURE "One write path"), written
 * once. `decide` is pure: it sees the state as read and returns the change to store and how to
 * answer once it is stored. A commit refused because the state changed since it was read is
 * decided again on fresh state, a bounded number of times, so the answer reflects the winner
 * ("the relationship is terminated"), except when the condition was the client's own If-Match:
 * then the client's version is no longer current, and it hears so (412).
 */
export interface Decision<C, K, R> {
  /** Absent: nothing to store (a no-op on this state), and the answer is given at once. */
  change?: C;
  answer(stored: K | undefined): R;
}

export interface Steps<S, C, K, R> {
  read(): Promise<S>;
  decide(state: S, context: ChangeContext): Decision<C, NoInfer<K>, R>;
  commit(change: C): Promise<K>;
  /** Who acts, and when (the service clock, as a Graph timestamp). */
  initiatedBy: Initiator;
  at: string;
  /** False when the write is conditional on the client's If-Match: a lost race is then the client's 412. */
  retry?: boolean;
  attempts?: number;
}

const defaultAttempts = 5;

function isLostRace(error: unknown): boolean {
  return (
    (error instanceof TransactionRefused && error.reason === 'stale') ||
    (error instanceof DomainError && error.kind === 'stale')
  );
}

export async function decideAndCommit<S, C, K, R>(steps: Steps<S, C, K, R>): Promise<R> {
  const attempts = steps.retry === false ? 1 : (steps.attempts ?? defaultAttempts);
  for (let attempt = 1; ; attempt++) {
    const state = await steps.read();
    const context: ChangeContext = { changeId: randomUUID(), at: steps.at, initiatedBy: steps.initiatedBy };
    const decision = steps.decide(state, context);
    if (decision.change === undefined) return decision.answer(undefined);
    try {
      return decision.answer(await steps.commit(decision.change));
    } catch (error) {
      if (!isLostRace(error)) throw error;
      if (attempt >= attempts) {
        throw stale('The entity was changed by another request: read it again and retry with its new ETag.');
      }
    }
  }
}
