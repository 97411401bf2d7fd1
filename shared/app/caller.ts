import { DateTime } from 'luxon';
import { Initiator } from '../domain/events';
import { appRoles, Principal } from '../domain/principal';
import { toGraphDateTime } from '../domain/time';

/** Who calls a use case and when: the token's principal and the request's one `now`. */
export interface Caller {
  principal: Principal;
  now: DateTime;
}

export function initiatorOf(caller: Caller): Initiator {
  const { principal } = caller;
  return {
    kind: 'user',
    tenantId: principal.tenantId,
    userId: principal.objectId,
    // What a webhook event's audit record names (SPEC §16), when the token carries it.
    ...(principal.email ? { userPrincipalName: principal.email } : {}),
    ...(principal.appId ? { applicationId: principal.appId } : {}),
  };
}

/** The fields every decision of this caller's shares: who acts, and when. */
export function actingAs(caller: Caller): { initiatedBy: Initiator; at: string } {
  return { initiatedBy: initiatorOf(caller), at: toGraphDateTime(caller.now) };
}

/** The same for the service's own jobs. */
export function actingAsSystem(now: DateTime): { initiatedBy: Initiator; at: string } {
  return { initiatedBy: { kind: 'system' }, at: toGraphDateTime(now) };
}

/** A caller through HTTP, which also says where it was served (for links such as invitations). */
export interface ServedCaller extends Caller {
  baseUrl: string;
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
