import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Caller } from '../shared/app/caller';
import type { GdapJob } from '../shared/domain/gdapJobs';
import { Principal } from '../shared/domain/principal';

/** Test fixtures shared by every tier: role template ids (SPEC §13) and callers built from claims. */
export const roles = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  exchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  intuneAdministrator: '3a2c62db-5318-420d-8d74-23affee5d9d5',
  globalReader: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  directoryReaders: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  helpdeskAdministrator: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  licenseAdministrator: '4d6ac14f-3453-41d0-bef9-a3e0c569773a',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  serviceSupportAdministrator: 'f023fd81-a637-4b56-95fd-791ac0226033',
  /** Customer side: accepts, views and terminates GDAP relationships, but cannot remove roles. */
  customerDelegatedAdminRelationshipAdministrator: 'fc8ad4e2-40e4-4724-8317-bcda7503ecbf',
};

export function principal(claims: Partial<Principal> & { tenantId: string }): Principal {
  return {
    objectId: randomUUID(),
    directoryRoleIds: [],
    appRoles: [],
    groups: [],
    isGuest: false,
    ...claims,
  };
}

/** A partner AdminAgent of `tenantId`, acting at `now`. */
export function partnerAgent(tenantId: string, now: DateTime): Caller {
  return { principal: principal({ tenantId, appRoles: ['AdminAgent'] }), now };
}

/** A Global Administrator of customer `tenantId`, acting at `now`. */
export function customerAdmin(tenantId: string, now: DateTime): Caller {
  return { principal: principal({ tenantId, directoryRoleIds: [roles.globalAdministrator] }), now };
}

/** A `terminate` job of `total` items by a fresh partner, as `insertJob` takes it (no items yet). */
export function terminateJob(total: number): GdapJob {
  const partnerTenantId = randomUUID();
  return {
    id: randomUUID(),
    partnerTenantId,
    kind: 'terminate',
    createdDateTime: '2026-01-01T00:00:00.0000000Z',
    parameters: {},
    createdBy: { tenantId: partnerTenantId, userId: randomUUID() },
    total,
    canceledDateTime: null,
    baseUrl: 'http://127.0.0.1',
  };
}
