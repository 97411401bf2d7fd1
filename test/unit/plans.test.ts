import { DateTime } from 'luxon';
import { AccessAssignment } from '../../shared/domain/assignments';
import { ChangeContext, webhookEventsOf } from '../../shared/domain/change';
import { jobIds } from '../../shared/domain/jobs';
import {
  assignmentsPerTransaction,
  grantKey,
  planAssignmentChange,
  planAssignmentCreate,
  planCreate,
  planDelete,
  planExpiryWarning,
  planFinishAssignments,
  planTransition,
  RelationshipChange,
  relationshipAfter,
} from '../../shared/domain/relationshipChanges';
import { planDapRemoval } from '../../shared/domain/dap';
import { relationshipWebhookEvents, withWebhookSequence } from '../../shared/domain/webhooks';
import {
  activateDefault,
  applyRequestAction,
  createRelationship,
  newRequest,
  Relationship,
} from '../../shared/domain/relationships';
import {
  approveAccessRequest,
  closeSupportRequest,
  newSupportRequest,
  openAccessRequest,
  SupportActor,
} from '../../shared/domain/support';
import { planCaseChange, planNewSupportRequest, VersionedCase } from '../../shared/domain/supportChanges';
import { toGraphDateTime } from '../../shared/domain/time';
import { Duration } from 'luxon';
import { roles } from '../fixtures';

/**
 * The plans of shared/domain: what each change writes, asserted without storage. The executor that
 * stores them is proven on Azurite in test/integration/executor.test.ts.
 */
const t0 = DateTime.fromISO('2026-02-01T10:00:00Z', { zone: 'utc' });
const partnerTenantId = '11111111-1111-4111-8111-111111111111';
const customerTenantId = '22222222-2222-4222-8222-222222222222';
const partner = { tenantId: partnerTenantId, isAdminAgent: true, managesCustomerRelationships: false };
const customer = { tenantId: customerTenantId, isAdminAgent: false, managesCustomerRelationships: true };

let sequence = 0;
function context(at: DateTime = t0): ChangeContext {
  sequence += 1;
  return {
    changeId: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    at: toGraphDateTime(at),
    initiatedBy: { kind: 'user', tenantId: partnerTenantId, userId: 'u' },
  };
}

function draft(overrides: Record<string, unknown> = {}): Relationship {
  return createRelationship(
    {
      displayName: 'Contoso Exchange',
      duration: 'P730D',
      customer: { tenantId: customerTenantId },
      accessDetails: {
        unifiedRoles: [
          { roleDefinitionId: roles.exchangeAdministrator },
          { roleDefinitionId: roles.intuneAdministrator },
        ],
      },
      ...overrides,
    },
    { id: `33333333-3333-4333-8333-333333333333-${partnerTenantId}`, partnerTenantId },
    t0,
  );
}

const writesOf = (plan: RelationshipChange, kind: RelationshipChange['writes'][number]['kind']) =>
  plan.writes.filter((write) => write.kind === kind);

function assignment(id: number, roleIds: string[], relationship: Relationship): AccessAssignment {
  return {
    id: `44444444-4444-4444-8444-${String(id).padStart(12, '0')}`,
    relationshipId: relationship.id,
    accessContainerId: `55555555-5555-4555-8555-${String(id).padStart(12, '0')}`,
    roleIds,
    status: 'active',
    createdDateTime: toGraphDateTime(t0),
    lastModifiedDateTime: toGraphDateTime(t0),
  };
}

describe('relationship plans', () => {
  it('create: the row and its name in one transaction, the partner’s audit entry, nothing for the customer yet', () => {
    const relationship = draft();
    const plan = planCreate(relationship, context());
    expect(plan.writes).toEqual([{ kind: 'relationship', value: relationship, etag: null }]);
    expect(plan.names).toEqual({ reserve: 'Contoso Exchange' });
    expect(plan.schedule).toEqual([]);
    expect(plan.pointers).toEqual([]);
    expect(plan.events.map((event) => [event.type, event.value.tenantId])).toEqual([['audit', partnerTenantId]]);
  });

  it('a default relationship is born active: its grant, end date and first warning come with it', () => {
    const active = activateDefault(draft(), t0);
    const plan = planCreate(active, context());
    expect(writesOf(plan, 'grant')).toEqual([
      { kind: 'grant', relationshipId: active.id, key: grantKey(active.roleIds), action: 'create' },
    ]);
    expect(plan.schedule.map((entry) => entry.job)).toEqual([jobIds.processEndDates, jobIds.sendExpiryWarnings]);
    expect(plan.pointers).toEqual([{ customerTenantId, relationshipId: active.id, partnerTenantId }]);
  });

  it('lockForApproval schedules the 90-day expiry at locked + 90 days, writes the partner’s and the customer’s audit entries and the customer pointer', () => {
    const current = draft();
    const locked = applyRequestAction(current, 'lockForApproval', partner, t0);
    const request = newRequest('66666666-6666-4666-8666-666666666666', current.id, 'lockForApproval', t0);
    const plan = planTransition({ value: current, etag: 'e1' }, locked, context(), { request });
    expect(plan.writes).toEqual([{ kind: 'relationship', value: locked, etag: 'e1', request }]);
    expect(plan.schedule).toEqual([
      {
        job: jobIds.expirePendingRequests,
        dueAt: toGraphDateTime(t0.plus({ days: 90 })),
        subjectId: current.id,
      },
    ]);
    expect(plan.pointers).toEqual([{ customerTenantId, relationshipId: current.id, partnerTenantId }]);
    expect(plan.events.map((event) => [event.type, event.value.tenantId])).toEqual([
      ['audit', partnerTenantId],
      ['audit', customerTenantId],
    ]);
    expect(plan.followUps).toEqual([]);
  });

  it('approve creates the grant, schedules the end date and the first warning, and notifies both tenants', () => {
    const locked = applyRequestAction(draft(), 'lockForApproval', partner, t0);
    const active = applyRequestAction(locked, 'approve', customer, t0.plus({ days: 1 }), 'Contoso');
    const plan = planTransition({ value: locked, etag: 'e2' }, active, context());
    expect(writesOf(plan, 'grant')).toEqual([
      { kind: 'grant', relationshipId: active.id, key: grantKey(active.roleIds), action: 'create' },
    ]);
    expect(plan.schedule).toEqual([
      { job: jobIds.processEndDates, dueAt: active.endDateTime, subjectId: active.id },
      expect.objectContaining({ job: jobIds.sendExpiryWarnings, days: 30, subjectId: active.id }),
    ]);
    expect(plan.events.filter((event) => event.type === 'notification').map((event) => event.value.tenantId)).toEqual([
      partnerTenantId,
      customerTenantId,
    ]);
    // The pointer was written by the lock; nothing more for the customer's view.
    expect(plan.pointers).toEqual([]);
  });

  it('terminate deletes the grant, the first assignments in its transaction and the rest in a follow-up', () => {
    const locked = applyRequestAction(draft(), 'lockForApproval', partner, t0);
    const active = applyRequestAction(locked, 'approve', customer, t0, 'Contoso');
    const terminated = applyRequestAction(active, 'terminate', partner, t0.plus({ days: 2 }));
    const count = assignmentsPerTransaction + 5;
    const assignments = Array.from({ length: count }, (_, n) => ({
      value: assignment(n, [roles.exchangeAdministrator], active),
      etag: `a${n}`,
    }));
    const plan = planTransition({ value: active, etag: 'e3' }, terminated, context(t0.plus({ days: 2 })), {
      assignments: { assignments, grant: grantKey(active.roleIds) },
    });
    expect(writesOf(plan, 'grant')).toEqual([
      { kind: 'grant', relationshipId: active.id, key: grantKey(active.roleIds), action: 'delete' },
    ]);
    const deleted = writesOf(plan, 'assignment');
    expect(deleted).toHaveLength(assignmentsPerTransaction);
    expect(
      deleted.every((write) => write.kind === 'assignment' && write.value.status === 'deleted' && write.etag),
    ).toBe(true);
    expect(plan.followUps).toEqual([
      { job: jobIds.finishRelationshipChanges, dueAt: toGraphDateTime(t0.plus({ days: 2 })), subjectId: active.id },
    ]);
    expect(plan.schedule.map((entry) => entry.job)).toEqual([jobIds.purgeEnded]);
  });

  it('refuses to plan a change that affects assignments without them', () => {
    const active = activateDefault(draft(), t0);
    const terminated = applyRequestAction(active, 'terminate', partner, t0);
    expect(() => planTransition({ value: active, etag: 'e' }, terminated, context())).toThrow(/read them/);
  });

  it('a customer’s role removal swaps the grant for the remaining roles and cuts assignments', () => {
    const active = activateDefault(draft(), t0);
    const next = { ...active, roleIds: [roles.exchangeAdministrator] };
    const both = assignment(1, [roles.exchangeAdministrator, roles.intuneAdministrator], active);
    const intuneOnly = assignment(2, [roles.intuneAdministrator], active);
    const plan = planTransition({ value: active, etag: 'e' }, next, context(), {
      assignments: {
        assignments: [
          { value: both, etag: 'b' },
          { value: intuneOnly, etag: 'i' },
        ],
        grant: grantKey(active.roleIds),
      },
    });
    expect(writesOf(plan, 'grant').map((write) => write.kind === 'grant' && [write.action, write.key])).toEqual([
      ['delete', grantKey(active.roleIds)],
      ['create', grantKey(next.roleIds)],
    ]);
    expect(
      writesOf(plan, 'assignment').map(
        (write) => write.kind === 'assignment' && [write.value.status, write.value.roleIds],
      ),
    ).toEqual([
      ['active', [roles.exchangeAdministrator]],
      ['deleted', [roles.intuneAdministrator]],
    ]);
  });

  it('delete: a draft goes at once with its name; an ended one is tombstoned and purged by a follow-up', () => {
    const relationship = draft();
    const plan = planDelete({ value: relationship, etag: 'd' }, context());
    expect(plan.writes).toEqual([{ kind: 'remove', value: relationship, etag: 'd' }]);
    expect(plan.names).toEqual({ release: relationship.displayName });
    expect(plan.followUps).toEqual([]);

    const ended = { ...activateDefault(relationship, t0), status: 'expired' as const };
    const purge = planDelete({ value: ended, etag: 'x' }, context());
    expect(purge.writes.map((write) => write.kind)).toEqual(['tombstone']);
    expect(purge.followUps.map((entry) => entry.job)).toEqual([jobIds.purgeEnded]);
  });

  it('an assignment write relies on the grant of the relationship’s roles; a deletion on its own ETag', () => {
    const active = activateDefault(draft(), t0);
    const created = assignment(1, [roles.exchangeAdministrator], active);
    const plan = planAssignmentCreate(active, created, context());
    expect(plan.writes).toEqual([
      { kind: 'assignment', value: created, etag: null },
      { kind: 'grant', relationshipId: active.id, key: grantKey(active.roleIds), action: 'touch' },
    ]);
    const deletion = planAssignmentChange(
      active,
      { value: created, etag: 'c' },
      { ...created, status: 'deleted' },
      context(),
    );
    expect(deletion.writes.map((write) => write.kind)).toEqual(['assignment']);
  });

  it('an expiry warning marks itself sent, notifies both tenants (and their webhooks) and schedules the next one', () => {
    const active = activateDefault({ ...draft(), duration: 'P60D' }, t0);
    const entry = {
      job: jobIds.sendExpiryWarnings,
      dueAt: toGraphDateTime(t0.plus({ days: 30 })),
      subjectId: active.id,
      days: 30,
    };
    const plan = planExpiryWarning(active, entry, true, context());
    expect(plan.writes).toEqual([{ kind: 'warningSent', relationshipId: active.id, key: `${active.endDateTime}|30` }]);
    expect(plan.events.map((event) => [event.type, event.value.tenantId])).toEqual([
      ['notification', partnerTenantId],
      ['notification', customerTenantId],
      ['webhook', partnerTenantId],
      ['webhook', customerTenantId],
    ]);
    expect(plan.schedule).toEqual([expect.objectContaining({ job: jobIds.sendExpiryWarnings, days: 7 })]);
    expect(planExpiryWarning(active, entry, false, context()).writes).toEqual([]);
  });

  it('gives every event an id from its change, unique across changes decided in the same millisecond', () => {
    const current = draft();
    const locked = applyRequestAction(current, 'lockForApproval', partner, t0);
    const first = planTransition({ value: current, etag: 'e' }, locked, context());
    const second = planTransition({ value: current, etag: 'e' }, locked, context());
    const ids = [...first.events, ...second.events].map((event) => event.value.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('webhook events in plans (SPEC §16)', () => {
  const webhooks = (plan: RelationshipChange) =>
    webhookEventsOf(plan.events).map((event) => [event.eventName, event.tenantId, event.stream.sequence]);

  it('approve sends approved and activated to both tenants, moving the webhook sequence on in its own write', () => {
    const locked = applyRequestAction(draft(), 'lockForApproval', partner, t0);
    const active = applyRequestAction(locked, 'approve', customer, t0.plus({ days: 1 }), 'Contoso');
    const decision = context(t0.plus({ days: 1 }));
    const plan = planTransition({ value: locked, etag: 'e2' }, active, decision);
    // The sequence that orders a resource's deliveries is stored by the change's conditional transaction.
    expect(relationshipAfter(plan)).toEqual({ ...active, webhookSequence: 1 });
    expect(webhooks(plan)).toEqual([
      ['granular-admin-relationship-approved', partnerTenantId, 1],
      ['granular-admin-relationship-activated', partnerTenantId, 1],
      ['granular-admin-relationship-approved', customerTenantId, 1],
      ['granular-admin-relationship-activated', customerTenantId, 1],
    ]);
    // Their ids are the transition's (the change's id stamps only log events), so a repeat is the same event.
    expect(webhookEventsOf(plan.events).map((event) => event.id)).toEqual(
      relationshipWebhookEvents(locked, withWebhookSequence(locked, active), decision.initiatedBy, decision.at).map(
        (event) => event.id,
      ),
    );
    // A change that sends none leaves the sequence where it was.
    const renamed = planTransition(
      { value: { ...active, webhookSequence: 1 }, etag: 'e' },
      { ...active, displayName: 'New', webhookSequence: 1 },
      context(),
    );
    expect(webhooks(renamed)).toEqual([]);
    expect(relationshipAfter(renamed)?.webhookSequence).toBe(1);
  });

  it('a termination tells of each assignment it deletes, in its transaction and in the follow-up', () => {
    const active = { ...activateDefault(draft(), t0), webhookSequence: 1 };
    const terminated = applyRequestAction(active, 'terminate', partner, t0.plus({ days: 2 }));
    const assignments = Array.from({ length: assignmentsPerTransaction + 2 }, (_, n) => ({
      value: { ...assignment(n, [roles.exchangeAdministrator], active), webhookSequence: 1 },
      etag: `a${n}`,
    }));
    const plan = planTransition({ value: active, etag: 'e3' }, terminated, context(t0.plus({ days: 2 })), {
      assignments: { assignments, grant: grantKey(active.roleIds) },
    });
    const events = webhooks(plan);
    expect(events.slice(0, 2)).toEqual([
      ['granular-admin-relationship-terminated', partnerTenantId, 2],
      ['granular-admin-relationship-terminated', customerTenantId, 2],
    ]);
    // Assignments are the partner's own: one `deleted` each, second in its own stream.
    expect(events.slice(2)).toEqual(
      Array.from({ length: assignmentsPerTransaction }, () => [
        'granular-admin-access-assignment-deleted',
        partnerTenantId,
        2,
      ]),
    );
    const rest = assignments.slice(assignmentsPerTransaction);
    const finish = planFinishAssignments(relationshipAfter(plan) as typeof active, { assignments: rest }, context());
    expect(webhooks(finish)).toEqual([
      ['granular-admin-access-assignment-deleted', partnerTenantId, 2],
      ['granular-admin-access-assignment-deleted', partnerTenantId, 2],
    ]);
  });

  it('a DAP removal deletes its row and tells its partner, with an id its creation time sets apart', () => {
    const dap = { partnerTenantId, customerTenantId, createdDateTime: toGraphDateTime(t0) };
    const plan = planDapRemoval({ value: dap, etag: 'd' }, context());
    expect(plan.writes).toEqual([{ kind: 'remove', value: dap, etag: 'd' }]);
    const [event] = webhookEventsOf(plan.events);
    expect(event).toMatchObject({
      eventName: 'dap-admin-relationship-terminated',
      tenantId: partnerTenantId,
      resourcePath: `/v1/dapRelationships/${customerTenantId}`,
    });
    const again = planDapRemoval(
      { value: { ...dap, createdDateTime: toGraphDateTime(t0.plus({ days: 1 })) }, etag: 'e' },
      context(),
    );
    expect(webhookEventsOf(again.events)[0].id).not.toBe(event.id);
  });
});

describe('support case plans', () => {
  const engineer = {
    id: '77777777-7777-4777-8777-777777777777',
    tenantId: null,
    displayName: 'Eng',
    expertise: ['Identity'],
    createdDateTime: '',
    lastModifiedDateTime: '',
  };
  const email = 'admin@contoso.example';
  const adminA: SupportActor = {
    tenantId: partnerTenantId,
    userId: 'a',
    roleIds: [roles.serviceSupportAdministrator],
    isEngineer: false,
    email,
  };
  const adminB: SupportActor = {
    tenantId: customerTenantId,
    userId: 'b',
    roleIds: [roles.serviceSupportAdministrator],
    isEngineer: false,
    email,
  };
  const engineerActor: SupportActor = {
    tenantId: '88888888-8888-4888-8888-888888888888',
    userId: engineer.id,
    roleIds: [],
    isEngineer: true,
  };
  const request = newSupportRequest(
    { title: 't', description: 'd', category: 'Identity', allowAdvancedDiagnostics: false },
    { id: '99999999-9999-4999-8999-999999999999', tenantId: partnerTenantId, actor: adminA, engineer },
    t0,
  );

  it('a new request: its row, then its listing pointer and the engineer’s load first', () => {
    const plan = planNewSupportRequest(request);
    expect(plan.writes).toEqual([{ kind: 'request', value: request, etag: null }]);
    expect(plan.pointers).toEqual([
      { kind: 'filedIn', tenantId: partnerTenantId, supportRequestId: request.id, as: 'tenant' },
      { kind: 'engineerLoad', engineerId: engineer.id, supportRequestId: request.id, open: true },
    ]);
  });

  it('an access request relies on the open request, schedules its expiry and tells the request tenant', () => {
    const current: VersionedCase = { request: { value: request, etag: 'r' }, accessRequests: [], approvals: [] };
    const decided = openAccessRequest(
      { request, accessRequests: [], approvals: [] },
      { supportRequestId: request.id, resourceTenantId: customerTenantId, justification: 'why' },
      engineerActor,
      { guid: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', pendingExpiry: Duration.fromISO('P4D') },
      t0,
    );
    const plan = planCaseChange(current, decided, context());
    expect(plan.writes.map((write) => [write.kind, write.etag])).toEqual([
      ['requestUnchanged', 'r'],
      ['accessRequest', null],
    ]);
    expect(plan.schedule).toEqual([
      {
        job: jobIds.expireSupportAccessRequests,
        dueAt: toGraphDateTime(t0.plus({ days: 4 })),
        subjectId: decided.accessRequests[0].id,
      },
    ]);
    expect(plan.events.map((event) => [event.type, event.value.tenantId])).toEqual([
      ['audit', partnerTenantId],
      ['webhook', partnerTenantId],
    ]);

    const opened: VersionedCase = { ...current, accessRequests: [{ value: decided.accessRequests[0], etag: 'q' }] };
    const approved = planCaseChange(
      opened,
      approveAccessRequest(
        { request, accessRequests: [decided.accessRequests[0]], approvals: [] },
        decided.accessRequests[0].id,
        adminA,
        adminB,
        t0,
      ),
      context(),
    );
    expect(approved.pointers).toEqual([
      { kind: 'resourceApproval', tenantId: customerTenantId, approvalId: expect.any(String) },
    ]);
    const closed = planCaseChange(
      current,
      closeSupportRequest({ request, accessRequests: [], approvals: [] }, adminA, t0),
      context(),
    );
    // The engineer's load row follows the close: written before it, it would undercount a failed one.
    expect(closed.pointers).toEqual([]);
    expect(closed.afterwards).toEqual([
      { kind: 'engineerLoad', engineerId: engineer.id, supportRequestId: request.id, open: false },
    ]);
  });
});
