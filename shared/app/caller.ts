import { DateTime } from 'luxon';
import { Initiator } from '../domain/events';
import { Principal } from '../domain/principal';
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
