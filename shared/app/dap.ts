import { dapRemovalWarnings } from '../domain/access';
import { planDapRemoval } from '../domain/dap';
import { notFound } from '../domain/errors';
import { Initiator } from '../domain/events';
import { accessFactsWithDap } from '../store/access';
import { commitDapChange } from '../store/dap';
import { decideAndCommit } from './commit';

/**
 * Removing a legacy DAP relationship (SPEC §6), by its partner, a ServiceOperator or the sandbox:
 * the removal goes ahead, and the answer warns of what GDAP does not yet cover. Its webhook event
 * (SPEC §16) is part of the change.
 */
export async function removeDapRelationship(
  partnerTenantId: string,
  customerTenantId: string,
  actor: { initiatedBy: Initiator; at: string },
): Promise<string[]> {
  return decideAndCommit({
    ...actor,
    read: () => accessFactsWithDap(partnerTenantId, customerTenantId),
    decide: ({ facts, dap }, context) => {
      if (!dap) throw notFound(`No DAP relationship exists with customer '${customerTenantId}'.`);
      return { change: planDapRemoval(dap, context), answer: () => dapRemovalWarnings(facts.grants) };
    },
    commit: commitDapChange,
  });
}
