import { AccessFacts, dapRemovalWarnings } from '../domain/access';
import { notFound } from '../domain/errors';
import { accessFacts } from '../store/access';
import { removeDap as deleteDap } from '../store/dap';

/**
 * Removes a partner's DAP with a customer (SPEC §6): the warnings say what the customer's GDAP does
 * not yet cover. `ready` may refuse first, on the facts read before the removal (the safe order
 * of a removeDap job, SPEC §15.4).
 */
export async function removeDap(
  partnerTenantId: string,
  customerTenantId: string,
  ready: (facts: AccessFacts) => void = () => undefined,
): Promise<string[]> {
  const facts = await accessFacts(partnerTenantId, customerTenantId);
  if (!facts.hasDap) throw notFound(`No DAP relationship exists with customer '${customerTenantId}'.`);
  ready(facts);
  if (!(await deleteDap(partnerTenantId, customerTenantId))) {
    throw notFound(`No DAP relationship exists with customer '${customerTenantId}'.`);
  }
  return dapRemovalWarnings(facts.grants);
}
