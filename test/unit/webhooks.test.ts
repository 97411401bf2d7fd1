import { DateTime } from 'luxon';
import {
  AccessAssignment,
  assignmentsAfter,
  createAssignment,
  deleteAssignment,
  updateAssignmentRoles,
} from '../../shared/domain/assignments';
import { eventsOf } from '../../shared/domain/events';
import { Relationship } from '../../shared/domain/relationships';
import { AccessApproval, AccessRequest, CaseChange, SupportCase, SupportRequest } from '../../shared/domain/support';
import { toGraphDateTime } from '../../shared/domain/time';
import {
  admitValidation,
  afterAttempt,
  assignmentWebhookEvents,
  caseWebhookEvents,
  Delivery,
  DeliveryAttempt,
  eventBody,
  expiringWebhookEvents,
  gapWaitMs,
  maxDeliveryAttempts,
  nextDeliveryStep,
  Registration,
  registrationFromBody,
  relationshipWebhookEvents,
  retryDelaySeconds,
  withWebhookSequence,
} from '../../shared/domain/webhooks';

const t0 = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });
const iso = (instant: DateTime): string => toGraphDateTime(instant);
const exchange = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const intune = '3a2c62db-5318-420d-8d74-23affee5d9d5';
const partner = 'b0000000-0000-0000-0000-000000000000';
const customer = 'c0000000-0000-0000-0000-000000000000';
const user = { kind: 'user' as const, tenantId: customer, userId: 'd0000000-0000-0000-0000-000000000000' };

function relationship(overrides: Partial<Relationship> = {}): Relationship {
  return {
    id: `a0000000-0000-0000-0000-000000000000-${partner}`,
    partnerTenantId: partner,
    displayName: 'Contoso',
    duration: 'P365D',
    autoExtendDuration: 'PT0S',
    customer: { tenantId: customer, displayName: 'Contoso Ltd' },
    roleIds: [exchange, intune],
    status: 'approvalPending',
    createdDateTime: iso(t0),
    lastModifiedDateTime: iso(t0),
    activatedDateTime: null,
    endDateTime: null,
    lockedDateTime: iso(t0),
    ...overrides,
  };
}

const names = (events: { eventName: string }[]) => events.map((event) => event.eventName);
const forTenant = <T extends { tenantId: string }>(events: T[], tenantId: string) =>
  events.filter((event) => event.tenantId === tenantId);

describe('relationship webhook events', () => {
  const pending = relationship();
  const active = withWebhookSequence(pending, {
    ...pending,
    status: 'active',
    activatedDateTime: iso(t0),
    endDateTime: iso(t0.plus({ days: 365 })),
  });

  it('sends approved then activated on approval, to the partner and the customer, in one change’s place of the stream', () => {
    const all = relationshipWebhookEvents(pending, active, user, iso(t0));
    const events = forTenant(all, partner);
    expect(names(events)).toEqual(['granular-admin-relationship-approved', 'granular-admin-relationship-activated']);
    expect(events.map((event) => event.stream)).toEqual([
      { key: `rel:${active.id}`, sequence: 1, step: 0 },
      { key: `rel:${active.id}`, sequence: 1, step: 1 },
    ]);
    // One event per tenant: the customer gets the same two, with ids of its own.
    expect(names(forTenant(all, customer))).toEqual(names(events));
    expect(all).toHaveLength(4);
    expect(new Set(all.map((event) => event.id)).size).toBe(4);
    expect(events[0].audit).toMatchObject({
      partnerId: partner,
      customerId: customer,
      customerName: 'Contoso Ltd',
      resourceType: 'granular_admin_relationship',
      oldValue: pending,
      newValue: active,
      operationType: 'approve_granular_admin_relationship',
    });
    // Through eventsOf, as every write path derives a change's events.
    expect(eventsOf(pending, active, user, iso(t0)).webhooks).toEqual(all);
  });

  it('fixes ids by the transition: the same change gives the same ids, a later one new ones', () => {
    const once = relationshipWebhookEvents(pending, active, user, iso(t0));
    const again = relationshipWebhookEvents(pending, active, user, iso(t0.plus({ seconds: 5 })));
    expect(again.map((event) => event.id)).toEqual(once.map((event) => event.id));
    const terminated = withWebhookSequence(active, { ...active, status: 'terminated' });
    const [termination] = forTenant(relationshipWebhookEvents(active, terminated, user, iso(t0)), partner);
    expect(termination).toMatchObject({ eventName: 'granular-admin-relationship-terminated', stream: { sequence: 2 } });
    expect(once.map((event) => event.id)).not.toContain(termination.id);
  });

  it('moves the sequence on only for changes that send events', () => {
    expect(active.webhookSequence).toBe(1);
    const renamed = withWebhookSequence(active, { ...active, displayName: 'Renamed' });
    expect(renamed.webhookSequence).toBe(1);
    expect(relationshipWebhookEvents(active, renamed, user, iso(t0))).toEqual([]);
    const locked = withWebhookSequence(relationship({ status: 'created' }), pending);
    expect(locked.webhookSequence).toBeUndefined();
  });

  it('names each transition: born active, auto-extended, expired, terminated before approval', () => {
    const partnerEvents = (previous: Relationship | undefined, next: Relationship | undefined) =>
      names(forTenant(relationshipWebhookEvents(previous, next, user, iso(t0)), partner));
    expect(partnerEvents(undefined, relationship({ status: 'active' }))).toEqual([
      'granular-admin-relationship-activated',
    ]);
    const extended = { ...active, endDateTime: iso(t0.plus({ days: 545 })) };
    expect(partnerEvents(active, extended)).toEqual(['granular-admin-relationship-auto-extended']);
    expect(partnerEvents(active, { ...active, status: 'expired' })).toEqual(['granular-admin-relationship-expired']);
    expect(partnerEvents(pending, { ...pending, status: 'terminated' })).toEqual([
      'granular-admin-relationship-terminated',
    ]);

    expect(relationshipWebhookEvents(active, undefined, user, iso(t0))).toEqual([]);
  });

  it('orders the expiry warnings of one end date after the change that set it, fewer days later', () => {
    const [thirty] = expiringWebhookEvents(active, 30, iso(t0));
    const [one] = expiringWebhookEvents(active, 1, iso(t0));
    expect(thirty.stream).toEqual({ key: `rel:${active.id}`, sequence: 1, step: 970 });
    expect(one.stream.step).toBeGreaterThan(thirty.stream.step);
    // Sent once whatever runs the job: the id is the end date's and the day count's.
    expect(expiringWebhookEvents(active, 30, iso(t0.plus({ hours: 1 })))[0].id).toBe(thirty.id);
    expect(expiringWebhookEvents(active, 30, iso(t0)).map((event) => event.tenantId)).toEqual([partner, customer]);
  });

  it('renders the Partner Center body, with the audit record only when there is one', () => {
    const [approved] = relationshipWebhookEvents(pending, active, user, iso(t0));
    expect(approved.tenantId).toBe(partner);
    expect(JSON.parse(eventBody(approved, 'https://gdap.example.com', approved.id))).toEqual({
      EventName: 'granular-admin-relationship-approved',
      ResourceUri: `https://gdap.example.com/v1.0/tenantRelationships/delegatedAdminRelationships/${active.id}`,
      ResourceName: 'GranularAdminRelationship',
      AuditUri: `https://gdap.example.com/auditactivity/v1/auditrecords/${approved.id}`,
      ResourceChangeUtcDate: iso(t0),
    });
    expect(JSON.parse(eventBody(approved, 'https://gdap.example.com', undefined)).AuditUri).toBeNull();
  });
});

describe('assignment webhook events', () => {
  const active = relationship({ status: 'active', webhookSequence: 1 });
  const body = {
    accessContainer: { accessContainerId: 'e0000000-0000-0000-0000-000000000000' },
    accessDetails: { unifiedRoles: [{ roleDefinitionId: exchange }] },
  };

  it('moves an assignment’s sequence on with every change, termination included', () => {
    const created = createAssignment(body, active, [], 'f0000000-0000-0000-0000-000000000000', t0);
    expect(created.webhookSequence).toBe(1);
    const updated = updateAssignmentRoles(
      created,
      { accessDetails: { unifiedRoles: [{ roleDefinitionId: exchange }, { roleDefinitionId: intune }] } },
      active,
      t0,
    );
    expect(updated?.webhookSequence).toBe(2);
    expect(deleteAssignment(updated!, active, t0).webhookSequence).toBe(3);
    const [ended] = assignmentsAfter({ ...active, status: 'terminated' }, [updated!], iso(t0));
    expect(ended).toMatchObject({ status: 'deleted', webhookSequence: 3 });

    const positions = (previous: AccessAssignment | undefined, next: AccessAssignment) =>
      assignmentWebhookEvents(active, previous, next, user, iso(t0)).map((event) => [
        event.eventName,
        event.stream.sequence,
        event.stream.step,
        event.tenantId,
      ]);
    expect(positions(undefined, created)).toEqual([
      ['granular-admin-access-assignment-created', 1, 0, partner],
      ['granular-admin-access-assignment-activated', 1, 1, partner],
    ]);
    expect(positions(created, updated!)).toEqual([['granular-admin-access-assignment-updated', 2, 0, partner]]);
    expect(positions(updated!, ended)).toEqual([['granular-admin-access-assignment-deleted', 3, 0, partner]]);
  });
});

describe('support access request webhook events', () => {
  const a = 'a1000000-0000-0000-0000-000000000000';
  const b = 'b1000000-0000-0000-0000-000000000000';
  const request = {
    id: 'e1000000-0000-0000-0000-000000000000',
    tenantId: a,
    createdBy: { tenantId: a, userId: 'x', viaPartner: false },
  } as SupportRequest;
  const accessRequest = {
    id: 'r',
    supportRequestId: request.id,
    supportRequestTenantId: a,
    resourceTenantId: b,
    status: 'pending',
    lastModifiedDateTime: iso(t0),
  } as AccessRequest;
  const approval = {
    id: 'p',
    supportRequestTenantId: a,
    resourceTenantId: b,
    status: 'approved',
    lastModifiedDateTime: iso(t0),
  } as AccessApproval;
  const change = (overrides: Partial<CaseChange>): CaseChange => ({
    accessRequests: [],
    approvals: [],
    audits: [],
    ...overrides,
  });
  const before = (overrides: Partial<SupportCase> = {}): SupportCase => ({
    request,
    accessRequests: [],
    approvals: [],
    ...overrides,
  });

  it('tells the support request tenant of its request, the resource tenant of its approval, and never the other way', () => {
    const created = caseWebhookEvents(before(), change({ accessRequests: [accessRequest] }));
    expect(created.map((event) => [event.eventName, event.tenantId])).toEqual([['support-access-request-created', a]]);

    const approved = caseWebhookEvents(
      before({ accessRequests: [accessRequest] }),
      change({ accessRequests: [{ ...accessRequest, status: 'approved' }], approvals: [approval] }),
    );
    expect(
      approved.map((event) => [event.eventName, event.resourceName, event.tenantId, event.stream.sequence]),
    ).toEqual([
      ['support-access-request-approved', 'SupportAccessRequest', a, 2],
      ['support-access-request-approved', 'SupportAccessApproval', b, 1],
    ]);

    const removed = caseWebhookEvents(
      before({ approvals: [approval] }),
      change({ approvals: [{ ...approval, status: 'removed' }] }),
    );
    expect(removed.map((event) => [event.eventName, event.tenantId])).toEqual([['support-access-request-removed', b]]);
    // Closing the request completes things: no event (SPEC §16 names none).
    expect(
      caseWebhookEvents(
        before({ approvals: [approval] }),
        change({ approvals: [{ ...approval, status: 'completed' }] }),
      ),
    ).toEqual([]);
  });

  it('sends one approval event when one tenant is on both sides', () => {
    const sameTenant = { ...accessRequest, resourceTenantId: a };
    const events = caseWebhookEvents(
      before({ accessRequests: [sameTenant] }),
      change({
        accessRequests: [{ ...sameTenant, status: 'approved' }],
        approvals: [{ ...approval, resourceTenantId: a }],
      }),
    );
    expect(names(events)).toEqual(['support-access-request-approved']);
  });
});

describe('delivery schedule', () => {
  const settings = { retrySeconds: 30, retryMaxSeconds: 3600, timeoutSeconds: 10 };
  const registration = { subscriberId: 's1' } as Registration;
  const delivery = (sequence: number, overrides: Partial<Delivery> = {}): Delivery => ({
    tenantId: partner,
    eventId: `e${sequence}`,
    eventName: 'granular-admin-relationship-approved',
    subscriberId: 's1',
    stream: { key: 'rel:x', sequence, step: 0 },
    resourceUri: 'https://x',
    body: '{}',
    baseUrl: 'https://x',
    status: 'pending',
    attempts: [],
    publishedAtMs: 0,
    nextAttemptAtMs: 0,
    leaseUntilMs: 0,
    ...overrides,
  });
  const failure = (code = 500): DeliveryAttempt => ({
    responseCode: code,
    responseMessage: 'no',
    systemError: null,
    dateTimeUtc: iso(t0),
  });

  it('waits min(30 × 2^(n-1), 3600) seconds before the n-th retry', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => retryDelaySeconds(n, settings))).toEqual([
      30, 60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]);
    expect(retryDelaySeconds(3, { ...settings, retrySeconds: 0.5, retryMaxSeconds: 1.5 })).toBe(1.5);
  });

  it('retries after a failure, ends on a 2xx, and dead-letters the tenth failure', () => {
    const once = afterAttempt(delivery(1), failure(), 1000, settings);
    expect(once).toMatchObject({ status: 'pending', nextAttemptAtMs: 31_000, leaseUntilMs: 0 });
    expect(afterAttempt(once, failure(204), 2000, settings).status).toBe('delivered');
    let current = delivery(1);
    for (let attempt = 1; attempt <= maxDeliveryAttempts; attempt++)
      current = afterAttempt(current, failure(), 0, settings);
    expect(current).toMatchObject({ status: 'failed' });
    expect(current.attempts).toHaveLength(10);
    // A redirect or a timeout is no delivery either.
    expect(afterAttempt(delivery(1), failure(302), 0, settings).status).toBe('pending');
    expect(
      afterAttempt(delivery(1), { ...failure(), responseCode: null, systemError: 'timeout' }, 0, settings).status,
    ).toBe('pending');
  });

  it('sends a resource’s first pending delivery first, and nothing after it before it is done', () => {
    const stream = [delivery(1, { status: 'delivered' }), delivery(2), delivery(3)];
    expect(nextDeliveryStep(stream, registration, 0)).toEqual({ kind: 'attempt', delivery: stream[1] });
    const retrying = [stream[0], delivery(2, { nextAttemptAtMs: 5000 }), stream[2]];
    expect(nextDeliveryStep(retrying, registration, 1000)).toEqual({ kind: 'wait', waitMs: 4000 });
    const underWay = [stream[0], delivery(2, { leaseUntilMs: 5000 }), stream[2]];
    // Another sender's attempt: looked at again once its claim has run out, should its instance die.
    expect(nextDeliveryStep(underWay, registration, 1000)).toEqual({ kind: 'wait', waitMs: 4000 });
    expect(nextDeliveryStep([delivery(1, { status: 'failed' }), delivery(2)], registration, 0)).toMatchObject({
      kind: 'attempt',
    });
    expect(nextDeliveryStep([delivery(1, { status: 'delivered' })], registration, 0)).toEqual({ kind: 'idle' });
  });

  it('waits for an earlier event still on its way, but not forever', () => {
    const gap = [delivery(1, { status: 'delivered' }), delivery(3, { publishedAtMs: 1000 })];
    expect(nextDeliveryStep(gap, registration, 2000)).toEqual({ kind: 'wait', waitMs: 5000 });
    expect(nextDeliveryStep(gap, registration, 1000 + gapWaitMs)).toMatchObject({ kind: 'attempt' });
    // A skipped event fills its place; the first event of a stream waits for nothing.
    expect(nextDeliveryStep([delivery(1, { status: 'skipped' }), delivery(2)], registration, 0)).toMatchObject({
      kind: 'attempt',
    });
    expect(nextDeliveryStep([delivery(7)], registration, 0)).toMatchObject({ kind: 'attempt' });
  });

  it('drops what was pending for a registration that is gone or was replaced', () => {
    expect(nextDeliveryStep([delivery(1)], undefined, 0)).toMatchObject({ kind: 'cancel' });
    expect(nextDeliveryStep([delivery(1)], { subscriberId: 's2' } as Registration, 0)).toMatchObject({
      kind: 'cancel',
    });
  });
});

describe('registrations', () => {
  const context = {
    tenantId: partner,
    subscriberId: 's',
    origin: 'https://gdap.example.com',
    at: iso(t0),
    sandboxMode: false,
  };

  it('takes known event names in any case, once each', () => {
    const registration = registrationFromBody(
      { webhookUrl: 'https://r.example.com/e', webhookEvents: ['Test-Created', 'test-created'] },
      context,
    );
    expect(registration).toMatchObject({ webhookUrl: 'https://r.example.com/e', webhookEvents: ['test-created'] });
    expect(() =>
      registrationFromBody({ WebhookUrl: 'https://r.example.com', WebhookEvents: ['nope'] }, context),
    ).toThrow(/not a webhook event/);
  });

  it('wants https, allowing http to loopback hosts in sandbox mode only', () => {
    const body = (url: string) => ({ WebhookUrl: url, WebhookEvents: ['test-created'] });
    expect(() => registrationFromBody(body('http://127.0.0.1:8080/e'), context)).toThrow(/https/);
    expect(registrationFromBody(body('http://127.0.0.1:8080/e'), { ...context, sandboxMode: true }).webhookUrl).toBe(
      'http://127.0.0.1:8080/e',
    );
    expect(registrationFromBody(body('http://localhost/e'), { ...context, sandboxMode: true }).webhookUrl).toBe(
      'http://localhost/e',
    );
    expect(() => registrationFromBody(body('http://example.com/e'), { ...context, sandboxMode: true })).toThrow(
      /https/,
    );
    expect(() => registrationFromBody(body('https://user:pw@example.com/e'), context)).toThrow(/credentials/);
  });
});

describe('validation events', () => {
  it('admits two a minute per tenant and says when the next one fits', () => {
    const first = admitValidation([], 1000);
    expect(first).toEqual({ admitted: true, times: [1000] });
    const second = admitValidation([1000], 5000);
    expect(second).toEqual({ admitted: true, times: [1000, 5000] });
    expect(admitValidation([1000, 5000], 20_000)).toEqual({ admitted: false, retryAfterSeconds: 41 });
    // A minute after the first, one fits again; times older than a minute are dropped.
    expect(admitValidation([1000, 5000], 61_000)).toEqual({ admitted: true, times: [5000, 61_000] });
  });
});
