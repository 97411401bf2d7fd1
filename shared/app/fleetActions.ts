import { DomainError, invalid, notFound } from '../domain/errors';
import { globalAdministratorRoleId } from '../domain/roles';
import { relationshipView } from '../http/graphViews';
import { findRelationship } from '../store/relationships';
import { actingAs } from './caller';
import { removeDap } from './dap';
import { ItemContext, ItemOutcome, registerItemWorker } from './gdapJobs';
import { requestAction, updateRelationship } from './relationships';

/**
 * The fleet actions of SPEC §15.4 as job items, each one target through the API's own use case
 * (so its rules, gates, audit entries and events are exactly those of the single call). Each is
 * idempotent: a target already in the asked-for state completes without a write.
 */

async function partnerRelationship(context: ItemContext) {
  const id = context.item.relationshipId as string;
  const stored = await findRelationship(id);
  if (!stored || stored.value.partnerTenantId !== context.job.partnerTenantId) {
    throw notFound(`The delegated admin relationship '${id}' was not found.`);
  }
  return stored.value;
}

/** removeGlobalAdministrator: the 202 path of SPEC §2.2, then optionally P180D (now allowed). */
async function removeGlobalAdministrator(context: ItemContext): Promise<ItemOutcome> {
  const relationship = await partnerRelationship(context);
  const { caller } = context;
  if (relationship.roleIds.includes(globalAdministratorRoleId)) {
    const roles = relationship.roleIds.filter((id) => id !== globalAdministratorRoleId);
    if (roles.length === 0) {
      throw invalid('The relationship holds only the Global Administrator role: removing it would leave none.');
    }
    const body = { accessDetails: { unifiedRoles: roles.map((roleDefinitionId) => ({ roleDefinitionId })) } };
    await updateRelationship(relationship.id, '*', body, caller, relationshipView);
  }
  if (context.job.parameters.thenAutoExtend && relationship.autoExtendDuration !== 'P180D') {
    await updateRelationship(relationship.id, '*', { autoExtendDuration: 'P180D' }, caller, relationshipView);
  }
  return { state: 'completed', relationshipId: relationship.id };
}

async function setAutoExtend(context: ItemContext): Promise<ItemOutcome> {
  const relationship = await partnerRelationship(context);
  const wanted = context.job.parameters.autoExtendDuration as string;
  if (relationship.autoExtendDuration !== wanted) {
    await updateRelationship(relationship.id, '*', { autoExtendDuration: wanted }, context.caller, relationshipView);
  }
  return { state: 'completed', relationshipId: relationship.id };
}

/** terminate (offboarding): a relationship already terminated is done. */
async function terminate(context: ItemContext): Promise<ItemOutcome> {
  const relationship = await partnerRelationship(context);
  if (relationship.status !== 'terminated')
    await requestAction(relationship.id, 'terminate', undefined, context.caller);
  return { state: 'completed', relationshipId: relationship.id };
}

/**
 * removeDap in the seed's safe order (SPEC §6): only once an active GDAP relationship with an
 * active assignment covers the customer, unless `force`, which removes it anyway with the warnings.
 */
async function removeDapItem(context: ItemContext): Promise<ItemOutcome> {
  const customerTenantId = context.item.customerTenantId as string;
  const { job, caller } = context;
  try {
    const warnings = await removeDap(job.partnerTenantId, customerTenantId, actingAs(caller), (facts) => {
      if (facts.grants.length === 0 && !job.parameters.force) {
        throw invalid(
          'The customer has no active GDAP relationship with an active access assignment yet: DAP is removed only after GDAP covers the customer (relationship, roles assigned to security groups). Send "force": true to remove it anyway.',
        );
      }
    });
    return { state: 'completed', warnings };
  } catch (error) {
    // A DAP already gone is the asked-for state (also a rerun after a crash that removed it).
    if (!(error instanceof DomainError && error.kind === 'notFound')) throw error;
    return { state: 'completed', warnings: [`${error.message} Nothing was removed.`] };
  }
}

registerItemWorker('removeGlobalAdministrator', removeGlobalAdministrator);
registerItemWorker('setAutoExtend', setAutoExtend);
registerItemWorker('terminate', terminate);
registerItemWorker('removeDap', removeDapItem);
