import { DateTime } from 'luxon';
import { EffectiveAccess } from '../../shared/domain/access';
import { consentsOf, mayConsent, normalizeScope, parseConsent } from '../../shared/domain/consents';
import { globalAdministratorRoleId } from '../../shared/domain/roles';
import { roles } from '../fixtures';

const now = DateTime.fromISO('2026-05-01T10:00:00Z', { zone: 'utc' });
const appId = 'aaaaaaaa-1111-4111-8111-111111111111';
const graph = '00000003-0000-0000-c000-000000000000';
const context = {
  customerTenantId: '22222222-2222-4222-8222-222222222222',
  partnerTenantId: '33333333-3333-4333-8333-333333333333',
  tokenAppId: appId,
};
const body = (overrides: Record<string, unknown> = {}) => ({
  applicationId: appId,
  displayName: 'Contoso tool',
  applicationGrants: [{ enterpriseApplicationId: graph, scope: 'profile, User.Read' }],
  ...overrides,
});

describe('application consents (SPEC §7)', () => {
  it('parses a valid consent', () => {
    expect(parseConsent(body(), context, now)).toEqual({
      applicationId: appId,
      displayName: 'Contoso tool',
      enterpriseApplicationId: graph,
      scope: 'profile, User.Read',
      consentedByPartnerTenantId: context.partnerTenantId,
      customerTenantId: context.customerTenantId,
      createdDateTime: '2026-05-01T10:00:00.0000000Z',
    });
  });

  it('refuses more than one resource per call, and none', () => {
    const two = body({
      applicationGrants: [
        { enterpriseApplicationId: graph, scope: 'profile' },
        { enterpriseApplicationId: '00000002-0000-0ff1-ce00-000000000000', scope: 'Exchange.Manage' },
      ],
    });
    expect(() => parseConsent(two, context, now)).toThrow(/exactly one resource.*one call per resource/);
    expect(() => parseConsent(body({ applicationGrants: [] }), context, now)).toThrow(/exactly one resource/);
  });

  it('refuses a resource name instead of its id', () => {
    const named = body({ applicationGrants: [{ enterpriseApplicationId: 'graph.microsoft.com', scope: 'profile' }] });
    expect(() => parseConsent(named, context, now)).toThrow(/Request_UnsupportedQuery.*resource's application id/);
  });

  it('takes scopes separated by a comma and a space', () => {
    expect(normalizeScope('profile,User.Read')).toBe('profile, User.Read');
    expect(normalizeScope('profile, User.Read, profile')).toBe('profile, User.Read');
    expect(() => normalizeScope('profile User.Read')).toThrow(/comma and a space/);
    expect(() => normalizeScope('profile, ')).toThrow(/comma and a space/);
  });

  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['another application than the token', { applicationId: 'bbbbbbbb-1111-4111-8111-111111111111' }, appId],
    ['no applicationId', { applicationId: undefined }, appId],
    ['a token without appid', {}, undefined],
  ])('answers "Unsupported token" for %s', (_label, overrides, tokenAppId) => {
    expect(() => parseConsent(body(overrides), { ...context, tokenAppId }, now)).toThrow(
      /^Unsupported token\. Unable to initialize the authorization context/,
    );
  });

  it('takes a consent without displayName, as Partner Center does (SPEC §14)', () => {
    expect(parseConsent(body({ displayName: undefined }), context, now).displayName).toBe('');
  });

  it('binds property names in any case, as Partner Center does, and refuses one given twice', () => {
    const pascal = {
      ApplicationId: appId,
      ApplicationGrants: [{ EnterpriseApplicationId: '00000003-0000-0000-c000-000000000000', Scope: 'profile' }],
    };
    expect(parseConsent(pascal, context, now)).toMatchObject({ applicationId: appId, scope: 'profile' });
    expect(() => parseConsent({ ...pascal, applicationId: appId }, context, now)).toThrow(/given more than once/);
    expect(() => parseConsent({ ...pascal, Unknown: 1 }, context, now)).toThrow(/'Unknown' is not supported/);
  });

  it('lets DAP and GDAP with Global, Application or Cloud Application Administrator consent', () => {
    const access = (mode: EffectiveAccess['mode'], roleIds: string[]): EffectiveAccess => ({
      customerTenantId: context.customerTenantId,
      mode,
      roleIds,
      grantedBy: [],
    });
    expect(mayConsent(access('dap', [globalAdministratorRoleId]))).toBe(true);
    expect(mayConsent(access('gdap', [globalAdministratorRoleId]))).toBe(true);
    expect(mayConsent(access('gdap', ['9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3']))).toBe(true);
    expect(mayConsent(access('gdap', ['158c047a-c907-4556-b7ef-446551a6b5f7']))).toBe(true);
    expect(mayConsent(access('gdap', [roles.globalReader]))).toBe(false);
    expect(mayConsent(access('none', []))).toBe(false);
  });

  it('groups grants by application', () => {
    const first = parseConsent(body(), context, now);
    const second = {
      ...parseConsent(body(), context, now.plus({ minutes: 1 })),
      enterpriseApplicationId: '00000002-0000-0ff1-ce00-000000000000',
      scope: 'Exchange.Manage',
    };
    expect(consentsOf([second, first])).toEqual([
      {
        applicationId: appId,
        displayName: 'Contoso tool',
        applicationGrants: [
          { enterpriseApplicationId: graph, scope: 'profile, User.Read' },
          { enterpriseApplicationId: '00000002-0000-0ff1-ce00-000000000000', scope: 'Exchange.Manage' },
        ],
        createdDateTime: first.createdDateTime,
      },
    ]);
  });
});
