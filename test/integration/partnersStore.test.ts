import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { ConsentGrant } from '../../shared/domain/consents';
import { newCustomer } from '../../shared/domain/customers';
import { DomainError } from '../../shared/domain/errors';
import { newRelationshipId } from '../../shared/domain/ids';
import { jobIds } from '../../shared/domain/jobs';
import { defaultGdapRoleIds, parsePartnerProfile } from '../../shared/domain/partners';
import { activateDefault, createRelationship } from '../../shared/domain/relationships';
import { toGraphDateTime } from '../../shared/domain/time';
import { deleteConsent, insertConsentGrant, listConsentGrants } from '../../shared/store/consents';
import { findCustomer, insertCustomer } from '../../shared/store/customers';
import { dueEntries } from '../../shared/store/dueIndex';
import { assertPartnerMay, getPartnerProfile, putPartnerProfile } from '../../shared/store/partners';
import { findRelationship } from '../../shared/store/relationships';
import { createPlanned } from '../../shared/app/relationships';
import { partnerAgent } from '../fixtures';
import { tableClient, tableNames } from '../../shared/store/tables';

/** Partner profiles, customers and consents on a real Azurite. */
const now = DateTime.fromISO('2026-05-01T10:00:00Z', { zone: 'utc' });

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('partner profiles', () => {
  it('treats a tenant without a profile as an active direct-bill partner', async () => {
    const tenantId = randomUUID();
    expect(await getPartnerProfile(tenantId)).toEqual({
      tenantId,
      partnerTypes: ['directBill'],
      programStates: { directBill: 'active' },
      defaultGdapOptOut: false,
      lastModifiedDateTime: null,
    });
    await expect(assertPartnerMay(tenantId, 'createGdap')).resolves.toBeUndefined();
  });

  it('stores a profile and gates on it', async () => {
    const tenantId = randomUUID();
    const profile = parsePartnerProfile(
      {
        partnerTypes: ['directBill', 'indirectReseller'],
        programStates: { directBill: 'restricted', indirectReseller: 'suspended' },
      },
      tenantId,
      now,
    );
    await putPartnerProfile(profile);
    expect(await getPartnerProfile(tenantId.toUpperCase())).toEqual(profile);
    expect(await refusal(assertPartnerMay(tenantId, 'createGdap'))).toMatchObject({ kind: 'forbidden' });
    await expect(assertPartnerMay(tenantId, 'updateGdap')).resolves.toBeUndefined();

    await putPartnerProfile({ ...profile, programStates: { directBill: 'suspended', indirectReseller: 'suspended' } });
    expect(await refusal(assertPartnerMay(tenantId, 'updateGdap'))).toMatchObject({ kind: 'forbidden' });
  });
});

describe('customers', () => {
  const customer = (domain: string) =>
    newCustomer(
      { companyProfile: { companyName: 'Contoso', domain }, enableGDAPByDefault: true },
      { tenantId: randomUUID(), adminUserId: randomUUID(), resellerPartnerTenantId: randomUUID() },
      now,
    );

  it('keeps initial domains unique', async () => {
    const domain = `c${randomUUID().slice(0, 8)}.onmicrosoft.com`;
    const first = customer(domain);
    await insertCustomer(first);
    expect(await findCustomer(first.tenantId)).toEqual(first);
    expect(await refusal(insertCustomer(customer(domain)))).toMatchObject({ kind: 'conflict' });
  });

  it('takes over a domain reservation whose customer was never stored', async () => {
    const domain = `o${randomUUID().slice(0, 8)}.onmicrosoft.com`;
    await tableClient(tableNames.customers).createEntity({
      partitionKey: `domain|${domain}`,
      rowKey: 'domain',
      customerTenantId: randomUUID(),
    });
    const second = customer(domain);
    await insertCustomer(second);
    expect(await findCustomer(second.tenantId)).toEqual(second);
  });

  it('stores a default relationship born active with its due-date entries', async () => {
    const partnerTenantId = randomUUID();
    const customerTenantId = randomUUID();
    const draft = createRelationship(
      {
        displayName: `Default_Contoso_${customerTenantId.slice(0, 8)}`,
        duration: 'P730D',
        customer: { tenantId: customerTenantId, displayName: 'Contoso' },
        accessDetails: {
          unifiedRoles: defaultGdapRoleIds({ partnerTypes: ['directBill'], defaultGdapOptOut: false }).map(
            (roleDefinitionId) => ({ roleDefinitionId }),
          ),
        },
      },
      { id: newRelationshipId(partnerTenantId), partnerTenantId },
      now,
    );
    const active = activateDefault(draft, now);
    await createPlanned(active, partnerAgent(partnerTenantId, now));
    expect((await findRelationship(active.id))?.value).toMatchObject({
      status: 'active',
      endDateTime: active.endDateTime,
    });
    const due = await dueEntries(jobIds.processEndDates, active.endDateTime as string, 1000);
    expect(due.map((row) => row.entry.subjectId)).toContain(active.id);
  });
});

describe('application consents', () => {
  const grant = (customerTenantId: string, applicationId: string, resource: string): ConsentGrant => ({
    customerTenantId,
    applicationId,
    displayName: 'Tool',
    enterpriseApplicationId: resource,
    scope: 'profile',
    consentedByPartnerTenantId: randomUUID(),
    createdDateTime: toGraphDateTime(now),
  });

  it('holds one grant per application and resource; deleting removes them all', async () => {
    const customerTenantId = randomUUID();
    const app = randomUUID();
    const other = randomUUID();
    await insertConsentGrant(grant(customerTenantId, app, 'r1'));
    await insertConsentGrant(grant(customerTenantId, app, 'r2'));
    await insertConsentGrant(grant(customerTenantId, other, 'r1'));
    expect(await refusal(insertConsentGrant(grant(customerTenantId, app, 'r1')))).toMatchObject({ kind: 'conflict' });
    expect((await listConsentGrants(customerTenantId, app)).map((g) => g.enterpriseApplicationId).sort()).toEqual([
      'r1',
      'r2',
    ]);
    expect(await listConsentGrants(customerTenantId)).toHaveLength(3);
    expect(await deleteConsent(customerTenantId, app)).toBe(true);
    expect(await deleteConsent(customerTenantId, app)).toBe(false);
    expect((await listConsentGrants(customerTenantId)).map((g) => g.applicationId)).toEqual([other]);
  });
});
