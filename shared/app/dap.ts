import { AccessFacts, dapRemovalWarnings } from '../domain/access';
import { planDapRemoval } from '../domain/dap';
import { notFound } from '../domain/errors';
import { Initiator } from '../domain/events';
import { accessFactsWithDap } from '../store/access';
import { commitDapChange } from '../store/dap';
import { decideAndCommit } from './commit';

/**
 * Removing a legacy DAP relationship (SPEC §6), by its partner, a ServiceOperator, the sandbox or
 * a removeDap job on its creator's behalf: the answer warns of what GDAP does not yet cover. The
 * partner's audit entry naming who removed it (SPEC §9) and its webhook event (SPEC §16) are part
 * of the change. `ready` may refuse first, on the facts read (a job's safe order, SPEC §15.4).
 */
export async function removeDap(
  partnerTenantId: string,
  customerTenantId: string,
  actor: { initiatedBy: Initiator; at: string },
  ready: (facts: AccessFacts) => void = () => undefined,
): Promise<string[]> {
  return decideAndCommit({
    ...actor,
    read: () => accessFactsWithDap(partnerTenantId, customerTenantId),
    decide: ({ facts, dap }, context) => {
      if (!dap) throw notFound(`No DAP relationship exists with customer '${customerTenantId}'.`);
      ready(facts);
      return { change: planDapRemoval(dap, context), answer: () => dapRemovalWarnings(facts.grants) };
    },
    commit: commitDapChange,
  });
}
