import { DateTime } from 'luxon';
import { AccessAssignment } from '../../shared/domain/assignments';
import { DomainError } from '../../shared/domain/errors';
import { planTransition } from '../../shared/domain/relationshipChanges';
import { itemErrorOf } from '../../shared/app/gdapJobs';
import {
  countTallies,
  ItemState,
  jobStatus,
  movedTally,
  newItems,
  parseJobRequest,
  tallyOf,
} from '../../shared/domain/gdapJobs';
import { activateDefault, applyRequestAction } from '../../shared/domain/relationships';
import { globalAdministratorRoleId } from '../../shared/domain/roles';
import {
  changesAssignments,
  createTemplate,
  driftOf,
  parseAssignBody,
  reconcilePlan,
  relationshipFromTemplate,
  relationshipNameFor,
  templateRoleIds,
  updateTemplate,
} from '../../shared/domain/templates';

const PARTNER = '11111111-1111-4111-8111-111111111111';
const CUSTOMER = '22222222-2222-4222-8222-222222222222';
const GROUP_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const GROUP_B = 'aaaaaaaa-0000-4000-8000-000000000002';
const GROUP_C = 'aaaaaaaa-0000-4000-8000-000000000003';
const EXCHANGE = '29232cdf-9323-42fd-ade2-1d097af3e4de';
const INTUNE = '3a2c62db-5318-420d-8d74-23affee5d9d5';
const READER = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451';
const now = DateTime.fromISO('2026-03-01T10:00:00Z', { zone: 'utc' });
const ids = { id: 'template-1', partnerTenantId: PARTNER };

const group = (id: string, ...roleIds: string[]) => ({
  accessContainer: { accessContainerId: id, accessContainerType: 'securityGroup' },
  accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
});

const template = createTemplate(
  {
    displayName: 'Helpdesk',
    duration: 'P1Y',
    accessAssignments: [group(GROUP_A, EXCHANGE, READER), group(GROUP_B, INTUNE)],
  },
  ids,
  now,
);

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error.kind;
    throw error;
  }
  return 'accepted';
}

describe('templates (pure rules)', () => {
  it('normalise durations, default the prefix, and ask for the union of their groups’ roles', () => {
    expect(template).toMatchObject({ duration: 'P365D', autoExtendDuration: 'PT0S', relationshipNamePrefix: 'TPL' });
    expect(templateRoleIds(template)).toEqual([EXCHANGE, INTUNE, READER].sort());
  });

  it('refuse what a relationship would refuse, and more than one entry per group', () => {
    const body = (overrides: Record<string, unknown>) => ({
      displayName: 'T',
      duration: 'P30D',
      accessAssignments: [group(GROUP_A, EXCHANGE)],
      ...overrides,
    });
    expect(refusal(() => createTemplate(body({}), ids, now))).toBe('accepted');
    expect(
      refusal(() =>
        createTemplate(
          body({ autoExtendDuration: 'P180D', accessAssignments: [group(GROUP_A, globalAdministratorRoleId)] }),
          ids,
          now,
        ),
      ),
    ).toBe('invalid');
    expect(
      refusal(() =>
        createTemplate(body({ accessAssignments: [group(GROUP_A, EXCHANGE), group(GROUP_A, INTUNE)] }), ids, now),
      ),
    ).toBe('invalid');
    expect(refusal(() => createTemplate(body({ accessAssignments: [group(GROUP_A)] }), ids, now))).toBe('invalid');
    expect(refusal(() => createTemplate(body({ accessAssignments: [] }), ids, now))).toBe('invalid');
    expect(refusal(() => createTemplate(body({ relationshipNamePrefix: '' }), ids, now))).toBe('invalid');
    expect(refusal(() => createTemplate(body({ displayName: 'x'.repeat(51) }), ids, now))).toBe('invalid');
    expect(refusal(() => createTemplate(body({ unifiedRoles: [] }), ids, now))).toBe('invalid');
    // Partner Center binds property names in any case.
    expect(
      createTemplate({ DisplayName: 'T', DURATION: 'P30D', accessassignments: [group(GROUP_A, EXCHANGE)] }, ids, now)
        .displayName,
    ).toBe('T');
  });

  it('tell a change of groups from a rename', () => {
    const renamed = updateTemplate(template, { displayName: 'Other' }, now);
    expect(changesAssignments(template, renamed)).toBe(false);
    const regrouped = updateTemplate(
      template,
      { accessAssignments: [group(GROUP_B, INTUNE), group(GROUP_A, READER, EXCHANGE)] },
      now,
    );
    expect(changesAssignments(template, regrouped)).toBe(false);
    const changed = updateTemplate(template, { accessAssignments: [group(GROUP_A, EXCHANGE)] }, now);
    expect(changesAssignments(template, changed)).toBe(true);
  });

  it('make the relationship a POST would: named from the prefix, marked with the template', () => {
    const name = relationshipNameFor(template, '0a1b2c3d');
    expect(name).toBe('TPL_0a1b2c3d');
    const draft = relationshipFromTemplate(template, { id: 'r-1', customerTenantId: CUSTOMER, displayName: name }, now);
    expect(draft).toMatchObject({ status: 'created', displayName: name, duration: 'P365D', templateId: 'template-1' });
    expect(draft.roleIds).toEqual(templateRoleIds(template));
  });

  describe('drift and reconcile', () => {
    const relationship = activateDefault(
      relationshipFromTemplate(template, { id: 'r-1', customerTenantId: CUSTOMER, displayName: 'TPL_00000000' }, now),
      now,
    );
    const assignment = (
      id: string,
      groupId: string,
      roleIds: string[],
      status: AccessAssignment['status'] = 'active',
    ) => ({
      id,
      relationshipId: relationship.id,
      accessContainerId: groupId,
      roleIds,
      status,
      createdDateTime: '',
      lastModifiedDateTime: '',
    });

    it('is none when every group has its roles', () => {
      const drift = driftOf(template, relationship, [
        assignment('1', GROUP_A, [READER, EXCHANGE]),
        assignment('2', GROUP_B, [INTUNE]),
      ]);
      expect(drift).toEqual({ missing: [], extra: [], changed: [], rolesNotInRelationship: [] });
    });

    it('names missing, extra and changed groups, ignoring deleted assignments, and plans their repair', () => {
      const assignments = [
        assignment('1', GROUP_A, [READER]),
        assignment('2', GROUP_B, [INTUNE], 'deleted'),
        assignment('3', GROUP_C, [READER]),
      ];
      expect(driftOf(template, relationship, assignments)).toEqual({
        missing: [{ accessContainerId: GROUP_B, unifiedRoles: [INTUNE] }],
        extra: [{ accessContainerId: GROUP_C, unifiedRoles: [READER] }],
        changed: [{ accessContainerId: GROUP_A, expected: [EXCHANGE, READER].sort(), actual: [READER] }],
        rolesNotInRelationship: [],
      });
      const plan = reconcilePlan(template, relationship, assignments);
      expect(plan.create).toEqual([{ groupId: GROUP_B, roleIds: [INTUNE] }]);
      expect(plan.update.map((u) => [u.assignment.id, u.roleIds])).toEqual([['1', [EXCHANGE, READER].sort()]]);
      expect(plan.remove.map((a) => a.id)).toEqual(['3']);
    });

    it('assigns only roles the relationship has, and reports the others', () => {
      const narrower = { ...relationship, roleIds: [READER] };
      const drift = driftOf(template, narrower, []);
      // GROUP_B's only role is not in the relationship: it cannot be assigned at all.
      expect(drift.missing).toEqual([{ accessContainerId: GROUP_A, unifiedRoles: [READER] }]);
      expect(drift.rolesNotInRelationship).toEqual([EXCHANGE, INTUNE].sort());
    });
  });

  it('take 1..10,000 distinct customer GUIDs', () => {
    expect(parseAssignBody({ customerTenantIds: [CUSTOMER.toUpperCase()] })).toEqual({
      customerTenantIds: [CUSTOMER],
      renew: false,
    });
    expect(refusal(() => parseAssignBody({ customerTenantIds: [] }))).toBe('invalid');
    expect(refusal(() => parseAssignBody({ customerTenantIds: [CUSTOMER, CUSTOMER.toUpperCase()] }))).toBe('invalid');
    expect(refusal(() => parseAssignBody({ customerTenantIds: ['x'] }))).toBe('invalid');
  });

  it('continue onboarding when a template relationship leaves approvalPending, and only then', () => {
    const locked = {
      ...relationshipFromTemplate(template, { id: 'r-1', customerTenantId: CUSTOMER, displayName: 'TPL_1' }, now),
      status: 'approvalPending' as const,
      lockedDateTime: '2026-03-01T10:00:00.0000000Z',
    };
    const customer = { tenantId: CUSTOMER, isAdminAgent: false, managesCustomerRelationships: true };
    const context = { changeId: 'c-1', at: '2026-03-01T10:00:00.0000000Z', initiatedBy: { kind: 'user' as const } };
    const followUps = (previous: typeof locked | Omit<typeof locked, 'templateId'>, action: 'approve' | 'reject') =>
      planTransition({ value: previous, etag: 'e' }, applyRequestAction(previous, action, customer, now), context)
        .followUps;
    // The entry carries the settled state, which the follow-up run right after the commit sends as it is.
    const settled = { partnerTenantId: locked.partnerTenantId, relationshipId: 'r-1', templateId: template.id };
    expect(followUps(locked, 'approve')).toEqual([
      {
        job: 'continueTemplateOnboarding',
        dueAt: context.at,
        subjectId: 'r-1',
        data: JSON.stringify({ ...settled, customerTenantId: CUSTOMER, status: 'active' }),
      },
    ]);
    expect(followUps(locked, 'reject').map((entry) => [entry.job, JSON.parse(entry.data ?? '{}').status])).toEqual([
      ['continueTemplateOnboarding', 'terminated'],
    ]);
    const { templateId: _ignored, ...plain } = locked;
    void _ignored;
    expect(followUps(plain, 'approve')).toEqual([]);
  });
});

describe('jobs (pure rules)', () => {
  it('chunk items by position, with fixed-width ids', () => {
    const items = newItems(
      'job',
      Array.from({ length: 30 }, (_, i) => `t${i}`),
      'customer',
      'now',
    );
    expect(items.map((item) => item.id).slice(24, 27)).toEqual(['00024', '00025', '00026']);
    expect(items.map((item) => item.chunk).slice(24, 27)).toEqual([0, 1, 1]);
    expect(items[0]).toMatchObject({ state: 'queued', attempts: 0, customerTenantId: 't0', relationshipId: null });
  });

  it('count pending items from the chunks’ tallies, and are running until none is', () => {
    const at = (minute: number) => `2026-03-01T10:0${minute}:00.0000000Z`;
    const countItems = (...states: ItemState[]) =>
      countTallies([tallyOf(states.map((state) => ({ state, lastModifiedDateTime: at(0) })))]);
    const counts = countItems('queued', 'awaitingApproval', 'completed', 'failed', 'canceled', 'running');
    expect(counts).toEqual({ total: 6, succeeded: 1, failed: 1, pending: 3, canceled: 1 });
    expect(jobStatus({ canceledDateTime: null }, counts)).toBe('running');
    expect(jobStatus({ canceledDateTime: null }, countItems('queued', 'queued'))).toBe('notStarted');
    expect(jobStatus({ canceledDateTime: null }, countItems('completed', 'completed'))).toBe('succeeded');
    expect(jobStatus({ canceledDateTime: null }, countItems('completed', 'failed'))).toBe('partiallySucceeded');
    expect(jobStatus({ canceledDateTime: null }, countItems('failed'))).toBe('failed');
    expect(jobStatus({ canceledDateTime: 'x' }, countItems('completed', 'canceled'))).toBe('canceled');

    // An item's move takes one from its old state to its new one and keeps the latest time.
    const tally = tallyOf([
      { state: 'queued', lastModifiedDateTime: at(1) },
      { state: 'awaitingApproval', lastModifiedDateTime: at(2) },
    ]);
    const moved = movedTally(tally, 'awaitingApproval', { state: 'completed', lastModifiedDateTime: at(3) });
    expect(moved).toMatchObject({ queued: 1, awaitingApproval: 0, completed: 1, lastModifiedDateTime: at(3) });
    expect(countTallies([tally, moved])).toEqual({ total: 4, succeeded: 1, failed: 0, pending: 3, canceled: 0 });
    expect(movedTally(moved, 'queued', { state: 'failed', lastModifiedDateTime: at(0) }).lastModifiedDateTime).toBe(
      at(3),
    );
  });

  it('take each kind’s own targets and options', () => {
    const relationshipId = `aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa-${PARTNER}`;
    expect(
      parseJobRequest({ kind: 'removeGlobalAdministrator', relationshipIds: [relationshipId], thenAutoExtend: true }),
    ).toMatchObject({
      targets: [relationshipId],
      targetKind: 'relationship',
      parameters: { thenAutoExtend: true },
    });
    expect(
      parseJobRequest({ kind: 'setAutoExtend', relationshipIds: [relationshipId], autoExtendDuration: 'P0D' })
        .parameters,
    ).toEqual({
      autoExtendDuration: 'PT0S',
    });
    expect(parseJobRequest({ kind: 'removeDap', customerTenantIds: [CUSTOMER], force: true })).toMatchObject({
      targetKind: 'customer',
      parameters: { force: true },
    });
    expect(refusal(() => parseJobRequest({ kind: 'terminate', customerTenantIds: [CUSTOMER] }))).toBe('invalid');
    expect(refusal(() => parseJobRequest({ kind: 'setAutoExtend', relationshipIds: [relationshipId] }))).toBe(
      'invalid',
    );
    expect(refusal(() => parseJobRequest({ kind: 'assignTemplate', customerTenantIds: [CUSTOMER] }))).toBe('invalid');
    expect(refusal(() => parseJobRequest({ kind: 'terminate', relationshipIds: [CUSTOMER] }))).toBe('invalid');
  });

  it('keep a refusal’s Graph code as the item’s error', () => {
    expect(itemErrorOf(new DomainError('conflict', 'taken'))).toEqual({ code: 'conflict', message: 'taken' });
    expect(itemErrorOf(new Error('boom')).code).toBe('internalServerError');
  });
});
