import { DateTime } from 'luxon';
import { DomainError } from '../../shared/domain/errors';
import {
  assertGdapAllowed,
  defaultGdapDisplayName,
  defaultGdapRoleIds,
  gdapPermissions,
  implicitProfile,
  PartnerProfile,
  PartnerType,
  parsePartnerProfile,
} from '../../shared/domain/partners';
import { findRole } from '../../shared/domain/roles';

const now = DateTime.fromISO('2026-05-01T10:00:00Z', { zone: 'utc' });
const tenant = '11111111-1111-4111-8111-111111111111';

/** Role names, so the expectations read like the table of SPEC §5.2. */
const names = (ids: string[]): string[] => ids.map((id) => findRole(id)?.displayName ?? id);

const nineCommon = [
  'Directory Readers',
  'Directory Writers',
  'License Administrator',
  'Service Support Administrator',
  'User Administrator',
  'Privileged Role Administrator',
  'Helpdesk Administrator',
  'Privileged Authentication Administrator',
  'Global Reader',
];
const applicationAdmins = ['Cloud Application Administrator', 'Application Administrator'];
const domainOnly = ['External Identity Provider Administrator', 'Domain Name Administrator'];

describe('default GDAP roles (SPEC §5.2)', () => {
  const profile = (partnerTypes: PartnerType[], defaultGdapOptOut = false) => ({ partnerTypes, defaultGdapOptOut });

  it.each<[string, PartnerType[], string[]]>([
    ['directBill', ['directBill'], [...nineCommon, ...applicationAdmins]],
    ['indirectProvider', ['indirectProvider'], [...nineCommon, ...applicationAdmins]],
    ['indirectReseller', ['indirectReseller'], nineCommon],
    ['domain', ['domain'], [...nineCommon, ...applicationAdmins, ...domainOnly]],
    ['cpv', ['cpv'], [...nineCommon, ...applicationAdmins]],
    ['advisor', ['advisor'], []],
    ['indirectReseller + cpv (union)', ['indirectReseller', 'cpv'], [...nineCommon, ...applicationAdmins]],
    [
      'indirectReseller + domain (union)',
      ['indirectReseller', 'domain'],
      [...nineCommon, ...applicationAdmins, ...domainOnly],
    ],
    ['advisor + indirectReseller (union)', ['advisor', 'indirectReseller'], nineCommon],
  ])('%s', (_label, partnerTypes, expected) => {
    const roleIds = defaultGdapRoleIds(profile(partnerTypes));
    expect(new Set(names(roleIds))).toEqual(new Set(expected));
    expect(roleIds).toHaveLength(expected.length);
  });

  it('gives nothing to a partner who opted out, whatever its types', () => {
    expect(defaultGdapRoleIds(profile(['directBill', 'domain'], true))).toEqual([]);
  });

  it('never includes Global Administrator, and every role is in the catalog', () => {
    const all = defaultGdapRoleIds(profile(['directBill', 'indirectProvider', 'indirectReseller', 'domain', 'cpv']));
    expect(all).toHaveLength(13);
    expect(names(all)).not.toContain('Global Administrator');
    for (const id of all) expect(findRole(id)).toBeDefined();
  });

  it('names default relationships uniquely within 50 characters', () => {
    const a = defaultGdapDisplayName('Contoso', 'ABCDEF12-0000-4000-8000-000000000000');
    expect(a).toBe('Default_Contoso_abcdef12');
    const long = defaultGdapDisplayName('A very long company name that goes on and on and on', 'abcdef12-0000');
    expect(long.length).toBeLessThanOrEqual(50);
    expect(long).toMatch(/^Default_A very long company name .*_abcdef12$/);
  });
});

describe('account state gates (SPEC §5.3)', () => {
  const withStates = (programStates: PartnerProfile['programStates']): PartnerProfile => ({
    ...implicitProfile(tenant),
    partnerTypes: Object.keys(programStates) as PartnerType[],
    programStates,
  });

  it.each<[string, PartnerProfile['programStates'], { createGdap: boolean; updateGdap: boolean }]>([
    ['a CSP program active', { directBill: 'active' }, { createGdap: true, updateGdap: true }],
    [
      'restricted direct bill + active indirect reseller',
      { directBill: 'restricted', indirectReseller: 'active' },
      { createGdap: true, updateGdap: true },
    ],
    ['none active, some restricted', { directBill: 'restricted' }, { createGdap: false, updateGdap: true }],
    [
      'none active, restricted and suspended',
      { directBill: 'restricted', indirectProvider: 'suspended' },
      { createGdap: false, updateGdap: true },
    ],
    [
      'all suspended',
      { directBill: 'suspended', indirectProvider: 'suspended', indirectReseller: 'suspended' },
      { createGdap: false, updateGdap: false },
    ],
  ])('%s', (_label, programStates, expected) => {
    const profile = withStates(programStates);
    expect(gdapPermissions(profile)).toEqual(expected);
    for (const action of ['createGdap', 'updateGdap'] as const) {
      if (expected[action]) expect(() => assertGdapAllowed(profile, action)).not.toThrow();
      else expect(() => assertGdapAllowed(profile, action)).toThrow(DomainError);
    }
  });

  it('explains the refusal with the account state', () => {
    expect(() => assertGdapAllowed(withStates({ directBill: 'restricted' }), 'createGdap')).toThrow(
      /restricted.*cannot create new GDAP relationships.*can still be updated/,
    );
    try {
      assertGdapAllowed(withStates({ directBill: 'suspended' }), 'updateGdap');
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toMatchObject({
        kind: 'forbidden',
        message: expect.stringMatching(/suspended.*directBill: suspended/),
      });
    }
  });

  it('treats a tenant without a profile as an active direct-bill partner, and does not gate non-CSP partners', () => {
    expect(implicitProfile(tenant)).toMatchObject({
      partnerTypes: ['directBill'],
      programStates: { directBill: 'active' },
    });
    expect(gdapPermissions(implicitProfile(tenant))).toEqual({ createGdap: true, updateGdap: true });
    const cpvOnly = parsePartnerProfile({ partnerTypes: ['cpv'] }, tenant, now);
    expect(gdapPermissions(cpvOnly)).toEqual({ createGdap: true, updateGdap: true });
  });
});

describe('partner profiles (SPEC §5.1)', () => {
  it('defaults unstated CSP programs to active and orders the types', () => {
    expect(
      parsePartnerProfile(
        { partnerTypes: ['indirectReseller', 'advisor', 'directBill'], programStates: { directBill: 'restricted' } },
        tenant,
        now,
      ),
    ).toEqual({
      tenantId: tenant,
      partnerTypes: ['directBill', 'indirectReseller', 'advisor'],
      programStates: { directBill: 'restricted', indirectReseller: 'active' },
      defaultGdapOptOut: false,
      lastModifiedDateTime: '2026-05-01T10:00:00.0000000Z',
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown type', { partnerTypes: ['gold'] }, /partnerTypes\[0\]/],
    ['no type', { partnerTypes: [] }, /at least one/],
    ['a repeated type', { partnerTypes: ['cpv', 'cpv'] }, /twice/],
    [
      'a state for a program the partner is not in',
      { partnerTypes: ['directBill'], programStates: { indirectProvider: 'active' } },
      /programStates.indirectProvider/,
    ],
    [
      'a state for a non-CSP type',
      { partnerTypes: ['advisor'], programStates: { advisor: 'active' } },
      /programStates.advisor/,
    ],
    [
      'an unknown state',
      { partnerTypes: ['directBill'], programStates: { directBill: 'paused' } },
      /programStates.directBill/,
    ],
    ['an unknown property', { partnerTypes: ['directBill'], tier: 'gold' }, /'tier'/],
    ['a read-only property', { partnerTypes: ['directBill'], gdapPermissions: {} }, /read-only/],
  ])('refuses %s', (_label, body, message) => {
    expect(() => parsePartnerProfile(body, tenant, now)).toThrow(message);
  });
});
