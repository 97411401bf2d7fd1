import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { config } from '../config';
import { DomainError, forbidden, invalid, notFound } from '../domain/errors';
import { isGuid, newGuid } from '../domain/ids';
import { appRoles, canReadPartnerResources, hasAppRole, isGlobalAdministrator, Principal } from '../domain/principal';
import { toGraphDateTime } from '../domain/time';
import {
  admitValidation,
  afterAttempt,
  certificatePath,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  deliveryStatuses,
  nextDeliveryStep,
  Registration,
  registrationFromBody,
  subscribes,
  testWebhookEvent,
} from '../domain/webhooks';
import { signBody } from '../store/signingKey';
import {
  AuditRecord,
  commitValidation,
  deleteRegistration,
  DeliveryMessage,
  findAuditRecord,
  findDelivery,
  findRegistration,
  findRegistrationWithEtag,
  insertRegistration,
  listDeliveries,
  readStream,
  readValidationTimes,
  replaceRegistration,
  sendDeliveryMessage,
  StreamRow,
  updateDeliveries,
} from '../store/webhooks';
import { actingAs, Caller } from './caller';
import { decideAndCommit } from './commit';

/**
 * Use cases of Partner Center webhooks (SPEC §16): a tenant's registration, validation events,
 * the dead-letter listing, audit records, and the delivery a queue message asks for. The events
 * themselves come from every change's plan (shared/domain/webhooks.ts) and its outbox.
 */

// ---------------------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------------------

function assertMayWrite(principal: Principal): void {
  if (!hasAppRole(principal, appRoles.adminAgent) && !isGlobalAdministrator(principal)) {
    throw forbidden('Managing webhooks requires the AdminAgent role or Global Administrator in this tenant.');
  }
}

function assertMayRead(principal: Principal): void {
  if (!canReadPartnerResources(principal)) {
    throw forbidden('Reading webhooks requires the AdminAgent or HelpdeskAgent role, or Global Administrator.');
  }
}

const noRegistration = () => notFound('This tenant has no webhook registration.');

/**
 * POST: the tenant's one registration (a second → 409). `baseUrl` is the one the request came
 * through: events from changes point there unless PUBLIC_BASE_URL says otherwise.
 */
export async function createRegistration(body: unknown, caller: Caller, baseUrl: string): Promise<Registration> {
  assertMayWrite(caller.principal);
  const registration = registrationFromBody(body, {
    tenantId: caller.principal.tenantId,
    subscriberId: newGuid(),
    origin: baseUrl,
    at: toGraphDateTime(caller.now),
    sandboxMode: config().sandboxMode,
  });
  await insertRegistration(registration);
  return registration;
}

/** PUT: replaces the registration (its subscriber id stays); none → 404. */
export async function updateRegistration(body: unknown, caller: Caller, baseUrl: string): Promise<Registration> {
  assertMayWrite(caller.principal);
  const current = await findRegistrationWithEtag(caller.principal.tenantId);
  if (!current) throw noRegistration();
  const registration = registrationFromBody(body, {
    tenantId: caller.principal.tenantId,
    subscriberId: current.value.subscriberId,
    origin: baseUrl,
    at: toGraphDateTime(caller.now),
    sandboxMode: config().sandboxMode,
    previous: current.value,
  });
  await replaceRegistration(registration, current.etag);
  return registration;
}

export async function removeRegistration(principal: Principal): Promise<void> {
  assertMayWrite(principal);
  await deleteRegistration(principal.tenantId);
}

export async function readRegistration(principal: Principal): Promise<Registration> {
  assertMayRead(principal);
  const registration = await findRegistration(principal.tenantId);
  if (!registration) throw noRegistration();
  return registration;
}

// ---------------------------------------------------------------------------------------------
// Validation events
// ---------------------------------------------------------------------------------------------

/**
 * POST …/validationEvents: a `test-created` event to the tenant's registration, which must
 * subscribe to it; at most two a minute (more → 429 with Retry-After). The event's delivery is
 * stored with the admission, so an admitted validation is never lost.
 */
export async function requestValidation(caller: Caller): Promise<string> {
  assertMayWrite(caller.principal);
  const tenantId = caller.principal.tenantId;
  const registration = await findRegistration(tenantId);
  if (!registration) throw noRegistration();
  if (!subscribes(registration, 'test-created')) {
    throw invalid(`The webhook registration must include 'test-created' to receive validation events.`);
  }
  const correlationId = randomUUID();
  const event = testWebhookEvent(tenantId, correlationId, toGraphDateTime(caller.now));
  await decideAndCommit({
    ...actingAs(caller),
    read: () => readValidationTimes(tenantId),
    decide: (read) => {
      // Real time: the allowance is Partner Center's, not the sandbox clock's.
      const admission = admitValidation(read.times, Date.now());
      if (!admission.admitted) {
        throw new DomainError(
          'tooManyRequests',
          'At most two validation events a minute can be requested: try again later.',
          { 'retry-after': String(admission.retryAfterSeconds) },
        );
      }
      return { change: { read, times: admission.times }, answer: () => undefined };
    },
    commit: ({ read, times }) => commitValidation(registration, read, times, event),
  });
  return correlationId;
}

export interface ValidationStatus {
  correlationId: string;
  partnerId: string;
  status: 'Submitted' | 'completed' | 'failed';
  callbackUrl: string | null;
  results: DeliveryAttempt[];
}

/** GET …/validationEvents/{correlationId}: its progress, one result per attempt. */
export async function validationStatus(principal: Principal, correlationId: string): Promise<ValidationStatus> {
  assertMayRead(principal);
  const tenantId = principal.tenantId;
  const missing = () => notFound(`Validation event '${correlationId}' was not found.`);
  if (!isGuid(correlationId)) throw missing();
  const event = testWebhookEvent(tenantId, correlationId.toLowerCase(), '');
  const [delivery, registration] = await Promise.all([
    findDelivery(tenantId, { stream: event.stream, eventId: event.id }),
    findRegistration(tenantId),
  ]);
  if (!delivery) throw missing();
  return {
    correlationId: correlationId.toLowerCase(),
    partnerId: tenantId,
    status: delivery.status === 'delivered' ? 'completed' : delivery.status === 'pending' ? 'Submitted' : 'failed',
    callbackUrl: registration?.webhookUrl ?? null,
    results: delivery.attempts,
  };
}

// ---------------------------------------------------------------------------------------------
// Deliveries and audit records
// ---------------------------------------------------------------------------------------------

/** Deliveries listed per call; the dead letters of a tenant are few. */
const maxListed = 1000;

/** GET /webhooks/v1/deliveries?status=… (this service's extension): dead letters and the rest. */
export async function tenantDeliveries(principal: Principal, status: string | undefined): Promise<Delivery[]> {
  assertMayRead(principal);
  if (status !== undefined && !deliveryStatuses.includes(status as DeliveryStatus)) {
    throw invalid(`'status' must be one of ${deliveryStatuses.join(', ')}.`);
  }
  return listDeliveries(principal.tenantId, status as DeliveryStatus | undefined, maxListed);
}

/** An event's AuditUri: the audit record, to the tenant the event was sent to only. */
export async function readAuditRecord(principal: Principal, id: string): Promise<AuditRecord> {
  if (!canReadPartnerResources(principal)) {
    throw forbidden('Reading audit records requires the AdminAgent or HelpdeskAgent role, or Global Administrator.');
  }
  const record = await findAuditRecord(principal.tenantId, id);
  if (!record) throw notFound(`Audit record '${id}' was not found.`);
  return record;
}

// ---------------------------------------------------------------------------------------------
// Delivery (the webhook-deliveries queue)
// ---------------------------------------------------------------------------------------------

/** Waits up to this long are slept in the handler; longer ones become a delayed queue message. */
const inProcessWaitMs = 1000;
/** An attempt's claim outlives its timeout by this much (recording the result included). */
const claimMarginMs = 5000;

/**
 * Sends what one tenant's stream of one resource has pending, in order, one attempt at a time.
 * An attempt is claimed with a conditional write first, so two instances holding messages for the
 * same resource never send the same event at once; a 2xx ends it; a failure is recorded and
 * retried after the back-off, slept when under a second (a queue message's delay has whole
 * seconds) and otherwise by a delayed message; the tenth failure dead-letters it and the next
 * event goes. Waits and timeouts are real time. Messages may come twice or early: each one only
 * looks at what the rows say. The stream is read once and then followed in memory with each
 * write's new ETag; a write refused because another instance changed a row reads it again.
 */
export async function deliverStream(message: DeliveryMessage): Promise<void> {
  const settings = config().webhooks;
  const read = async () => {
    const [registration, rows] = await Promise.all([
      findRegistration(message.tenantId),
      readStream(message.tenantId, message.stream),
    ]);
    return { registration, rows };
  };
  let { registration, rows } = await read();
  /**
   * Stores rows' new values in one transaction; false (and a fresh read) when another instance
   * changed one of them first.
   */
  const write = async (
    updates: readonly { row: StreamRow; value: Delivery }[],
    pruned: readonly string[] = [],
  ): Promise<boolean> => {
    const etags = await updateDeliveries(
      updates.map(({ row, value }) => ({ delivery: value, etag: row.etag })),
      pruned,
    );
    if (!etags) {
      ({ registration, rows } = await read());
      return false;
    }
    rows = rows
      .filter((other) => !pruned.includes(other.rowKey))
      .map((other) => {
        const index = updates.findIndex(({ row }) => row === other);
        return index < 0 ? other : { ...other, value: updates[index].value, etag: etags[index] };
      });
    return true;
  };
  const rowOf = (eventId: string) => rows.find((row) => row.value.eventId === eventId) as StreamRow;
  const claim = (delivery: Delivery, nowMs: number): Delivery => ({
    ...delivery,
    leaseUntilMs: nowMs + settings.timeoutSeconds * 1000 + claimMarginMs,
  });
  /** An attempt claimed together with the previous one's result (one write instead of two). */
  let claimedAhead: Delivery | undefined;
  for (;;) {
    let claimed = claimedAhead;
    claimedAhead = undefined;
    if (!claimed) {
      const nowMs = Date.now();
      const step = nextDeliveryStep(
        rows.map((row) => row.value),
        registration,
        nowMs,
      );
      if (step.kind === 'idle') return;
      if (step.kind === 'wait') {
        if (step.waitMs > inProcessWaitMs) {
          await sendDeliveryMessage(message, Math.ceil(step.waitMs / 1000));
          return;
        }
        await sleep(step.waitMs);
        ({ registration, rows } = await read());
        continue;
      }
      if (step.kind === 'cancel') {
        await write([{ row: rowOf(step.delivery.eventId), value: { ...step.delivery, status: 'canceled' } }]);
        continue;
      }
      claimed = claim(step.delivery, nowMs);
      if (!(await write([{ row: rowOf(claimed.eventId), value: claimed }]))) continue; // another instance claimed it first
    }
    const attempt = await send(claimed, registration as Registration, settings.timeoutSeconds);
    const attemptedAtMs = Date.now();
    const next = afterAttempt(claimed, attempt, attemptedAtMs, settings);
    const claimedRow = rowOf(claimed.eventId);
    // Finished deliveries before this one no longer order the stream (failed ones stay listed).
    const pruned =
      next.status === 'pending'
        ? []
        : rows
            .slice(0, rows.indexOf(claimedRow))
            .filter((earlier) => ['delivered', 'skipped', 'canceled'].includes(earlier.value.status))
            .map((earlier) => earlier.rowKey);
    // The stream once this result is stored: when its next step is another event's attempt, that
    // attempt's claim rides in the same transaction.
    const ahead = nextDeliveryStep(
      rows.filter((row) => !pruned.includes(row.rowKey)).map((row) => (row === claimedRow ? next : row.value)),
      registration,
      attemptedAtMs,
    );
    const updates = [{ row: claimedRow, value: next }];
    if (ahead.kind === 'attempt' && ahead.delivery.eventId !== claimed.eventId) {
      claimedAhead = claim(ahead.delivery, attemptedAtMs);
      updates.push({ row: rowOf(claimedAhead.eventId), value: claimedAhead });
    }
    if (!(await write(updates, pruned))) claimedAhead = undefined;
  }
}

/** One signed POST of the body (SPEC §16); never throws: what happened is the attempt's result. */
async function send(delivery: Delivery, registration: Registration, timeoutSeconds: number): Promise<DeliveryAttempt> {
  const signature = await signBody(delivery.body);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'x-ms-certificate-url': `${delivery.baseUrl}${certificatePath}`,
    'x-ms-signature-algorithm': 'rsa-sha256',
    'x-event-id': delivery.eventId,
  };
  if (registration.signatureTokenToMsSignatureHeader) headers['x-ms-signature'] = signature;
  else headers.authorization = `Signature ${signature}`;
  const dateTimeUtc = (): string => new Date().toISOString();
  try {
    const response = await fetch(registration.webhookUrl, {
      method: 'POST',
      headers,
      body: delivery.body,
      // A redirect is not an answer: the receiver's URL is the registration's.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    const text = (await response.text()).slice(0, 500);
    return {
      responseCode: response.status,
      responseMessage: text || response.statusText || null,
      systemError: null,
      dateTimeUtc: dateTimeUtc(),
    };
  } catch (error) {
    return {
      responseCode: null,
      responseMessage: null,
      systemError: describe(error, timeoutSeconds),
      dateTimeUtc: dateTimeUtc(),
    };
  }
}

/** What fetch's error says happened (read by shape: it may come from another realm than `Error`). */
function describe(error: unknown, timeoutSeconds: number): string {
  const failure = (error ?? {}) as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
    return `The receiver did not answer within ${timeoutSeconds} s.`;
  }
  const detail = failure.cause?.code ?? failure.cause?.message ?? failure.message ?? String(error);
  return `The request to the receiver failed: ${detail}.`;
}
