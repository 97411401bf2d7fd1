import { DateTime } from 'luxon';
import { eventsOf, expiryWarnings } from '../../shared/domain/events';
import { DueEntry } from '../../shared/domain/jobs';
import {
  dueEntriesFor,
  expireIfApprovalLapsed,
  expiryWarningDue,
  isCurrentExpiryWarning,
  nextExpiryWarning,
  processEndDate,
  purgeDue,
  willAutoExtend,
} from '../../shared/domain/maintenance';
import { Relationship } from '../../shared/domain/relationships';
import { globalAdministratorRoleId } from '../../shared/domain/roles';
import { toGraphDateTime } from '../../shared/domain/time';
import { roles } from '../fixtures';

const t0 = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' });
const iso = (instant: DateTime): string => toGraphDateTime(instant);
const exchange = roles.exchangeAdministrator;

function relationship(overrides: Partial<Relationship> = {}): Relationship {
  return {
    id: 'a0000000-0000-0000-0000-000000000000-b0000000-0000-0000-0000-000000000000',
    partnerTenantId: 'b0000000-0000-0000-0000-000000000000',
    displayName: 'Contoso',
    duration: 'P365D',
    autoExtendDuration: 'PT0S',
    customer: { tenantId: 'c0000000-0000-0000-0000-000000000000', displayName: 'Contoso Ltd' },
    roleIds: [exchange],
    status: 'active',
    createdDateTime: iso(t0),
    lastModifiedDateTime: iso(t0),
    activatedDateTime: iso(t0),
    endDateTime: iso(t0.plus({ days: 365 })),
    lockedDateTime: iso(t0),
    ...overrides,
  };
}

describe('approval window (90 days)', () => {
  const pending = relationship({ status: 'approvalPending', activatedDateTime: null, endDateTime: null });

  it('leaves a request alone on day 89 and expires it on day 90, ending at the lapse', () => {
    expect(expireIfApprovalLapsed(pending, t0.plus({ days: 89, hours: 23, minutes: 59 }))).toBeUndefined();
    expect(expireIfApprovalLapsed(pending, t0.plus({ days: 90 }))).toMatchObject({
      status: 'expired',
      endDateTime: '2026-04-01T00:00:00.0000000Z',
    });
  });

  it('ignores relationships no longer pending', () => {
    expect(expireIfApprovalLapsed({ ...pending, status: 'active' }, t0.plus({ days: 200 }))).toBeUndefined();
  });
});

describe('end dates', () => {
  it('expires at the end date exactly when it will not auto-extend', () => {
    const active = relationship();
    const end = t0.plus({ days: 365 });
    expect(processEndDate(active, end.minus({ milliseconds: 1 }))).toBeUndefined();
    expect(processEndDate(active, end)).toMatchObject({ status: 'expired', endDateTime: active.endDateTime });
  });

  it('extends by exactly 180 days with P180D and no Global Administrator (SPEC §4 example)', () => {
    const active = relationship({ autoExtendDuration: 'P180D' });
    expect(processEndDate(active, DateTime.fromISO('2027-01-01T00:00:00Z', { zone: 'utc' }))).toMatchObject({
      status: 'active',
      endDateTime: '2027-06-30T00:00:00.0000000Z',
    });
  });

  it('catches up in 180-day steps when the job was down past several end dates', () => {
    const active = relationship({ autoExtendDuration: 'P180D' });
    const next = processEndDate(active, t0.plus({ days: 365 + 200 }));
    expect(next?.endDateTime).toBe(iso(t0.plus({ days: 365 + 360 })));
  });

  it('never extends a relationship with Global Administrator', () => {
    const withGa = relationship({ autoExtendDuration: 'P180D', roleIds: [globalAdministratorRoleId] });
    expect(willAutoExtend(withGa)).toBe(false);
    expect(processEndDate(withGa, t0.plus({ days: 365 }))?.status).toBe('expired');
  });
});

describe('expiry warnings', () => {
  const active = relationship();
  const end = t0.plus({ days: 365 });
  const entry = (days: number) => ({
    job: 'sendExpiryWarnings' as const,
    subjectId: active.id,
    days,
    dueAt: iso(end.minus({ days })),
  });

  it('is due at its time for a relationship that still ends then and will not extend', () => {
    expect(expiryWarningDue(active, entry(30), end.minus({ days: 30 }))).toBe(true);
    expect(expiryWarningDue(active, entry(30), end.minus({ days: 31 }))).toBe(false);
    expect(expiryWarningDue({ ...active, autoExtendDuration: 'P180D' }, entry(7), end.minus({ days: 7 }))).toBe(false);
    // The end moved (extended): the old warning no longer applies.
    expect(expiryWarningDue({ ...active, endDateTime: iso(end.plus({ days: 180 })) }, entry(1), end)).toBe(false);
  });

  it('has one id per recipient, relationship, end date and lead time, so each is delivered once', () => {
    const ids = (days: number, at: DateTime) => expiryWarnings(active, days, iso(at)).map((warning) => warning.id);
    expect(ids(7, t0)).toEqual(ids(7, t0.plus({ hours: 1 })));
    expect(ids(7, t0)).not.toEqual(ids(1, t0));
    expect(new Set(ids(7, t0)).size).toBe(2);
  });

  it("goes to the partner's AdminAgents and the customer's Global Administrators (SPEC §9)", () => {
    expect(expiryWarnings(active, 30, iso(t0)).map((warning) => [warning.tenantId, warning.recipients])).toEqual([
      [active.partnerTenantId, { tenantId: active.partnerTenantId, role: 'AdminAgent' }],
      [active.customer?.tenantId, { tenantId: active.customer?.tenantId, role: 'GlobalAdministrator' }],
    ]);
  });
});

describe('purge (365 days after the end)', () => {
  const ended = relationship({ status: 'terminated', endDateTime: iso(t0) });

  it('is not due on day 364 and due on day 365', () => {
    expect(purgeDue(ended, t0.plus({ days: 364 }))).toBe(false);
    expect(purgeDue(ended, t0.plus({ days: 365 }))).toBe(true);
    expect(purgeDue({ ...ended, status: 'expired' }, t0.plus({ days: 365 }))).toBe(true);
    expect(purgeDue({ ...ended, status: 'active' }, t0.plus({ days: 900 }))).toBe(false);
  });
});

describe('due-date index entries', () => {
  it('schedules the approval lapse when locked', () => {
    const created = relationship({
      status: 'created',
      lockedDateTime: null,
      activatedDateTime: null,
      endDateTime: null,
    });
    const locked = { ...created, status: 'approvalPending' as const, lockedDateTime: iso(t0) };
    expect(dueEntriesFor(created, locked)).toEqual([
      { job: 'expirePendingRequests', dueAt: '2026-04-01T00:00:00.0000000Z', subjectId: locked.id },
    ]);
  });

  it('schedules the end date and the first warning that falls after activation when activated or extended', () => {
    const pending = relationship({ status: 'approvalPending', activatedDateTime: null, endDateTime: null });
    const short = { ...relationship({ duration: 'P10D' }), endDateTime: iso(t0.plus({ days: 10 })) };
    expect(dueEntriesFor(pending, short).map((e) => [e.job, e.days])).toEqual([
      ['processEndDates', undefined],
      ['sendExpiryWarnings', 7],
    ]);
    const active = relationship();
    const extended = { ...active, endDateTime: iso(t0.plus({ days: 545 })) };
    expect(dueEntriesFor(active, extended).map((e) => [e.job, e.days])).toEqual([
      ['processEndDates', undefined],
      ['sendExpiryWarnings', 30],
    ]);
    expect(dueEntriesFor(active, { ...active, autoExtendDuration: 'P180D' })).toEqual([]);
  });

  it('chains the warnings: each names the next, 30 then 7 then 1 day before the end, then none', () => {
    const active = { ...relationship(), endDateTime: iso(t0.plus({ days: 100 })) };
    const first = nextExpiryWarning(active);
    expect(first).toEqual({
      job: 'sendExpiryWarnings',
      dueAt: iso(t0.plus({ days: 70 })),
      subjectId: active.id,
      days: 30,
    });
    expect(nextExpiryWarning(active, 30)).toMatchObject({ dueAt: iso(t0.plus({ days: 93 })), days: 7 });
    expect(nextExpiryWarning(active, 7)).toMatchObject({ dueAt: iso(t0.plus({ days: 99 })), days: 1 });
    expect(nextExpiryWarning(active, 1)).toBeUndefined();
    // Only warnings after the relationship's own start are worth sending.
    const short = { ...relationship({ duration: 'P5D' }), endDateTime: iso(t0.plus({ days: 5 })) };
    expect(nextExpiryWarning(short)).toMatchObject({ days: 1 });
  });

  it('tells a warning of the current end from one left by an earlier end', () => {
    const active = { ...relationship(), endDateTime: iso(t0.plus({ days: 100 })) };
    const warning = nextExpiryWarning(active) as DueEntry;
    expect(isCurrentExpiryWarning(active, warning)).toBe(true);
    expect(isCurrentExpiryWarning({ ...active, endDateTime: iso(t0.plus({ days: 280 })) }, warning)).toBe(false);
    expect(isCurrentExpiryWarning({ ...active, status: 'terminated' }, warning)).toBe(false);
  });

  it('schedules the purge when a relationship ends', () => {
    const active = relationship();
    const terminated = { ...active, status: 'terminated' as const, endDateTime: iso(t0.plus({ days: 3 })) };
    expect(dueEntriesFor(active, terminated)).toEqual([
      { job: 'purgeEnded', dueAt: iso(t0.plus({ days: 368 })), subjectId: active.id },
    ]);
  });
});

describe('events of a transition', () => {
  it('audits a customer termination in both tenants and notifies both sides', () => {
    const active = relationship();
    const terminated = { ...active, status: 'terminated' as const, lastModifiedDateTime: iso(t0.plus({ days: 1 })) };
    const customerTenantId = active.customer?.tenantId as string;
    const events = eventsOf(active, terminated, { kind: 'user', tenantId: customerTenantId, userId: 'u' }, iso(t0));
    expect(events.audits.map((a) => [a.tenantId, a.activityDisplayName])).toEqual([
      [active.partnerTenantId, 'Terminate delegated admin relationship'],
      [customerTenantId, 'Terminate delegated admin relationship'],
    ]);
    expect(events.notifications.map((n) => n.recipients)).toEqual([
      { tenantId: active.partnerTenantId, role: 'AdminAgent' },
      { tenantId: customerTenantId, role: 'GlobalAdministrator' },
    ]);
    expect(events.notifications[0].subject).toContain('by the customer');
  });

  it.each([
    ['an approval', 'approvalPending', 'active', 'relationshipApproved'],
    ['an expiry at the end date', 'active', 'expired', 'relationshipExpired'],
  ] as const)('notifies both sides of %s (SPEC §9)', (_name, from, to, kind) => {
    const before = relationship({ status: from });
    const events = eventsOf(before, { ...before, status: to }, { kind: 'system' }, iso(t0));
    expect(events.notifications.map((n) => [n.kind, n.tenantId, n.recipients.role])).toEqual([
      [kind, before.partnerTenantId, 'AdminAgent'],
      [kind, before.customer?.tenantId, 'GlobalAdministrator'],
    ]);
  });

  it('sends no notification for a lock, a pending request that lapsed, or an auto-extension', () => {
    const created = relationship({ status: 'created' });
    expect(
      eventsOf(created, { ...created, status: 'approvalPending' }, { kind: 'user' }, iso(t0)).notifications,
    ).toEqual([]);
    const pending = relationship({ status: 'approvalPending' });
    expect(eventsOf(pending, { ...pending, status: 'expired' }, { kind: 'system' }, iso(t0)).notifications).toEqual([]);
    const active = relationship();
    const extended = { ...active, endDateTime: iso(t0.plus({ days: 400 })) };
    expect(eventsOf(active, extended, { kind: 'system' }, iso(t0)).notifications).toEqual([]);
  });

  it('sends no notification when auto-extension is switched on or off', () => {
    const active = relationship();
    const events = eventsOf(active, { ...active, autoExtendDuration: 'P180D' }, { kind: 'user' }, iso(t0));
    expect(events.notifications).toEqual([]);
    expect(events.audits[0].modifiedProperties).toEqual([
      { displayName: 'autoExtendDuration', oldValue: 'PT0S', newValue: 'P180D' },
    ]);
  });

  it('gives the same ids to the same transition, so publishing twice is harmless', () => {
    const active = relationship();
    const next = { ...active, status: 'terminated' as const, lastModifiedDateTime: iso(t0.plus({ days: 1 })) };
    expect(eventsOf(active, next, { kind: 'system' }, iso(t0))).toEqual(
      eventsOf(active, next, { kind: 'system' }, iso(t0)),
    );
  });
});
