import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Caller } from '../shared/app/caller';
import { Principal } from '../shared/domain/principal';

/** Test fixtures shared by every tier: role template ids (SPEC §13) and callers built from claims. */
export const roles = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  exchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  intuneAdministrator: '3a2c62db-5318-420d-8d74-23affee5d9d5',
  globalReader: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  serviceSupportAdministrator: 'f023fd81-a637-4b56-95fd-791ac0226033',
  /** Customer side: accepts, views and terminates GDAP relationships, but cannot remove roles. */
  customerDelegatedAdminRelationshipAdministrator: 'fc8ad4e2-40e4-4724-8317-bcda7503ecbf',
} as const;

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
