import {
  DelegatedAccessFacts,
  initialDomain,
  missingDelegatedAccess,
  parseNewCustomer,
} from '../../shared/domain/customers';
import { globalAdministratorRoleId } from '../../shared/domain/roles';

const customerTenantId = '22222222-2222-4222-8222-222222222222';

describe('new customers (SPEC §5.2)', () => {
  it('defaults enableGDAPByDefault to true and normalises the initial domain', () => {
    expect(parseNewCustomer({ companyProfile: { companyName: ' Contoso ', domain: 'Contoso' } })).toEqual({
      companyProfile: { companyName: 'Contoso', domain: 'contoso.onmicrosoft.com' },
      enableGDAPByDefault: true,
    });
    expect(
      parseNewCustomer({
        companyProfile: { companyName: 'Fabrikam', domain: 'fabrikam.onmicrosoft.com' },
        enableGDAPByDefault: false,
      }).enableGDAPByDefault,
    ).toBe(false);
  });

  it.each<[string, unknown, RegExp]>([
    ['a missing company profile', {}, /'companyProfile' is missing/],
    ['an empty company name', { companyProfile: { companyName: ' ', domain: 'x' } }, /companyName/],
    ['a domain with dots', { companyProfile: { companyName: 'A', domain: 'contoso.com' } }, /companyProfile.domain/],
    [
      'a non-boolean flag',
      { companyProfile: { companyName: 'A', domain: 'a' }, enableGDAPByDefault: 'yes' },
      /boolean/,
    ],
    ['an unknown property', { companyProfile: { companyName: 'A', domain: 'a' }, dap: true }, /'dap'/],
  ])('refuses %s', (_label, body, message) => {
    expect(() => parseNewCustomer(body)).toThrow(message);
  });

  it('accepts at most 27 letters or digits before .onmicrosoft.com', () => {
    expect(initialDomain('a'.repeat(27))).toBe(`${'a'.repeat(27)}.onmicrosoft.com`);
    expect(() => initialDomain('a'.repeat(28))).toThrow(/1 to 27 letters or digits/);
  });
});

describe('missing delegated access (SPEC §5.2)', () => {
  const facts = (overrides: Partial<DelegatedAccessFacts>): DelegatedAccessFacts => ({
    customerTenantId,
    access: { customerTenantId, mode: 'none', roleIds: [], grantedBy: [] },
    partnerHasDap: false,
    partnerActiveGdapRelationships: 0,
    isAdminAgent: true,
    ...overrides,
  });

  it('is nothing with DAP or GDAP access', () => {
    const access = { customerTenantId, mode: 'dap' as const, roleIds: [globalAdministratorRoleId], grantedBy: [] };
    expect(missingDelegatedAccess(facts({ access, partnerHasDap: true }), 'see users')).toBeUndefined();
  });

  it('names the missing DAP and GDAP of a reseller-only partner', () => {
    expect(missingDelegatedAccess(facts({}), "see the customer's users")).toMatch(
      /neither DAP nor an active GDAP relationship.*cannot see the customer's users/,
    );
  });

  it('names the missing access assignment when the partner has GDAP', () => {
    expect(missingDelegatedAccess(facts({ partnerActiveGdapRelationships: 1 }), 'see users')).toMatch(
      /active GDAP relationship.*none of your security groups holds an active access assignment/,
    );
  });

  it('explains that DAP applies only to AdminAgents', () => {
    expect(missingDelegatedAccess(facts({ partnerHasDap: true, isAdminAgent: false }), 'see users')).toMatch(
      /no active GDAP relationship.*DAP relationship applies only to AdminAgent users/,
    );
  });
});
