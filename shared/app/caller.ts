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
  return { kind: 'user', tenantId: caller.principal.tenantId, userId: caller.principal.objectId };
}

/** The fields every decision of this caller's shares: who acts, and when. */
export function actingAs(caller: Caller): { initiatedBy: Initiator; at: string } {
  return { initiatedBy: initiatorOf(caller), at: toGraphDateTime(caller.now) };
}

/** The same for the service's own jobs. */
export function actingAsSystem(now: DateTime): { initiatedBy: Initiator; at: string } {
  return { initiatedBy: { kind: 'system' }, at: toGraphDateTime(now) };
}
