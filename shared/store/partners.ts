import { assertGdapAllowed, GdapAction, implicitProfile, PartnerProfile } from '../domain/partners';
import { ReadCache } from './readCache';
import { ensureTables, isStatus, tableClient, tableNames } from './tables';

/**
 * Partner account profiles (SPEC §5.1): one row per partner tenant. A tenant without a row is an
 * active direct-bill partner (§11), so nothing needs seeding for the common case.
 */
const partners = () => tableClient(tableNames.partners);
const profileRow = 'profile';
const profiles = new ReadCache<PartnerProfile>();

export function getPartnerProfile(tenantId: string): Promise<PartnerProfile> {
  const tenant = tenantId.toLowerCase();
  return profiles.get(tenant, () => readPartnerProfile(tenant));
}

async function readPartnerProfile(tenant: string): Promise<PartnerProfile> {
  await ensureTables();
  try {
    const row = await partners().getEntity<Record<string, unknown>>(tenant, profileRow);
    return {
      tenantId: tenant,
      partnerTypes: JSON.parse(String(row.partnerTypes)) as PartnerProfile['partnerTypes'],
      programStates: JSON.parse(String(row.programStates)) as PartnerProfile['programStates'],
      defaultGdapOptOut: row.defaultGdapOptOut === true,
      lastModifiedDateTime: typeof row.lastModifiedDateTime === 'string' ? row.lastModifiedDateTime : null,
    };
  } catch (error) {
    if (isStatus(error, 404)) return implicitProfile(tenant);
    throw error;
  }
}

/** Stores (creates or replaces) a partner's profile. */
export async function putPartnerProfile(profile: PartnerProfile): Promise<void> {
  const tenant = profile.tenantId.toLowerCase();
  await ensureTables();
  try {
    await partners().upsertEntity(
      {
        partitionKey: tenant,
        rowKey: profileRow,
        partnerTypes: JSON.stringify(profile.partnerTypes),
        programStates: JSON.stringify(profile.programStates),
        defaultGdapOptOut: profile.defaultGdapOptOut,
        lastModifiedDateTime: profile.lastModifiedDateTime ?? undefined,
      },
      'Replace',
    );
  } finally {
    profiles.forget(tenant);
  }
}

/**
 * The account-state gate (SPEC §5.3) for every path that creates or changes GDAP relationships
 * or their access assignments: throws a `forbidden` DomainError (403) naming the account state.
 * `createGdap` for new relationships (create, lockForApproval, default GDAP); `updateGdap` for
 * changes to existing ones and to their assignments (create, update and delete).
 */
export async function assertPartnerMay(partnerTenantId: string, action: GdapAction): Promise<void> {
  assertGdapAllowed(await getPartnerProfile(partnerTenantId), action);
}
