import { AccessFacts, dapRemovalWarnings } from '../domain/access';
import { eventsOfChange } from '../domain/change';
import { notFound } from '../domain/errors';
import { ChangeCause, dapRemovalEventsOf } from '../domain/events';
import { accessFacts } from '../store/access';
import { findDap, removeDap as deleteDap } from '../store/dap';
import { TransactionRefused } from '../store/executor';

/**
 * Removes a partner's DAP with a customer (SPEC §6), with the partner's audit entry naming who
 * removed it (SPEC §9): the warnings say what the customer's GDAP does not yet cover. `ready` may
 * refuse first, on the facts read before the removal (the safe order of a removeDap job, SPEC §15.4).
 */
export async function removeDap(
  partnerTenantId: string,
  customerTenantId: string,
  cause: ChangeCause,
  ready: (facts: AccessFacts) => void = () => undefined,
): Promise<string[]> {
  const [facts, dap] = await Promise.all([
    accessFacts(partnerTenantId, customerTenantId),
    findDap(partnerTenantId, customerTenantId),
  ]);
  if (!dap) throw notFound(`No DAP relationship exists with customer '${customerTenantId}'.`);
  ready(facts);
  const events = dapRemovalEventsOf(partnerTenantId, customerTenantId, dap.createdDateTime, cause);
  try {
    await deleteDap(dap, eventsOfChange(events));
  } catch (error) {
    // Its audit entry is there already: the same removal, asked twice at the same moment.
    if (!(error instanceof TransactionRefused)) throw error;
  }
  return dapRemovalWarnings(facts.grants);
}
