import { DateTime } from 'luxon';
import { DomainError, DomainErrorKind } from '../../shared/domain/errors';
import {
  Actor,
  applyRequestAction,
  createRelationship,
  parseRequestAction,
  perspectiveOf,
  Relationship,
  RelationshipStatus,
  relationshipStatuses,
  RequestAction,
  updateRelationship,
} from '../../shared/domain/relationships';
import { findRole, isBuiltInRole, rolesGrantPermission, supportTicketsPermission } from '../../shared/domain/roles';
import { fromGraphDateTime, toGraphDateTime } from '../../shared/domain/time';
import { fromApiEtag, toApiEtag } from '../../shared/http/etag';
import { roles } from '../fixtures';

const PARTNER = '11111111-1111-4111-8111-111111111111';
const CUSTOMER = '22222222-2222-4222-8222-222222222222';
const OTHER = '33333333-3333-4333-8333-333333333333';
const RELATIONSHIP_ID = `aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa-${PARTNER}`;
const ids = { id: RELATIONSHIP_ID, partnerTenantId: PARTNER };

const now = DateTime.fromISO('2026-03-10T08:15:30.123Z', { zone: 'utc' });
const later = now.plus({ hours: 5, milliseconds: 456 });

function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    displayName: 'Contoso support',
    duration: 'P90D',
    customer: { tenantId: CUSTOMER },
    accessDetails: { unifiedRoles: [{ roleDefinitionId: roles.userAdministrator }] },
    ...overrides,
  };
}

function unifiedRoles(...roleIds: string[]): { unifiedRoles: { roleDefinitionId: string }[] } {
  return { unifiedRoles: roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) };
}

function created(overrides: Record<string, unknown> = {}): Relationship {
  return createRelationship(body(overrides), ids, now);
}

function inStatus(status: RelationshipStatus, overrides: Partial<Relationship> = {}): Relationship {
  return { ...created(), status, ...overrides };
}

const partnerAdminAgent: Actor = { tenantId: PARTNER, isAdminAgent: true, managesCustomerRelationships: false };
const partnerHelpdesk: Actor = { tenantId: PARTNER, isAdminAgent: false, managesCustomerRelationships: false };
const partnerGlobalAdmin: Actor = { tenantId: PARTNER, isAdminAgent: false, managesCustomerRelationships: true };
const customerGlobalAdmin: Actor = { tenantId: CUSTOMER, isAdminAgent: false, managesCustomerRelationships: true };
const customerUser: Actor = { tenantId: CUSTOMER, isAdminAgent: true, managesCustomerRelationships: false };
const otherGlobalAdmin: Actor = { tenantId: OTHER, isAdminAgent: false, managesCustomerRelationships: true };

function domainErrorOf(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

function expectDomainError(action: () => unknown, kind: DomainErrorKind, messagePart?: string | RegExp): void {
  const error = domainErrorOf(action);
  expect(error.kind).toBe(kind);
  if (typeof messagePart === 'string') expect(error.message).toContain(messagePart);
  else if (messagePart) expect(error.message).toMatch(messagePart);
}

describe('toGraphDateTime', () => {
  it('writes UTC with seven fractional digits', () => {
    expect(toGraphDateTime(now)).toBe('2026-03-10T08:15:30.1230000Z');
  });

  it('converts other zones to UTC', () => {
    const paris = DateTime.fromISO('2026-07-01T02:03:04.005+02:00', { setZone: true });
    expect(toGraphDateTime(paris)).toBe('2026-07-01T00:03:04.0050000Z');
  });

  it('round-trips through fromGraphDateTime', () => {
    const text = toGraphDateTime(now);
    expect(fromGraphDateTime(text).toMillis()).toBe(now.toMillis());
    expect(() => fromGraphDateTime('yesterday')).toThrow();
  });
});

describe('createRelationship', () => {
  it('builds a created relationship from a valid body', () => {
    const relationship = createRelationship(
      body({ autoExtendDuration: 'P180D', duration: 'P2Y', customer: { tenantId: CUSTOMER.toUpperCase() } }),
      ids,
      now,
    );
    expect(relationship).toEqual<Relationship>({
      id: RELATIONSHIP_ID,
      partnerTenantId: PARTNER,
      displayName: 'Contoso support',
      duration: 'P730D',
      autoExtendDuration: 'P180D',
      customer: { tenantId: CUSTOMER, displayName: '' },
      roleIds: [roles.userAdministrator],
      status: 'created',
      createdDateTime: '2026-03-10T08:15:30.1230000Z',
      lastModifiedDateTime: '2026-03-10T08:15:30.1230000Z',
      activatedDateTime: null,
      endDateTime: null,
      lockedDateTime: null,
    });
  });

  it('defaults autoExtendDuration to PT0S and normalises P0D to it', () => {
    expect(created().autoExtendDuration).toBe('PT0S');
    expect(created({ autoExtendDuration: 'P0D' }).autoExtendDuration).toBe('PT0S');
  });

  it('accepts a relationship without a customer', () => {
    const relationship = createRelationship(
      { displayName: 'Open invitation', duration: 'P30D', accessDetails: unifiedRoles(roles.globalReader) },
      ids,
      now,
    );
    expect(relationship.customer).toBeNull();
    expect(created({ customer: null }).customer).toBeNull();
  });

  it('ignores @odata annotations at every level', () => {
    const relationship = createRelationship(
      {
        '@odata.type': '#microsoft.graph.delegatedAdminRelationship',
        ...body({
          customer: {
            '@odata.type': '#microsoft.graph.delegatedAdminRelationshipCustomerParticipant',
            tenantId: CUSTOMER,
          },
          accessDetails: {
            '@odata.type': 'microsoft.graph.delegatedAdminAccessDetails',
            unifiedRoles: [{ '@odata.type': 'microsoft.graph.unifiedRole', roleDefinitionId: roles.userAdministrator }],
          },
        }),
      },
      ids,
      now,
    );
    expect(relationship.customer).toEqual({ tenantId: CUSTOMER, displayName: '' });
    expect(relationship.roleIds).toEqual([roles.userAdministrator]);
  });

  it('accepts customer.displayName as sent by Graph clients', () => {
    const relationship = created({ customer: { tenantId: CUSTOMER, displayName: 'Contoso Ltd' } });
    expect(relationship.customer).toEqual({ tenantId: CUSTOMER, displayName: 'Contoso Ltd' });
  });

  it('rejects an unknown property, naming it', () => {
    expectDomainError(() => created({ partner: { tenantId: PARTNER } }), 'invalid', "'partner'");
    expectDomainError(
      () => created({ customer: { tenantId: CUSTOMER, region: 'eu' } }),
      'invalid',
      /'customer\.region'|'region'/,
    );
  });

  it.each(['status', 'id', 'createdDateTime', 'endDateTime'])('rejects the read-only %s, naming it', (name) => {
    expectDomainError(() => created({ [name]: 'x' }), 'invalid', `'${name}'`);
    expectDomainError(() => created({ [name]: 'x' }), 'invalid', 'read-only');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['missing displayName', { displayName: undefined }, 'displayName'],
    ['missing duration', { duration: undefined }, 'duration'],
    ['missing accessDetails', { accessDetails: undefined }, 'accessDetails'],
    ['numeric displayName', { displayName: 42 }, 'displayName'],
    ['invalid duration', { duration: 'P731D' }, 'duration'],
    ['invalid autoExtendDuration', { autoExtendDuration: 'P90D' }, 'autoExtendDuration'],
    ['non-GUID customer', { customer: { tenantId: 'contoso.com' } }, 'customer.tenantId'],
  ])('rejects %s, naming the property', (_label, overrides, property) => {
    expectDomainError(() => created(overrides), 'invalid', property);
  });

  it('rejects bodies that are not JSON objects', () => {
    for (const value of [null, 'text', 3, [body()]]) {
      expectDomainError(() => createRelationship(value, ids, now), 'invalid');
    }
  });

  it('requires 1 to 50 characters of displayName', () => {
    expectDomainError(() => created({ displayName: '' }), 'invalid', 'displayName');
    expectDomainError(() => created({ displayName: '   ' }), 'invalid', 'displayName');
    expectDomainError(() => created({ displayName: 'x'.repeat(51) }), 'invalid', 'displayName');
    expect(created({ displayName: 'x'.repeat(50) }).displayName).toBe('x'.repeat(50));
    expect(created({ displayName: 'x' }).displayName).toBe('x');
  });

  it('rejects an unknown role', () => {
    expectDomainError(
      () => created({ accessDetails: unifiedRoles('not-a-guid') }),
      'invalid',
      /roleDefinitionId|not-a-guid/,
    );
  });

  it('rejects a custom (non built-in) role GUID', () => {
    const custom = '0b5a4f1e-7c3d-4e2a-9f8b-6d1c2e3f4a5b';
    expectDomainError(
      () => created({ accessDetails: unifiedRoles(roles.userAdministrator, custom) }),
      'invalid',
      custom,
    );
  });

  it('rejects the same role twice, whatever its case', () => {
    expectDomainError(
      () => created({ accessDetails: unifiedRoles(roles.userAdministrator, roles.userAdministrator.toUpperCase()) }),
      'invalid',
      'twice',
    );
  });

  it('rejects an empty role list', () => {
    expectDomainError(() => created({ accessDetails: unifiedRoles() }), 'invalid', 'unifiedRoles');
  });

  it('rejects Global Administrator with P180D auto-extension, saying why', () => {
    expectDomainError(
      () =>
        created({
          autoExtendDuration: 'P180D',
          accessDetails: unifiedRoles(roles.userAdministrator, roles.globalAdministrator),
        }),
      'invalid',
      'Global Administrator',
    );
    // Without auto-extension Global Administrator is fine, and P180D is fine without it.
    expect(created({ accessDetails: unifiedRoles(roles.globalAdministrator) }).roleIds).toEqual([
      roles.globalAdministrator,
    ]);
    expect(created({ autoExtendDuration: 'P180D' }).autoExtendDuration).toBe('P180D');
  });

  it('stores role ids in lower case', () => {
    const relationship = created({
      accessDetails: unifiedRoles(roles.globalAdministrator.toUpperCase(), roles.directoryReaders.toUpperCase()),
    });
    expect(relationship.roleIds).toEqual([roles.globalAdministrator, roles.directoryReaders]);
  });
});

describe('updateRelationship', () => {
  it('changes everything while created and stamps lastModifiedDateTime', () => {
    const current = created();
    const next = updateRelationship(
      current,
      {
        displayName: 'Renamed',
        duration: 'P1Y',
        autoExtendDuration: 'P180D',
        customer: { tenantId: OTHER },
        accessDetails: unifiedRoles(roles.globalReader, roles.directoryReaders),
      },
      later,
    );
    expect(next).toEqual<Relationship>({
      ...current,
      displayName: 'Renamed',
      duration: 'P365D',
      autoExtendDuration: 'P180D',
      customer: { tenantId: OTHER, displayName: '' },
      roleIds: [roles.globalReader, roles.directoryReaders],
      lastModifiedDateTime: toGraphDateTime(later),
    });
    expect(next.createdDateTime).toBe(current.createdDateTime);
    // The input is not mutated.
    expect(current.displayName).toBe('Contoso support');
  });

  it('validates edited values like creation does', () => {
    const current = created();
    expectDomainError(() => updateRelationship(current, { displayName: 'x'.repeat(51) }, later), 'invalid');
    expectDomainError(() => updateRelationship(current, { duration: 'P3Y' }, later), 'invalid', 'duration');
    expectDomainError(() => updateRelationship(current, { accessDetails: unifiedRoles() }, later), 'invalid');
    expectDomainError(() => updateRelationship(current, { status: 'active' }, later), 'invalid', "'status'");
    expectDomainError(() => updateRelationship(current, { colour: 'blue' }, later), 'invalid', "'colour'");
  });

  it('rejects adding Global Administrator to a relationship that auto-extends, and the reverse', () => {
    const extending = created({ autoExtendDuration: 'P180D' });
    expectDomainError(
      () => updateRelationship(extending, { accessDetails: unifiedRoles(roles.globalAdministrator) }, later),
      'invalid',
      'Global Administrator',
    );
    const withGlobalAdmin = created({ accessDetails: unifiedRoles(roles.globalAdministrator) });
    expectDomainError(
      () => updateRelationship(withGlobalAdmin, { autoExtendDuration: 'P180D' }, later),
      'invalid',
      'Global Administrator',
    );
    expectDomainError(
      () =>
        updateRelationship(
          inStatus('active', { roleIds: [roles.globalAdministrator] }),
          { autoExtendDuration: 'P180D' },
          later,
        ),
      'invalid',
      'Global Administrator',
    );
  });

  it('changes only autoExtendDuration while active', () => {
    const active = inStatus('active', { activatedDateTime: toGraphDateTime(now), endDateTime: toGraphDateTime(later) });
    const extended = updateRelationship(active, { autoExtendDuration: 'P180D' }, later);
    expect(extended).toEqual({ ...active, autoExtendDuration: 'P180D', lastModifiedDateTime: toGraphDateTime(later) });
    expect(updateRelationship(extended, { autoExtendDuration: 'P0D' }, later).autoExtendDuration).toBe('PT0S');

    for (const [name, value] of Object.entries({
      displayName: 'Renamed',
      duration: 'P30D',
      customer: { tenantId: OTHER },
      accessDetails: unifiedRoles(roles.globalReader),
    })) {
      expectDomainError(
        () => updateRelationship(active, { autoExtendDuration: 'P180D', [name]: value }, later),
        'invalid',
        `'${name}'`,
      );
    }
  });

  it.each(relationshipStatuses.filter((status) => status !== 'created' && status !== 'active'))(
    'changes nothing while %s',
    (status) => {
      const relationship = inStatus(status);
      expectDomainError(
        () => updateRelationship(relationship, { autoExtendDuration: 'P180D' }, later),
        'invalid',
        status,
      );
      expectDomainError(() => updateRelationship(relationship, { displayName: 'Renamed' }, later), 'invalid', status);
    },
  );
});

describe('perspectiveOf', () => {
  it('sees the partner in every status, case-insensitively', () => {
    for (const status of relationshipStatuses) {
      expect(perspectiveOf(inStatus(status), PARTNER)).toBe('partner');
      expect(perspectiveOf(inStatus(status), PARTNER.toUpperCase())).toBe('partner');
    }
  });

  it('hides drafts from the customer and shows it everything after', () => {
    expect(perspectiveOf(inStatus('created'), CUSTOMER)).toBeUndefined();
    for (const status of relationshipStatuses.filter((s) => s !== 'created')) {
      expect(perspectiveOf(inStatus(status), CUSTOMER)).toBe('customer');
      expect(perspectiveOf(inStatus(status), CUSTOMER.toUpperCase())).toBe('customer');
      expect(perspectiveOf(inStatus(status), OTHER)).toBeUndefined();
    }
  });

  it('opens a customer-agnostic invitation to any tenant only while it awaits approval', () => {
    const open = (status: RelationshipStatus) => inStatus(status, { customer: null });
    expect(perspectiveOf(open('created'), OTHER)).toBeUndefined();
    expect(perspectiveOf(open('approvalPending'), OTHER)).toBe('customer');
    expect(perspectiveOf(open('expired'), OTHER)).toBeUndefined();
  });
});

describe('applyRequestAction', () => {
  const apply = (relationship: Relationship, action: RequestAction, actor: Actor, displayName?: string) =>
    applyRequestAction(relationship, action, actor, later, displayName);
  const laterText = toGraphDateTime(later);

  describe('lockForApproval', () => {
    it('moves created to approvalPending for a partner AdminAgent', () => {
      const draft = created();
      const locked = apply(draft, 'lockForApproval', partnerAdminAgent);
      expect(locked).toEqual<Relationship>({
        ...draft,
        status: 'approvalPending',
        lockedDateTime: laterText,
        lastModifiedDateTime: laterText,
      });
      expect(draft.status).toBe('created');
    });

    it('is forbidden to partner users without AdminAgent', () => {
      expectDomainError(() => apply(created(), 'lockForApproval', partnerHelpdesk), 'forbidden');
      expectDomainError(() => apply(created(), 'lockForApproval', partnerGlobalAdmin), 'forbidden');
    });

    it('is not the customer’s to do', () => {
      // A draft does not exist for the customer at all; afterwards it may see but not lock it.
      expectDomainError(() => apply(created(), 'lockForApproval', customerGlobalAdmin), 'notFound');
      expectDomainError(() => apply(inStatus('approvalPending'), 'lockForApproval', customerGlobalAdmin), 'forbidden');
    });
  });

  describe('approve', () => {
    it('activates the relationship for the customer Global Administrator', () => {
      const pending = inStatus('approvalPending', { lockedDateTime: toGraphDateTime(now) });
      const approved = apply(pending, 'approve', customerGlobalAdmin);
      expect(approved).toEqual<Relationship>({
        ...pending,
        status: 'active',
        activatedDateTime: laterText,
        endDateTime: toGraphDateTime(later.plus({ days: 90 })),
        lastModifiedDateTime: laterText,
      });
      expect(approved.endDateTime).toBe('2026-06-08T13:15:30.5790000Z');
    });

    it('ends exactly the normalised duration after activation', () => {
      const pending = inStatus('approvalPending', { duration: 'P730D' });
      expect(apply(pending, 'approve', customerGlobalAdmin).endDateTime).toBe('2028-03-09T13:15:30.5790000Z');
    });

    it('records the display name the service knows for the customer', () => {
      const pending = inStatus('approvalPending');
      expect(apply(pending, 'approve', customerGlobalAdmin, 'Contoso Ltd').customer).toEqual({
        tenantId: CUSTOMER,
        displayName: 'Contoso Ltd',
      });
    });

    it('is forbidden to the partner and to customer users who are not Global Administrator', () => {
      const pending = inStatus('approvalPending');
      expectDomainError(() => apply(pending, 'approve', partnerAdminAgent), 'forbidden');
      expectDomainError(() => apply(pending, 'approve', partnerGlobalAdmin), 'forbidden');
      expectDomainError(() => apply(pending, 'approve', customerUser), 'forbidden');
    });

    it('is not found for a tenant that is not the named customer', () => {
      expectDomainError(() => apply(inStatus('approvalPending'), 'approve', otherGlobalAdmin), 'notFound');
    });

    it('lets any tenant accept a customer-agnostic invitation, which makes it the customer', () => {
      const open = inStatus('approvalPending', { customer: null });
      const approved = apply(open, 'approve', { ...otherGlobalAdmin, tenantId: OTHER.toUpperCase() }, 'Fabrikam');
      expect(approved.customer).toEqual({ tenantId: OTHER, displayName: 'Fabrikam' });
      expect(approved.status).toBe('active');
      expect(perspectiveOf(approved, OTHER)).toBe('customer');
      expect(perspectiveOf(approved, CUSTOMER)).toBeUndefined();
      expect(apply(open, 'approve', otherGlobalAdmin).customer).toEqual({ tenantId: OTHER, displayName: '' });
    });
  });

  describe('reject', () => {
    it('terminates the relationship for the customer Global Administrator', () => {
      const pending = inStatus('approvalPending');
      expect(apply(pending, 'reject', customerGlobalAdmin)).toEqual<Relationship>({
        ...pending,
        status: 'terminated',
        endDateTime: laterText,
        lastModifiedDateTime: laterText,
      });
    });

    it('is forbidden to the partner, not found for another tenant', () => {
      expectDomainError(() => apply(inStatus('approvalPending'), 'reject', partnerAdminAgent), 'forbidden');
      expectDomainError(() => apply(inStatus('approvalPending'), 'reject', customerUser), 'forbidden');
      expectDomainError(() => apply(inStatus('approvalPending'), 'reject', otherGlobalAdmin), 'notFound');
    });

    it('lets any tenant reject a customer-agnostic invitation', () => {
      const rejected = apply(inStatus('approvalPending', { customer: null }), 'reject', otherGlobalAdmin, 'Fabrikam');
      expect(rejected.status).toBe('terminated');
      expect(rejected.endDateTime).toBe(laterText);
      expect(rejected.activatedDateTime).toBeNull();
    });
  });

  describe('terminate', () => {
    const active = () =>
      inStatus('active', {
        activatedDateTime: toGraphDateTime(now),
        endDateTime: toGraphDateTime(now.plus({ days: 90 })),
      });

    it.each([
      ['the partner AdminAgent', partnerAdminAgent],
      ['the customer Global Administrator', customerGlobalAdmin],
    ])('ends an active relationship at once for %s', (_label, actor) => {
      const relationship = active();
      expect(apply(relationship, 'terminate', actor)).toEqual<Relationship>({
        ...relationship,
        status: 'terminated',
        endDateTime: laterText,
        lastModifiedDateTime: laterText,
      });
    });

    it('is forbidden to others, not found for strangers', () => {
      expectDomainError(() => apply(active(), 'terminate', partnerHelpdesk), 'forbidden');
      expectDomainError(() => apply(active(), 'terminate', partnerGlobalAdmin), 'forbidden');
      expectDomainError(() => apply(active(), 'terminate', customerUser), 'forbidden');
      expectDomainError(() => apply(active(), 'terminate', otherGlobalAdmin), 'notFound');
    });

    it('cannot be used by the partner while approval is pending (it expires by itself)', () => {
      expectDomainError(
        () => apply(inStatus('approvalPending'), 'terminate', partnerAdminAgent),
        'invalid',
        'approvalPending',
      );
    });
  });

  describe('state machine', () => {
    const allowedFrom: Record<RequestAction, RelationshipStatus> = {
      lockForApproval: 'created',
      approve: 'approvalPending',
      reject: 'approvalPending',
      terminate: 'active',
    };
    const actorFor: Record<RequestAction, Actor> = {
      lockForApproval: partnerAdminAgent,
      approve: customerGlobalAdmin,
      reject: customerGlobalAdmin,
      terminate: partnerAdminAgent,
    };
    const expectedStatus: Record<RequestAction, RelationshipStatus> = {
      lockForApproval: 'approvalPending',
      approve: 'active',
      reject: 'terminated',
      terminate: 'terminated',
    };
    const cases = (Object.keys(allowedFrom) as RequestAction[]).flatMap((action) =>
      relationshipStatuses.map((status) => [action, status] as const),
    );

    it.each(cases)('%s from %s', (action, status) => {
      const relationship = inStatus(status);
      const actor = actorFor[action];
      if (status === allowedFrom[action]) {
        expect(apply(relationship, action, actor).status).toBe(expectedStatus[action]);
      } else if (status === 'created' && actor.tenantId === CUSTOMER) {
        // A draft does not exist for the customer.
        expectDomainError(() => apply(relationship, action, actor), 'notFound');
      } else {
        expectDomainError(() => apply(relationship, action, actor), 'invalid', `'${status}'`);
      }
    });

    it('names the current status when the action does not fit it', () => {
      const error = domainErrorOf(() => apply(inStatus('expired'), 'terminate', partnerAdminAgent));
      expect(error.kind).toBe('invalid');
      expect(error.message).toContain('expired');
      expect(error.message).toContain('terminate');
    });
  });
});

describe('parseRequestAction', () => {
  it.each(['lockForApproval', 'approve', 'reject', 'terminate'])('accepts %s', (action) => {
    expect(parseRequestAction({ action })).toBe(action);
    expect(parseRequestAction({ '@odata.type': '#microsoft.graph.delegatedAdminRelationshipRequest', action })).toBe(
      action,
    );
  });

  it('rejects unknown actions, naming the property', () => {
    expectDomainError(() => parseRequestAction({ action: 'extend' }), 'invalid', "'action'");
    expectDomainError(() => parseRequestAction({ action: 3 }), 'invalid', 'action');
    expectDomainError(() => parseRequestAction({}), 'invalid', 'action');
  });

  it('rejects read-only and unknown properties, and non-objects', () => {
    expectDomainError(() => parseRequestAction({ action: 'approve', status: 'succeeded' }), 'invalid', "'status'");
    expectDomainError(() => parseRequestAction({ action: 'approve', reason: 'why not' }), 'invalid', "'reason'");
    expectDomainError(() => parseRequestAction('approve'), 'invalid');
    expectDomainError(() => parseRequestAction(null), 'invalid');
  });
});

describe('role catalog', () => {
  it('knows built-in roles whatever the case', () => {
    expect(isBuiltInRole(roles.globalAdministrator)).toBe(true);
    expect(isBuiltInRole(roles.globalAdministrator.toUpperCase())).toBe(true);
    expect(isBuiltInRole(roles.directoryReaders)).toBe(true);
    expect(isBuiltInRole('0b5a4f1e-7c3d-4e2a-9f8b-6d1c2e3f4a5b')).toBe(false);
    expect(isBuiltInRole('')).toBe(false);
    expect(findRole(roles.globalAdministrator.toUpperCase())?.displayName).toBe('Global Administrator');
  });

  it.each([
    ['Global Administrator', roles.globalAdministrator],
    ['Service Support Administrator', roles.serviceSupportAdministrator],
    ['Helpdesk Administrator', roles.helpdeskAdministrator],
    ['User Administrator', roles.userAdministrator],
  ])('%s may manage support tickets', (_name, id) => {
    expect(rolesGrantPermission([id], supportTicketsPermission)).toBe(true);
    expect(rolesGrantPermission([id.toUpperCase()], supportTicketsPermission)).toBe(true);
  });

  it.each([
    ['Global Reader', roles.globalReader],
    ['Directory Readers', roles.directoryReaders],
    ['License Administrator', roles.licenseAdministrator],
  ])('%s may not manage support tickets', (_name, id) => {
    expect(rolesGrantPermission([id], supportTicketsPermission)).toBe(false);
  });

  it('grants a permission when any one of the roles has it', () => {
    expect(rolesGrantPermission([roles.globalReader, roles.helpdeskAdministrator], supportTicketsPermission)).toBe(
      true,
    );
    expect(rolesGrantPermission([roles.globalReader, roles.directoryReaders], supportTicketsPermission)).toBe(false);
    expect(rolesGrantPermission([], supportTicketsPermission)).toBe(false);
    expect(rolesGrantPermission(['not-a-role'], supportTicketsPermission)).toBe(false);
    expect(rolesGrantPermission([roles.globalAdministrator], 'microsoft.directory/users/delete')).toBe(false);
  });
});

describe('API ETags', () => {
  // Table Storage ETags: W/"datetime'<url-encoded timestamp>'".
  const storageEtags = [
    `W/"datetime'2026-03-10T08%3A15%3A30.1230000Z'"`,
    `W/"datetime'2026-01-01T00%3A00%3A00.0000001Z'"`,
    `W/"datetime'2026-01-01T00%3A00%3A00Z'"`,
  ];

  it.each(storageEtags)('round-trips %s', (storageEtag) => {
    const apiEtag = toApiEtag(storageEtag);
    expect(apiEtag).toMatch(/^W\/"[A-Za-z0-9+/=]+"$/);
    expect(apiEtag).not.toContain('datetime');
    expect(fromApiEtag(apiEtag)).toBe(storageEtag);
    // Clients may send it back strong, or with stray whitespace.
    expect(fromApiEtag(apiEtag.slice(2))).toBe(storageEtag);
    expect(fromApiEtag(` ${apiEtag} `)).toBe(storageEtag);
  });

  it.each([
    '',
    '*',
    'garbage',
    'W/garbage',
    'W/""',
    'W/"not base64!"',
    '"abc',
    'W/"YWJ"',
    'W/"gA=="',
    `W/"${Buffer.from('x').toString('base64')}"junk`,
    // The raw storage ETag is not an API ETag.
    storageEtags[0],
  ])('rejects %j', (value) => {
    expect(fromApiEtag(value)).toBeUndefined();
  });
});
