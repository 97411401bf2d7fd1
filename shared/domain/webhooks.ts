import { z } from 'zod';
import type { AccessAssignment } from './assignments';
import { invalid } from './errors';
import type { Initiator } from './events';
import { eventId } from './ids';
import type { Relationship } from './relationships';
import { parsePartnerCenterBody } from './schema';
import type { AccessApproval, AccessRequest, CaseChange, SupportCase } from './support';

/**
 * Partner Center webhooks (SPEC §16), the pure part: the events a change sends, who they are for,
 * the body a receiver gets, the audit record behind `AuditUri`, registrations, and the delivery
 * schedule. Events are derived from a transition like audit entries (events.ts) and travel in the
 * change's plan (change.ts), one per tenant, with ids fixed by the transition (the resource, its
 * place in the resource's order, the tenant), so publishing one twice stores one delivery and a
 * receiver sees the same `X-Event-Id` on every attempt.
 */

export const partnerCenterEventNames = [
  'granular-admin-relationship-approved',
  'granular-admin-relationship-activated',
  'granular-admin-relationship-terminated',
  'granular-admin-relationship-expired',
  'granular-admin-access-assignment-created',
  'granular-admin-access-assignment-activated',
  'granular-admin-access-assignment-updated',
  'granular-admin-access-assignment-deleted',
  'dap-admin-relationship-terminated',
  'test-created',
] as const;

/** This service's own events, named in the events list's `X-Extension-Events` header. */
export const extensionEventNames = [
  'granular-admin-relationship-auto-extended',
  'granular-admin-relationship-expiring',
  'support-access-request-created',
  'support-access-request-approved',
  'support-access-request-removed',
] as const;

export const webhookEventNames = [...partnerCenterEventNames, ...extensionEventNames] as const;
export type WebhookEventName = (typeof webhookEventNames)[number];

export type WebhookResourceName =
  | 'GranularAdminRelationship'
  | 'GranularAdminAccessAssignment'
  | 'DelegatedAdminRelationship'
  | 'SupportAccessRequest'
  | 'SupportAccessApproval'
  | 'test';

/** The resource types of audit records, each rendered by its Graph view (functions/auditRecords.ts). */
export type AuditResourceType =
  | 'granular_admin_relationship'
  | 'granular_admin_access_assignment'
  | 'support_access_request'
  | 'support_access_approval';

export type AuditedValue = Relationship | AccessAssignment | AccessRequest | AccessApproval;

/** What `AuditUri` serves, minus its id and tenant (SPEC §16); values are the domain objects. */
export interface AuditRecordContent {
  partnerId: string | null;
  customerId: string | null;
  customerName: string | null;
  userPrincipalName: string | null;
  applicationId: string | null;
  resourceType: AuditResourceType;
  oldValue: AuditedValue | null;
  newValue: AuditedValue | null;
  operationType: string;
  operationStatus: 'succeeded';
  operationDate: string;
}

/**
 * Deliveries of one resource to one tenant go out in the order of `(sequence, step)`: `sequence`
 * counts the resource's changes that send events (kept with the resource and moved on in the
 * change's own transaction, so it follows the order of the changes), `step` orders the events of
 * one change. 0 means a resource with a single event (DAP removal, a test event): no order.
 */
export interface StreamPosition {
  key: string;
  sequence: number;
  step: number;
}

export interface WebhookEvent {
  id: string;
  /** The tenant it is for: it gets it if its registration subscribes to the event. */
  tenantId: string;
  eventName: WebhookEventName;
  resourceName: WebhookResourceName;
  /** The resource's path on this service: ResourceUri is the base URL followed by it. */
  resourcePath: string;
  stream: StreamPosition;
  /** ResourceChangeUtcDate: the change's time on the service clock. */
  changedAt: string;
  /** The audit record behind AuditUri; none for test-created and DAP events (SPEC §16). */
  audit?: AuditRecordContent;
}

/** The paths ResourceUri names (the routes of functions/relationships.ts, accessAssignments.ts, …). */
export const resourcePaths = {
  relationship: (id: string) => `/v1.0/tenantRelationships/delegatedAdminRelationships/${id}`,
  assignment: (relationshipId: string, id: string) =>
    `/v1.0/tenantRelationships/delegatedAdminRelationships/${relationshipId}/accessAssignments/${id}`,
  dap: (customerTenantId: string) => `/v1/dapRelationships/${customerTenantId}`,
  accessRequest: (id: string) => `/v1.0/support/accessRequests/${id}`,
  accessApproval: (id: string) => `/v1.0/support/accessApprovals/${id}`,
  validationEvent: (correlationId: string) => `/webhooks/v1/registration/validationEvents/${correlationId}`,
} as const;

export const auditRecordPath = (id: string): string => `/auditactivity/v1/auditrecords/${id}`;
export const certificatePath = '/webhooks/v1/certificate';

function auditBy(initiatedBy: Initiator): Pick<AuditRecordContent, 'userPrincipalName' | 'applicationId'> {
  return { userPrincipalName: initiatedBy.userPrincipalName ?? null, applicationId: initiatedBy.applicationId ?? null };
}

// ---------------------------------------------------------------------------------------------
// Relationships and their access assignments
// ---------------------------------------------------------------------------------------------

/** The relationship events of a transition, in the order a receiver gets them. */
function relationshipEventNames(
  previous: Relationship | undefined,
  next: Relationship | undefined,
): WebhookEventName[] {
  if (!next || previous?.status === next.status) {
    const extended =
      previous?.status === 'active' && next?.status === 'active' && previous.endDateTime !== next.endDateTime;
    return extended ? ['granular-admin-relationship-auto-extended'] : [];
  }
  switch (next.status) {
    case 'active':
      // A default relationship is born active (SPEC §5.2): nobody approved it.
      return previous?.status === 'approvalPending'
        ? ['granular-admin-relationship-approved', 'granular-admin-relationship-activated']
        : ['granular-admin-relationship-activated'];
    case 'terminated':
      return ['granular-admin-relationship-terminated'];
    case 'expired':
      return ['granular-admin-relationship-expired'];
    default:
      return [];
  }
}

/**
 * A relationship's webhook sequence after a transition: one more when it sends events. The store
 * writes the relationship with it, so the next change reads it back (see `StreamPosition`).
 */
export function withWebhookSequence(previous: Relationship | undefined, next: Relationship): Relationship {
  if (relationshipEventNames(previous, next).length === 0) return next;
  return { ...next, webhookSequence: (previous?.webhookSequence ?? 0) + 1 };
}

/** The partner, and the customer once it took part: the tenants that see a relationship (as its audit, §9). */
function relationshipAudience(relationship: Relationship): string[] {
  const tenants = [relationship.partnerTenantId];
  if (relationship.customer && relationship.status !== 'created') tenants.push(relationship.customer.tenantId);
  return tenants;
}

const operationVerbs: Partial<Record<WebhookEventName, string>> = {
  'granular-admin-relationship-approved': 'approve',
  'granular-admin-relationship-activated': 'activate',
  'granular-admin-relationship-terminated': 'terminate',
  'granular-admin-relationship-expired': 'expire',
  'granular-admin-relationship-auto-extended': 'auto_extend',
  'granular-admin-relationship-expiring': 'warn_expiry',
  'granular-admin-access-assignment-created': 'create',
  'granular-admin-access-assignment-activated': 'activate',
  'granular-admin-access-assignment-updated': 'update',
  'granular-admin-access-assignment-deleted': 'delete',
  'support-access-request-created': 'create',
  'support-access-request-approved': 'approve',
  'support-access-request-removed': 'remove',
};

function relationshipAudit(
  eventName: WebhookEventName,
  relationship: Relationship,
  values: { oldValue: AuditedValue | null; newValue: AuditedValue | null },
  resourceType: AuditResourceType,
  initiatedBy: Initiator,
  at: string,
): AuditRecordContent {
  return {
    partnerId: relationship.partnerTenantId,
    customerId: relationship.customer?.tenantId ?? null,
    customerName: relationship.customer?.displayName ?? null,
    ...auditBy(initiatedBy),
    resourceType,
    ...values,
    operationType: `${operationVerbs[eventName]}_${resourceType}`,
    operationStatus: 'succeeded',
    operationDate: at,
  };
}

/** A resource's place in the events: who hears of it and where it is. */
interface EventResource {
  key: string;
  tenantIds: string[];
  resourceName: WebhookResourceName;
  resourcePath: string;
}

/** One change's events on one resource, in their order (the change's sequence, a step each), for each of its tenants. */
function changeEvents(
  names: readonly WebhookEventName[],
  resource: EventResource,
  sequence: number,
  at: string,
  audit: (eventName: WebhookEventName) => AuditRecordContent,
): WebhookEvent[] {
  const { key, tenantIds, resourceName, resourcePath } = resource;
  return tenantIds.flatMap((tenantId) =>
    names.map((eventName, step) => ({
      id: eventId('webhook', tenantId, eventName, key, String(sequence)),
      tenantId,
      eventName,
      resourceName,
      resourcePath,
      stream: { key, sequence, step },
      changedAt: at,
      audit: audit(eventName),
    })),
  );
}

/** The events of a relationship transition (`next` as `withWebhookSequence` returned it). */
export function relationshipWebhookEvents(
  previous: Relationship | undefined,
  next: Relationship | undefined,
  initiatedBy: Initiator,
  at: string,
): WebhookEvent[] {
  const names = relationshipEventNames(previous, next);
  if (!next || names.length === 0) return [];
  const resource: EventResource = {
    key: `rel:${next.id}`,
    tenantIds: relationshipAudience(next),
    resourceName: 'GranularAdminRelationship',
    resourcePath: resourcePaths.relationship(next.id),
  };
  const values = { oldValue: previous ?? null, newValue: next };
  return changeEvents(names, resource, (previous?.webhookSequence ?? 0) + 1, at, (eventName) =>
    relationshipAudit(eventName, next, values, 'granular_admin_relationship', initiatedBy, at),
  );
}

/**
 * The 30/7/1-day warning (SPEC §9) as an event, placed after the change that set the end date
 * and before the next one; its id depends only on the end date and the day count, so it is sent
 * once whatever runs the job.
 */
export function expiringWebhookEvents(relationship: Relationship, days: number, at: string): WebhookEvent[] {
  const eventName = 'granular-admin-relationship-expiring';
  const key = `rel:${relationship.id}`;
  return relationshipAudience(relationship).map((tenantId) => ({
    id: eventId('webhook', tenantId, eventName, key, relationship.endDateTime ?? '', String(days)),
    tenantId,
    eventName,
    resourceName: 'GranularAdminRelationship',
    resourcePath: resourcePaths.relationship(relationship.id),
    // Later warnings (fewer days left) come after earlier ones of the same end date.
    stream: { key, sequence: relationship.webhookSequence ?? 0, step: 1000 - days },
    changedAt: at,
    audit: relationshipAudit(
      eventName,
      relationship,
      { oldValue: relationship, newValue: relationship },
      'granular_admin_relationship',
      { kind: 'system' },
      at,
    ),
  }));
}

/** Every assignment change sends an event (created, updated or deleted), so every change moves it on. */
export function nextAssignmentSequence(previous: AccessAssignment | undefined): number {
  return (previous?.webhookSequence ?? 0) + 1;
}

/**
 * The events of an assignment change: created (and activated, as assignments are active at once),
 * updated (roles), or deleted, also when a relationship's end or a role removal deletes it.
 * `next.webhookSequence` is its sequence (`nextAssignmentSequence`). Assignments are the partner's own.
 */
export function assignmentWebhookEvents(
  relationship: Relationship,
  previous: AccessAssignment | undefined,
  next: AccessAssignment,
  initiatedBy: Initiator,
  at: string,
): WebhookEvent[] {
  const names: WebhookEventName[] = !previous
    ? ['granular-admin-access-assignment-created', 'granular-admin-access-assignment-activated']
    : next.status === 'deleted'
      ? ['granular-admin-access-assignment-deleted']
      : ['granular-admin-access-assignment-updated'];
  const resource: EventResource = {
    key: `asg:${next.id}`,
    tenantIds: [relationship.partnerTenantId],
    resourceName: 'GranularAdminAccessAssignment',
    resourcePath: resourcePaths.assignment(relationship.id, next.id),
  };
  const values = { oldValue: previous ?? null, newValue: next };
  const sequence = next.webhookSequence ?? nextAssignmentSequence(previous);
  return changeEvents(names, resource, sequence, at, (eventName) =>
    relationshipAudit(eventName, relationship, values, 'granular_admin_access_assignment', initiatedBy, at),
  );
}

// ---------------------------------------------------------------------------------------------
// DAP, test events
// ---------------------------------------------------------------------------------------------

/** A partner removed a DAP relationship (SPEC §6); the DAP's creation time tells removals apart. */
export function dapTerminatedWebhookEvent(
  dap: { partnerTenantId: string; customerTenantId: string; createdDateTime: string },
  at: string,
): WebhookEvent {
  const eventName = 'dap-admin-relationship-terminated';
  const key = `dap:${dap.customerTenantId}`;
  return {
    id: eventId('webhook', dap.partnerTenantId, eventName, dap.customerTenantId, dap.createdDateTime),
    tenantId: dap.partnerTenantId,
    eventName,
    resourceName: 'DelegatedAdminRelationship',
    resourcePath: resourcePaths.dap(dap.customerTenantId),
    stream: { key, sequence: 0, step: 0 },
    changedAt: at,
  };
}

/** The `test-created` event a validation sends to its tenant alone. */
export function testWebhookEvent(tenantId: string, correlationId: string, at: string): WebhookEvent {
  const eventName = 'test-created';
  return {
    id: eventId('webhook', tenantId, eventName, correlationId),
    tenantId,
    eventName,
    resourceName: 'test',
    resourcePath: resourcePaths.validationEvent(correlationId),
    stream: { key: `test:${correlationId}`, sequence: 0, step: 0 },
    changedAt: at,
  };
}

// ---------------------------------------------------------------------------------------------
// Support access requests (SPEC §8.3): each event only to the tenant entitled to see it
// ---------------------------------------------------------------------------------------------

/**
 * The events of a support case change, derived from what it does to access requests and
 * approvals: a new request (created) and its approval (approved) to the support request tenant;
 * the approval (approved, then removed) to the resource tenant only, so the support request tenant
 * never learns of a removal. Both resources move through fixed states, so their position is the
 * state's: created 1, approved 2; approval approved 1, removed 2. The change's time is the changed
 * item's `lastModifiedDateTime`.
 */
export function caseWebhookEvents(before: SupportCase, change: CaseChange): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  const initiator = (targetId: string): Initiator =>
    change.audits.find((audit) => audit.target.id === targetId)?.initiatedBy ?? { kind: 'system' };
  const partnerOf = before.request.createdBy.viaPartner ? before.request.createdBy.tenantId : null;
  const record = (
    eventName: WebhookEventName,
    resourceType: AuditResourceType,
    customerId: string,
    oldValue: AuditedValue | null,
    newValue: AuditedValue,
  ): AuditRecordContent => ({
    partnerId: partnerOf,
    customerId,
    customerName: null,
    ...auditBy(initiator(newValue.id)),
    resourceType,
    oldValue,
    newValue,
    operationType: `${operationVerbs[eventName]}_${resourceType}`,
    operationStatus: 'succeeded',
    operationDate: newValue.lastModifiedDateTime,
  });

  for (const next of change.accessRequests) {
    const previous = before.accessRequests.find((item) => item.id === next.id);
    const eventName: WebhookEventName | undefined =
      !previous && next.status === 'pending'
        ? 'support-access-request-created'
        : previous?.status === 'pending' && next.status === 'approved'
          ? 'support-access-request-approved'
          : undefined;
    if (!eventName) continue;
    const key = `areq:${next.id}`;
    const sequence = eventName === 'support-access-request-created' ? 1 : 2;
    events.push({
      id: eventId('webhook', next.supportRequestTenantId, eventName, key),
      tenantId: next.supportRequestTenantId,
      eventName,
      resourceName: 'SupportAccessRequest',
      resourcePath: resourcePaths.accessRequest(next.id),
      stream: { key, sequence, step: 0 },
      changedAt: next.lastModifiedDateTime,
      audit: record(eventName, 'support_access_request', next.supportRequestTenantId, previous ?? null, next),
    });
  }
  for (const next of change.approvals) {
    const previous = before.approvals.find((item) => item.id === next.id);
    const approved = !previous && next.status === 'approved';
    const removed = previous?.status === 'approved' && next.status === 'removed';
    // One tenant on both sides already hears of the approval through its access request.
    if (!(removed || (approved && next.resourceTenantId !== next.supportRequestTenantId))) continue;
    const eventName = removed ? 'support-access-request-removed' : 'support-access-request-approved';
    const key = `apr:${next.id}`;
    events.push({
      id: eventId('webhook', next.resourceTenantId, eventName, key),
      tenantId: next.resourceTenantId,
      eventName,
      resourceName: 'SupportAccessApproval',
      resourcePath: resourcePaths.accessApproval(next.id),
      stream: { key, sequence: removed ? 2 : 1, step: 0 },
      changedAt: next.lastModifiedDateTime,
      audit: record(eventName, 'support_access_approval', next.resourceTenantId, previous ?? null, next),
    });
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// The body a receiver gets
// ---------------------------------------------------------------------------------------------

/** Partner Center's event body (SPEC §16); `auditId` names the audit record, if the event has one. */
export function eventBody(event: WebhookEvent, baseUrl: string, auditId: string | undefined): string {
  return JSON.stringify({
    EventName: event.eventName,
    ResourceUri: `${baseUrl}${event.resourcePath}`,
    ResourceName: event.resourceName,
    AuditUri: auditId ? `${baseUrl}${auditRecordPath(auditId)}` : null,
    ResourceChangeUtcDate: event.changedAt,
  });
}

// ---------------------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------------------

export interface Registration {
  tenantId: string;
  subscriberId: string;
  webhookUrl: string;
  webhookEvents: WebhookEventName[];
  /** Send the signature in `x-ms-signature` instead of `Authorization: Signature …`. */
  signatureTokenToMsSignatureHeader: boolean;
  /** The base URL the registration was last written through: events from timers use it (SPEC §16). */
  origin: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
}

const registrationSchema = z.strictObject({
  WebhookUrl: z.string(),
  WebhookEvents: z.array(z.string()),
  SignatureTokenToMsSignatureHeader: z.boolean().optional(),
  // A client may send back what GET returned; the id is the service's, whatever it says.
  SubscriberId: z.string().optional(),
});

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https only; http to a loopback host (a receiver on the developer's machine) in sandbox mode. */
function validWebhookUrl(value: string, sandboxMode: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`'WebhookUrl' must be an absolute URL, not '${value}'.`);
  }
  if (url.username || url.password) throw invalid(`'WebhookUrl' must not carry credentials.`);
  if (url.protocol === 'https:') return url.toString();
  if (url.protocol === 'http:' && sandboxMode && (loopbackHosts.has(url.hostname) || /^127\./.test(url.hostname))) {
    return url.toString();
  }
  throw invalid(
    sandboxMode
      ? `'WebhookUrl' must use https (http is allowed for localhost, 127.0.0.1 and [::1] in sandbox mode).`
      : `'WebhookUrl' must use https.`,
  );
}

/** A POST or PUT body as a registration; unknown event names are refused (400). */
export function registrationFromBody(
  body: unknown,
  context: {
    tenantId: string;
    subscriberId: string;
    origin: string;
    at: string;
    sandboxMode: boolean;
    previous?: Registration;
  },
): Registration {
  const input = parsePartnerCenterBody(registrationSchema, body);
  const known = new Map(webhookEventNames.map((name) => [name.toLowerCase(), name]));
  const events: WebhookEventName[] = [];
  for (const name of input.WebhookEvents) {
    const eventName = known.get(name.trim().toLowerCase());
    if (!eventName) {
      throw invalid(
        `'${name}' is not a webhook event of this service: GET /webhooks/v1/registration/events lists them.`,
      );
    }
    if (!events.includes(eventName)) events.push(eventName);
  }
  if (events.length === 0) throw invalid(`'WebhookEvents' must name at least one event.`);
  return {
    tenantId: context.tenantId,
    subscriberId: context.subscriberId,
    webhookUrl: validWebhookUrl(input.WebhookUrl.trim(), context.sandboxMode),
    webhookEvents: events,
    signatureTokenToMsSignatureHeader: input.SignatureTokenToMsSignatureHeader ?? false,
    origin: context.origin,
    createdDateTime: context.previous?.createdDateTime ?? context.at,
    lastModifiedDateTime: context.at,
  };
}

export function subscribes(registration: Registration, eventName: WebhookEventName): boolean {
  return registration.webhookEvents.includes(eventName);
}

/** The events each kind of resource sends, in its ordered stream. */
const streamEvents: Record<WebhookResourceName, readonly WebhookEventName[]> = {
  GranularAdminRelationship: [
    'granular-admin-relationship-approved',
    'granular-admin-relationship-activated',
    'granular-admin-relationship-terminated',
    'granular-admin-relationship-expired',
    'granular-admin-relationship-auto-extended',
    'granular-admin-relationship-expiring',
  ],
  GranularAdminAccessAssignment: [
    'granular-admin-access-assignment-created',
    'granular-admin-access-assignment-activated',
    'granular-admin-access-assignment-updated',
    'granular-admin-access-assignment-deleted',
  ],
  DelegatedAdminRelationship: ['dap-admin-relationship-terminated'],
  SupportAccessRequest: ['support-access-request-created', 'support-access-request-approved'],
  SupportAccessApproval: ['support-access-request-approved', 'support-access-request-removed'],
  test: ['test-created'],
};

/**
 * Whether an event the registration does not subscribe to is still recorded (as `skipped`): when
 * it subscribes to other events of the same ordered stream, whose later events would otherwise
 * wait for it as for a missing one (`nextDeliveryStep`).
 */
export function recordsSkipped(registration: Registration, event: WebhookEvent): boolean {
  return event.stream.sequence > 0 && streamEvents[event.resourceName].some((name) => subscribes(registration, name));
}

// ---------------------------------------------------------------------------------------------
// Deliveries
// ---------------------------------------------------------------------------------------------

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'skipped' | 'canceled';
export const deliveryStatuses: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'skipped', 'canceled'];

export interface DeliveryAttempt {
  responseCode: number | null;
  responseMessage: string | null;
  /** Why no answer came (timeout, refused connection), if none did. */
  systemError: string | null;
  dateTimeUtc: string;
}

/** One event on its way to one tenant's receiver. Times in ms are real time, never the sandbox clock. */
export interface Delivery {
  tenantId: string;
  eventId: string;
  eventName: WebhookEventName;
  subscriberId: string;
  stream: StreamPosition;
  resourceUri: string;
  /** The exact bytes signed and sent, the same on every attempt. */
  body: string;
  baseUrl: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  publishedAtMs: number;
  nextAttemptAtMs: number;
  /** An attempt is under way until then (its sender's claim). */
  leaseUntilMs: number;
}

export const maxDeliveryAttempts = 10;

export interface RetrySettings {
  retrySeconds: number;
  retryMaxSeconds: number;
  timeoutSeconds: number;
}

/** The n-th retry (after n failed attempts) waits min(retry × 2^(n-1), max) seconds (SPEC §16). */
export function retryDelaySeconds(failedAttempts: number, settings: RetrySettings): number {
  return Math.min(settings.retrySeconds * 2 ** (failedAttempts - 1), settings.retryMaxSeconds);
}

/**
 * How long a later event of a resource waits for an earlier one that has not arrived yet (a
 * change whose events a crash left to the publishEvents job, which runs within about 3 minutes).
 */
export const gapWaitMs = 5 * 60_000;

export type DeliveryStep =
  /** Nothing to do now: no pending delivery. */
  | { kind: 'idle' }
  /** The registration is gone or was replaced: the delivery is dropped. */
  | { kind: 'cancel'; delivery: Delivery }
  /**
   * Look again after `waitMs`: the first pending delivery waits for its retry, for another
   * sender's attempt (which carries on with the stream, unless its instance died), or for an
   * earlier event still on its way.
   */
  | { kind: 'wait'; waitMs: number }
  | { kind: 'attempt'; delivery: Delivery };

/**
 * What to do next with one tenant's deliveries of one resource (`stream`, in stream order): the
 * first pending one goes first, and nothing after it goes before it is delivered or dead-lettered.
 */
export function nextDeliveryStep(
  stream: readonly Delivery[],
  registration: Registration | undefined,
  nowMs: number,
): DeliveryStep {
  const headIndex = stream.findIndex((delivery) => delivery.status === 'pending');
  if (headIndex < 0) return { kind: 'idle' };
  const head = stream[headIndex];
  if (!registration || registration.subscriberId !== head.subscriberId) return { kind: 'cancel', delivery: head };
  const notBefore = Math.max(head.leaseUntilMs, head.nextAttemptAtMs);
  if (notBefore > nowMs) return { kind: 'wait', waitMs: notBefore - nowMs };
  const before = stream.slice(0, headIndex).filter((delivery) => delivery.subscriberId === head.subscriberId);
  const previous = before[before.length - 1];
  const missing = head.stream.sequence > 0 && previous && previous.stream.sequence < head.stream.sequence - 1;
  const waited = nowMs - head.publishedAtMs;
  if (missing && waited < gapWaitMs) return { kind: 'wait', waitMs: Math.min(5_000, gapWaitMs - waited) };
  return { kind: 'attempt', delivery: head };
}

/** The delivery after one attempt: delivered on a 2xx, dead-lettered after the tenth failure, else retried. */
export function afterAttempt(
  delivery: Delivery,
  attempt: DeliveryAttempt,
  nowMs: number,
  settings: RetrySettings,
): Delivery {
  const attempts = [...delivery.attempts, attempt];
  const ok = attempt.responseCode !== null && attempt.responseCode >= 200 && attempt.responseCode < 300;
  if (ok) return { ...delivery, attempts, status: 'delivered', leaseUntilMs: 0 };
  if (attempts.length >= maxDeliveryAttempts) return { ...delivery, attempts, status: 'failed', leaseUntilMs: 0 };
  const waitMs = Math.round(retryDelaySeconds(attempts.length, settings) * 1000);
  return { ...delivery, attempts, leaseUntilMs: 0, nextAttemptAtMs: nowMs + waitMs };
}

/** The dead-letter listing's last error (SPEC §16). */
export function lastError(delivery: Delivery): { responseCode?: number; message: string } | null {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last || delivery.status === 'delivered') return null;
  return {
    ...(last.responseCode !== null ? { responseCode: last.responseCode } : {}),
    message: last.systemError ?? last.responseMessage ?? `HTTP ${last.responseCode}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Validation events
// ---------------------------------------------------------------------------------------------

/** At most two validations a minute per tenant, as Partner Center allows (SPEC §16). */
export const validationsPerMinute = 2;
const validationWindowMs = 60_000;

export type ValidationAdmission =
  /** Admitted: `times` are the validations of the last minute, this one included, to store. */
  | { admitted: true; times: number[] }
  /** Too many: try again after this many seconds. */
  | { admitted: false; retryAfterSeconds: number };

/** Whether one more validation fits the last minute's (`times`: when each was admitted, real time). */
export function admitValidation(times: readonly number[], nowMs: number): ValidationAdmission {
  const recent = times.filter((time) => nowMs - time < validationWindowMs).sort((a, b) => a - b);
  if (recent.length < validationsPerMinute) return { admitted: true, times: [...recent, nowMs] };
  const waitMs = recent[recent.length - validationsPerMinute] + validationWindowMs - nowMs;
  return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}
