import { DateTime } from 'luxon';
import { AccessGrant, dapRemovalWarnings, resolveEffectiveAccess } from '../../shared/domain/access';
import {
  AccessAssignment,
  affectsAssignments,
  assignmentsAfter,
  createAssignment,
  updateAssignmentRoles,
} from '../../shared/domain/assignments';
import { DomainError } from '../../shared/domain/errors';
import { Relationship } from '../../shared/domain/relationships';
import { globalAdministratorRoleId, servicesManagedBy } from '../../shared/domain/roles';
import { roles } from '../fixtures';

const now = DateTime.fromISO('2026-03-01T00:00:00Z', { zone: 'utc' });
const exchange = roles.exchangeAdministrator;
const intune = roles.intuneAdministrator;
const globalReader = roles.globalReader;
const group = '0a0a0a0a-0000-0000-0000-000000000001';

const relationship: Relationship = {
  id: 'a0000000-0000-0000-0000-000000000000-b0000000-0000-0000-0000-000000000000',
  partnerTenantId: 'b0000000-0000-0000-0000-000000000000',
  displayName: 'Contoso',
  duration: 'P730D',
  autoExtendDuration: 'PT0S',
  customer: { tenantId: 'c0000000-0000-0000-0000-000000000000', displayName: '' },
  roleIds: [exchange, intune],
  status: 'active',
  createdDateTime: '2026-01-01T00:00:00.0000000Z',
  lastModifiedDateTime: '2026-01-01T00:00:00.0000000Z',
  activatedDateTime: '2026-01-01T00:00:00.0000000Z',
  endDateTime: '2028-01-01T00:00:00.0000000Z',
  lockedDateTime: '2026-01-01T00:00:00.0000000Z',
};

const grant = (roleIds: string[], accessContainerId = group): AccessGrant => ({
  relationshipId: relationship.id,
  accessAssignmentId: `assignment-${accessContainerId}`,
  accessContainerId,
  roleIds,
});

const expectDomainError = (run: () => unknown, kind: DomainError['kind'], message?: RegExp) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe(kind);
    if (message) expect((error as DomainError).message).toMatch(message);
    return;
  }
  throw new Error('expected a DomainError');
};

describe('effective access resolution', () => {
  const cases: [
    string,
    { groups: string[]; isAdminAgent: boolean },
    { grants: AccessGrant[]; hasDap: boolean },
    string,
  ][] = [
    ['AdminAgent, DAP only', { groups: [], isAdminAgent: true }, { grants: [], hasDap: true }, 'dap'],
    ['group member, DAP only', { groups: [group], isAdminAgent: false }, { grants: [], hasDap: true }, 'none'],
    [
      'AdminAgent in group, DAP and GDAP',
      { groups: [group], isAdminAgent: true },
      { grants: [grant([exchange])], hasDap: true },
      'gdap',
    ],
    [
      'AdminAgent outside group, DAP and GDAP',
      { groups: [], isAdminAgent: true },
      { grants: [grant([exchange])], hasDap: true },
      'dap',
    ],
    [
      'AdminAgent outside group, GDAP only',
      { groups: [], isAdminAgent: true },
      { grants: [grant([exchange])], hasDap: false },
      'none',
    ],
  ];
  it.each(cases)('%s', (_name, user, facts, mode) => {
    expect(resolveEffectiveAccess({ ...user, isGuest: false }, { customerTenantId: 'c', ...facts }).mode).toBe(mode);
  });

  it('unions the roles of every matching assignment and names the path', () => {
    const other = '0a0a0a0a-0000-0000-0000-000000000002';
    const access = resolveEffectiveAccess(
      { groups: [group, other.toUpperCase()], isAdminAgent: false, isGuest: false },
      { customerTenantId: 'c', grants: [grant([exchange]), grant([intune, exchange], other)], hasDap: false },
    );
    expect(access.roleIds).toEqual([exchange, intune].sort());
    expect(access.grantedBy.map((path) => path.accessContainerId)).toEqual([group, other]);
  });

  it('gives DAP users Global Administrator, but not guests', () => {
    const facts = { customerTenantId: 'c', grants: [], hasDap: true };
    expect(resolveEffectiveAccess({ groups: [], isAdminAgent: true, isGuest: false }, facts).roleIds).toEqual([
      globalAdministratorRoleId,
    ]);
    expect(resolveEffectiveAccess({ groups: [], isAdminAgent: true, isGuest: true }, facts).mode).toBe('none');
  });
});

describe('DAP removal warnings', () => {
  it('warns when no GDAP assignment exists, and when Azure or Microsoft 365 is not covered', () => {
    expect(dapRemovalWarnings([])).toEqual([expect.stringContaining("customer's Azure subscriptions")]);
    expect(dapRemovalWarnings([grant([exchange])])).toEqual([expect.stringContaining('Azure')]);
    expect(dapRemovalWarnings([grant([globalReader])])).toEqual([]);
  });

  it('maps roles to the admin centers they manage', () => {
    // Exchange Administrator also manages Microsoft 365 groups, in Entra.
    expect(servicesManagedBy([exchange]).map((service) => service.id)).toEqual([
      'M365AdminCenter',
      'Entra',
      'Exchange',
    ]);
  });
});

describe('access assignment rules', () => {
  const body = (roleIds: string[], accessContainerId = group) => ({
    accessContainer: { accessContainerId, accessContainerType: 'securityGroup' },
    accessDetails: { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
  });
  const existing: AccessAssignment = {
    id: 'x',
    relationshipId: relationship.id,
    accessContainerId: group,
    roleIds: [exchange],
    status: 'active',
    createdDateTime: '2026-01-02T00:00:00.0000000Z',
    lastModifiedDateTime: '2026-01-02T00:00:00.0000000Z',
  };

  it('needs an active relationship, a GUID group, and roles the relationship grants', () => {
    expect(createAssignment(body([exchange]), relationship, [], 'id', now)).toMatchObject({
      status: 'active',
      roleIds: [exchange],
    });
    expectDomainError(
      () => createAssignment(body([exchange]), { ...relationship, status: 'approvalPending' }, [], 'id', now),
      'invalid',
      /active/,
    );
    expectDomainError(
      () => createAssignment(body([exchange], 'group-name'), relationship, [], 'id', now),
      'invalid',
      /GUID/,
    );
    expectDomainError(
      () => createAssignment(body([globalReader]), relationship, [], 'id', now),
      'invalid',
      /not granted/,
    );
    expectDomainError(() => createAssignment(body([]), relationship, [], 'id', now), 'invalid', /at least one/);
  });

  it('allows one live assignment per group, and a new one after deletion', () => {
    expectDomainError(() => createAssignment(body([intune]), relationship, [existing], 'id', now), 'conflict');
    expect(
      createAssignment(body([intune]), relationship, [{ ...existing, status: 'deleted' }], 'id', now).roleIds,
    ).toEqual([intune]);
  });

  it('reports an unchanged PATCH as nothing to do', () => {
    expect(
      updateAssignmentRoles(existing, { accessDetails: body([exchange]).accessDetails }, relationship, now),
    ).toBeUndefined();
    expect(
      updateAssignmentRoles(existing, { accessDetails: body([intune]).accessDetails }, relationship, now)?.roleIds,
    ).toEqual([intune]);
  });

  it('deletes every live assignment when the relationship ends and trims roles the relationship lost', () => {
    const two = { ...existing, id: 'y', accessContainerId: 'g2', roleIds: [exchange, intune] };
    const terminated = { ...relationship, status: 'terminated' as const };
    expect(affectsAssignments(relationship, terminated)).toBe(true);
    expect(assignmentsAfter(terminated, [existing, two], 'T').map((a) => a.status)).toEqual(['deleted', 'deleted']);
    const intuneOnly = { ...relationship, roleIds: [intune] };
    expect(assignmentsAfter(intuneOnly, [existing, two], 'T').map((a) => [a.id, a.status, a.roleIds])).toEqual([
      ['x', 'deleted', [exchange]],
      ['y', 'active', [intune]],
    ]);
    expect(affectsAssignments(relationship, { ...relationship, autoExtendDuration: 'P180D' })).toBe(false);
  });
});
