import { odata, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { config } from '../config';
import { conflict, notFound } from '../domain/errors';
import { isGuid } from '../domain/ids';
import {
  AuditRecordContent,
  Delivery,
  DeliveryStatus,
  eventBody,
  recordsSkipped,
  Registration,
  subscribes,
  WebhookEvent,
  WebhookEventName,
} from '../domain/webhooks';
import { execute, TransactionRefused } from './executor';
import { OutboundMessage } from './outbox';
import { sendQueueMessage } from './queues';
import { RowOp } from './rowOps';
import { Entity } from './rows';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Webhook registrations, deliveries and audit records (SPEC §16), in the Webhooks table:
 *   registrations / {tenantId}                 a tenant's one registration (one partition, so the
 *                                              write paths read them all in one query)
 *   {tenantId} / dlv|{stream}|{seq}|{step}|{id} a delivery: the body sent, its status and attempts;
 *                                              a resource's deliveries in the order they go out
 *   {tenantId} / aud|{eventId}                 the audit record behind the event's AuditUri
 *   {tenantId} / rate|validationEvents         the last validations' times (two a minute)
 * A change's deliveries are rows of its outbox (outbox.ts): written once the change is stored, with
 * one `webhook-deliveries` message per resource after them, which shared/app/webhooks.ts handles.
 */
export const deliveryQueue = 'webhook-deliveries';

export interface DeliveryMessage {
  tenantId: string;
  stream: string;
}

const webhooks = () => tableClient(tableNames.webhooks);
const registrationPartition = 'registrations';
const deliveryPrefix = 'dlv|';
const auditPrefix = 'aud|';
const validationRateKey = 'rate|validationEvents';

// ---------------------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------------------

function registrationRow(registration: Registration): Entity {
  return {
    partitionKey: registrationPartition,
    rowKey: registration.tenantId,
    subscriberId: registration.subscriberId,
    webhookUrl: registration.webhookUrl,
    webhookEvents: JSON.stringify(registration.webhookEvents),
    signatureTokenToMsSignatureHeader: registration.signatureTokenToMsSignatureHeader,
    origin: registration.origin,
    createdDateTime: registration.createdDateTime,
    lastModifiedDateTime: registration.lastModifiedDateTime,
  };
}

function registrationFromRow(row: Record<string, unknown>): Registration {
  return {
    tenantId: String(row.rowKey),
    subscriberId: String(row.subscriberId),
    webhookUrl: String(row.webhookUrl),
    webhookEvents: JSON.parse(String(row.webhookEvents)) as WebhookEventName[],
    signatureTokenToMsSignatureHeader: row.signatureTokenToMsSignatureHeader === true,
    origin: String(row.origin),
    createdDateTime: String(row.createdDateTime),
    lastModifiedDateTime: String(row.lastModifiedDateTime),
  };
}

/**
 * Every registration, as the write paths see them. Each change that sends webhook events asks
 * which of its tenants subscribe, and most have no registration: so the answer comes from one
 * query of all registrations, kept for READ_CACHE_SECONDS, and a change nobody subscribed to
 * costs no storage call. A registration written in this process is seen at once; one written on
 * another instance starts receiving events within that time. Deliveries read the row itself.
 */
let directory: { loadedAtMs: number; registrations: Promise<Map<string, Registration>> } | undefined;

function registrationDirectory(): Promise<Map<string, Registration>> {
  const ttlMs = config().readCacheSeconds * 1000;
  if (directory && Date.now() - directory.loadedAtMs < ttlMs) return directory.registrations;
  const loaded = { loadedAtMs: Date.now(), registrations: loadRegistrations() };
  // Kept from now on; a write in this process meanwhile drops it (`forgetRegistrations`), as does a failure.
  directory = loaded;
  loaded.registrations.catch(() => {
    if (directory === loaded) directory = undefined;
  });
  return loaded.registrations;
}

async function loadRegistrations(): Promise<Map<string, Registration>> {
  await ensureTables();
  const found = new Map<string, Registration>();
  const rows = webhooks().listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${registrationPartition}` },
  });
  for await (const row of rows) found.set(String(row.rowKey), registrationFromRow(row));
  return found;
}

function forgetRegistrations(): void {
  directory = undefined;
}

export async function findRegistration(tenantId: string): Promise<Registration | undefined> {
  return (await findRegistrationWithEtag(tenantId))?.value;
}

export async function findRegistrationWithEtag(
  tenantId: string,
): Promise<{ value: Registration; etag: string } | undefined> {
  await ensureTables();
  try {
    const row = await webhooks().getEntity<Record<string, unknown>>(registrationPartition, tenantId);
    return { value: registrationFromRow(row), etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** Creates the tenant's one registration; a second → 409 (SPEC §16). */
export async function insertRegistration(registration: Registration): Promise<void> {
  await ensureTables();
  try {
    await webhooks().createEntity(registrationRow(registration));
  } catch (error) {
    if (isStatus(error, 409)) {
      throw conflict('A webhook registration already exists for this tenant: change it with PUT or remove it first.');
    }
    throw error;
  } finally {
    forgetRegistrations();
  }
}

/** Replaces the tenant's registration at the ETag it was read with (its subscriber id stays). */
export async function replaceRegistration(registration: Registration, etag: string): Promise<void> {
  try {
    await webhooks().updateEntity(registrationRow(registration), 'Replace', { etag });
  } catch (error) {
    if (isStatus(error, 404) || isStatus(error, 412)) {
      throw conflict('The webhook registration changed or was removed meanwhile: read it again.');
    }
    throw error;
  } finally {
    forgetRegistrations();
  }
}

/** Removes the registration; deliveries still pending are dropped when their turn comes. */
export async function deleteRegistration(tenantId: string): Promise<void> {
  await ensureTables();
  try {
    await webhooks().deleteEntity(registrationPartition, tenantId);
  } catch (error) {
    if (isStatus(error, 404)) throw notFound('This tenant has no webhook registration.');
    throw error;
  } finally {
    forgetRegistrations();
  }
}

// ---------------------------------------------------------------------------------------------
// Deliveries: a change's outbound rows
// ---------------------------------------------------------------------------------------------

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

function streamPrefix(stream: string): string {
  return `${deliveryPrefix}${stream}|`;
}

function deliveryKey(delivery: Pick<Delivery, 'stream' | 'eventId'>): string {
  const { key, sequence, step } = delivery.stream;
  return `${streamPrefix(key)}${pad(sequence, 10)}|${pad(step, 4)}|${delivery.eventId}`;
}

function deliveryRow(delivery: Delivery): Entity {
  return {
    partitionKey: delivery.tenantId,
    rowKey: deliveryKey(delivery),
    eventId: delivery.eventId,
    eventName: delivery.eventName,
    subscriberId: delivery.subscriberId,
    stream: delivery.stream.key,
    sequence: delivery.stream.sequence,
    step: delivery.stream.step,
    resourceUri: delivery.resourceUri,
    body: delivery.body,
    baseUrl: delivery.baseUrl,
    status: delivery.status,
    attempts: JSON.stringify(delivery.attempts),
    lastAttemptDateTime: delivery.attempts[delivery.attempts.length - 1]?.dateTimeUtc ?? '',
    publishedAtMs: delivery.publishedAtMs,
    nextAttemptAtMs: delivery.nextAttemptAtMs,
    leaseUntilMs: delivery.leaseUntilMs,
  };
}

function deliveryFromRow(row: Record<string, unknown>): Delivery {
  return {
    tenantId: String(row.partitionKey),
    eventId: String(row.eventId),
    eventName: row.eventName as WebhookEventName,
    subscriberId: String(row.subscriberId),
    stream: { key: String(row.stream), sequence: Number(row.sequence), step: Number(row.step) },
    resourceUri: String(row.resourceUri),
    body: String(row.body),
    baseUrl: String(row.baseUrl),
    status: row.status as DeliveryStatus,
    attempts: JSON.parse(String(row.attempts)) as Delivery['attempts'],
    publishedAtMs: Number(row.publishedAtMs),
    nextAttemptAtMs: Number(row.nextAttemptAtMs),
    leaseUntilMs: Number(row.leaseUntilMs),
  };
}

export interface AuditRecord extends AuditRecordContent {
  id: string;
  tenantId: string;
}

function auditRow(record: AuditRecord): Entity {
  return { partitionKey: record.tenantId, rowKey: `${auditPrefix}${record.id}`, data: JSON.stringify(record) };
}

/** What publishing a change's webhook events writes and sends, once the change is stored. */
export interface WebhookOutbound {
  rows: RowOp[];
  messages: OutboundMessage[];
}

/**
 * The outbound part of a change's webhook events: for each event whose tenant's registration
 * subscribes to it, its delivery (the exact body that will be signed, `pending`) and its audit
 * record; a `skipped` delivery for one the registration leaves out but whose later events it takes
 * (so they do not wait for it as for a missing one); and one queue message per tenant and resource.
 * Undefined when no tenant of the events subscribes: the change then has no outbox for them.
 * Event ids are fixed by the change, so the rows are inserts a repeat leaves as they are; URLs
 * start with PUBLIC_BASE_URL, or the base URL the registration was last written through.
 */
export async function webhookOutbound(
  events: readonly WebhookEvent[],
  realNowMs: number = Date.now(),
  /** The registrations to go by (fresh ones): by default those of the cached directory. */
  known?: ReadonlyMap<string, Registration>,
): Promise<WebhookOutbound | undefined> {
  if (events.length === 0) return undefined;
  const registrations = known ?? (await registrationDirectory());
  const rows: RowOp[] = [];
  const streams = new Map<string, DeliveryMessage>();
  for (const event of events) {
    const registration = registrations.get(event.tenantId);
    if (!registration) continue;
    const subscribed = subscribes(registration, event.eventName);
    if (!subscribed && !recordsSkipped(registration, event)) continue;
    const baseUrl = config().publicBaseUrl ?? registration.origin;
    const audited = subscribed && event.audit !== undefined;
    if (audited) {
      const record: AuditRecord = { ...(event.audit as AuditRecordContent), id: event.id, tenantId: event.tenantId };
      rows.push({ table: tableNames.webhooks, mode: 'insert', entity: auditRow(record) });
    }
    const delivery: Delivery = {
      tenantId: event.tenantId,
      eventId: event.id,
      eventName: event.eventName,
      subscriberId: registration.subscriberId,
      stream: event.stream,
      resourceUri: `${baseUrl}${event.resourcePath}`,
      body: eventBody(event, baseUrl, audited ? event.id : undefined),
      baseUrl,
      status: subscribed ? 'pending' : 'skipped',
      attempts: [],
      publishedAtMs: realNowMs,
      nextAttemptAtMs: 0,
      leaseUntilMs: 0,
    };
    rows.push({ table: tableNames.webhooks, mode: 'insert', entity: deliveryRow(delivery) });
    if (subscribed)
      streams.set(`${event.tenantId}\n${event.stream.key}`, { tenantId: event.tenantId, stream: event.stream.key });
  }
  if (rows.length === 0) return undefined;
  const messages = [...streams.values()].map((payload): OutboundMessage => ({ queue: deliveryQueue, payload }));
  return { rows, messages };
}

export async function sendDeliveryMessage(message: DeliveryMessage, delaySeconds = 0): Promise<void> {
  await sendQueueMessage(deliveryQueue, message, { visibilityDelaySeconds: delaySeconds });
}

export interface StreamRow {
  value: Delivery;
  etag: string;
  rowKey: string;
}

/** One tenant's deliveries of one resource, with their ETags, in the order they go out. */
export async function readStream(tenantId: string, stream: string): Promise<StreamRow[]> {
  await ensureTables();
  const from = streamPrefix(stream);
  const to = `${from.slice(0, -1)}}`;
  const rows = webhooks().listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${tenantId} and RowKey ge ${from} and RowKey lt ${to}` },
  });
  const found: StreamRow[] = [];
  for await (const row of rows as AsyncIterable<TableEntityResult<Record<string, unknown>>>) {
    found.push({ value: deliveryFromRow(row), etag: row.etag, rowKey: String(row.rowKey) });
  }
  return found;
}

/**
 * Stores deliveries of one stream if their rows still have their ETags (an attempt's claim or
 * result, or a result with the next event's claim), in one transaction; undefined when another
 * sender changed one first. `pruned`: rows of the stream the change makes unnecessary (earlier
 * deliveries that were delivered, skipped or canceled), removed in the same transaction.
 */
export async function updateDeliveries(
  updates: readonly { delivery: Delivery; etag: string }[],
  pruned: readonly string[] = [],
): Promise<string[] | undefined> {
  const [{ delivery: first }] = updates;
  const actions: TransactionAction[] = [
    ...updates.map(({ delivery, etag }): TransactionAction => ['update', deliveryRow(delivery), 'Replace', { etag }]),
    ...pruned
      .slice(0, 100 - updates.length)
      .map((rowKey): TransactionAction => ['delete', { partitionKey: first.tenantId, rowKey }]),
  ];
  try {
    const response = await webhooks().submitTransaction(actions);
    return updates.map((_, index) => response.subResponses[index]?.etag as string);
  } catch (error) {
    if (isStatus(error, 412) || isStatus(error, 404)) return undefined;
    throw error;
  }
}

export async function findDelivery(
  tenantId: string,
  key: Pick<Delivery, 'stream' | 'eventId'>,
): Promise<Delivery | undefined> {
  await ensureTables();
  try {
    return deliveryFromRow(await webhooks().getEntity(tenantId, deliveryKey(key)));
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** A tenant's deliveries, optionally of one status, oldest resource first; at most `top`. */
export async function listDeliveries(
  tenantId: string,
  status: DeliveryStatus | undefined,
  top: number,
): Promise<Delivery[]> {
  await ensureTables();
  const range = odata`PartitionKey eq ${tenantId} and RowKey ge ${deliveryPrefix} and RowKey lt ${'dlv}'}`;
  const filter = status ? `${range} and ${odata`status eq ${status}`}` : range;
  const found: Delivery[] = [];
  for await (const row of webhooks().listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
    found.push(deliveryFromRow(row));
    if (found.length >= top) break;
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Audit records, validation rate
// ---------------------------------------------------------------------------------------------

/** The audit record with this id in the tenant's partition: another tenant's is not found. */
export async function findAuditRecord(tenantId: string, id: string): Promise<AuditRecord | undefined> {
  // Audit record ids are event ids (GUIDs): anything else names nothing, and may not be a valid key.
  if (!isGuid(id)) return undefined;
  await ensureTables();
  try {
    const row = await webhooks().getEntity<Record<string, unknown>>(tenantId, `${auditPrefix}${id.toLowerCase()}`);
    return JSON.parse(String(row.data)) as AuditRecord;
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

/** When the tenant's recent validations were admitted (real time), with the ETag of their row. */
export async function readValidationTimes(tenantId: string): Promise<{ times: number[]; etag?: string }> {
  await ensureTables();
  try {
    const row = await webhooks().getEntity<Record<string, unknown>>(tenantId, validationRateKey);
    return { times: JSON.parse(String(row.times)) as number[], etag: row.etag };
  } catch (error) {
    if (isStatus(error, 404)) return { times: [] };
    throw error;
  }
}

/**
 * Stores an admitted validation: its times row, conditional on the ETag it was read at (so two
 * instances cannot both admit the third), and its test event's delivery in the same transaction;
 * the delivery's queue message goes through the outbox, the delivery being its witness. Another
 * validation stored first is a `stale` refusal: the caller reads again.
 */
export async function commitValidation(
  registration: Registration,
  read: { etag?: string },
  times: readonly number[],
  event: WebhookEvent,
): Promise<void> {
  const tenantId = registration.tenantId;
  const outbound = await webhookOutbound([event], Date.now(), new Map([[tenantId, registration]]));
  if (!outbound) return;
  const row: Entity = { partitionKey: tenantId, rowKey: validationRateKey, times: JSON.stringify(times) };
  const delivery = outbound.rows[0].entity;
  try {
    await execute({
      before: [],
      transaction: {
        table: tableNames.webhooks,
        actions: [
          read.etag ? ['update', row, 'Replace', { etag: read.etag }] : ['create', row],
          ...outbound.rows.map((op): TransactionAction => ['create', op.entity]),
        ],
      },
      outbound: {
        changeId: event.id,
        rows: [],
        messages: outbound.messages,
        witness: { table: tableNames.webhooks, partitionKey: tenantId, rowKey: delivery.rowKey },
      },
      after: [],
    });
  } catch (error) {
    // A times row inserted by another validation meanwhile is a lost race like a changed one.
    if (error instanceof TransactionRefused) throw new TransactionRefused('stale');
    throw error;
  }
}
