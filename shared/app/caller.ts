import { DateTime } from 'luxon';
import { ChangeCause } from '../domain/events';
import { toGraphDateTime } from '../domain/time';
import { appRoles, Principal } from '../http/principal';

/** Who calls a use case and when: the token's principal and the request's one `now`. */
export interface Caller {
  principal: Principal;
  now: DateTime;
}

/** A caller through HTTP, which also says where it was served (for links such as invitations). */
export interface ServedCaller extends Caller {
  baseUrl: string;
}

/** The audit cause of a change made by this caller. */
export function causeOf(caller: Caller): ChangeCause {
  return {
    initiatedBy: { kind: 'user', tenantId: caller.principal.tenantId, userId: caller.principal.objectId },
    at: toGraphDateTime(caller.now),
  };
}

/**
 * A partner AdminAgent acting later through a job they created (SPEC §15): the job's changes are
 * theirs, made with the role they held when they asked.
 */
export function partnerAdminAgent(tenantId: string, objectId: string, now: DateTime): Caller {
  return {
    principal: {
      tenantId,
      objectId,
      directoryRoleIds: [],
      appRoles: [appRoles.adminAgent],
      groups: [],
      isGuest: false,
    },
    now,
  };
}
