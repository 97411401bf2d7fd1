import { AuditEntry, DomainEvents, eventId, Initiator, Notification } from './events';
import { DueEntry } from './jobs';
import { WebhookEvent } from './webhooks';

/**
 * The one shape of a write (ARCHITECTURE "One write path"): a pure planning function looks at the
 * state as read and returns a `Change`, and the store's one executor commits it. A change says
 * everything it writes, so a test of a rule can assert its plan without storage:
 *   - `schedule`: due-index entries written *before* the transaction. They are harmless should the
 *     change never commit (the job finds nothing to do), and a change never commits without them.
 *   - `writes`: the rows of one entity-group transaction in the aggregate's partition, each
 *     conditional on the ETag it was read at (or an insert), so two writers never both win.
 *   - `events`: audit entries, notifications and webhook events, each for one tenant, with ids
 *     fixed before anything is written (`stampEvents`; a webhook event's by its transition), so
 *     publishing one twice writes one row. Webhook events never join the transaction: the store
 *     keeps those whose tenant has a registration and publishes them through the outbox.
 *   - `followUps`: consequences that do not fit the transaction (more rows than a transaction
 *     holds). They are due entries written before it, like `schedule`; the use case finishes them
 *     right after the commit, and after a crash the job does.
 * `W` is the aggregate's kind of row write (relationship, support case), `P` its kind of pointer:
 * an index row in another partition, written before the transaction and confirmed by readers.
 */
export interface Change<W, P = never> {
  writes: W[];
  schedule: DueEntry[];
  pointers: P[];
  events: ChangeEvent[];
  followUps: DueEntry[];
}

export type ChangeEvent =
  | { type: 'audit'; value: AuditEntry }
  | { type: 'notification'; value: Notification }
  | { type: 'webhook'; value: WebhookEvent };

/** The events a tenant's log keeps (rows of the Tenants table): audit entries and notifications. */
export type LogEvent = Exclude<ChangeEvent, { type: 'webhook' }>;

export const isLogEvent = (event: ChangeEvent): event is LogEvent => event.type !== 'webhook';

export function webhookEventsOf(events: readonly ChangeEvent[]): WebhookEvent[] {
  return events.flatMap((event) => (event.type === 'webhook' ? [event.value] : []));
}

/** A value with the ETag of the row it was read from: what a change is conditional on. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

/** Who decides a change, when, and the change's own id (the source of its events' ids). */
export interface ChangeContext {
  /** Fresh per decision (a retry after a lost race decides anew, with a new id). */
  changeId: string;
  /** The decision's time (the service clock), a Graph timestamp. */
  at: string;
  initiatedBy: Initiator;
}

export function emptyChange<W, P = never>(): Change<W, P> {
  return { writes: [], schedule: [], pointers: [], events: [], followUps: [] };
}

/** Whether a change writes anything at all (a no-op decision is answered without storage). */
export function writesNothing(change: Change<unknown, unknown>): boolean {
  return (
    change.writes.length === 0 &&
    change.schedule.length === 0 &&
    change.pointers.length === 0 &&
    change.events.length === 0 &&
    change.followUps.length === 0
  );
}

export function eventsOfChange(events: DomainEvents): ChangeEvent[] {
  return [
    ...events.audits.map((value): ChangeEvent => ({ type: 'audit', value })),
    ...events.notifications.map((value): ChangeEvent => ({ type: 'notification', value })),
    ...events.webhooks.map((value): ChangeEvent => ({ type: 'webhook', value })),
  ];
}

/**
 * The one id policy for events: the n-th event of a change is `eventId(changeId, n)`. Ids are
 * unique across changes (two like changes in the same millisecond no longer share one), and
 * fixed before anything is stored, so a repeated publication finds its row already there.
 * Events that must be sent once whatever runs them (expiry warnings) keep the id derived from
 * what they announce. So do webhook events: theirs names the resource's place in its order
 * (webhooks.ts), which the change's own transaction moves on, and is the receiver's `X-Event-Id`.
 */
export function stampEvents(events: readonly ChangeEvent[], changeId: string): ChangeEvent[] {
  return events.map((event, index) =>
    event.type === 'webhook'
      ? event
      : ({ ...event, value: { ...event.value, id: eventId(changeId, String(index)) } } as ChangeEvent),
  );
}
