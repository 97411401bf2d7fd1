import { Change, ChangeContext, emptyChange, eventsOfChange, Versioned } from './change';
import { dapRemovalAudit } from './events';
import { dapTerminatedWebhookEvent } from './webhooks';

/** A legacy DAP relationship (SPEC §6): it exists only by import, and its partner may remove it. */
export interface DapRelationship {
  partnerTenantId: string;
  customerTenantId: string;
  createdDateTime: string;
}

export type DapWrite = { kind: 'remove'; value: DapRelationship; etag: string };

export type DapChange = Change<DapWrite>;

/**
 * A DAP removed (SPEC §6): its row goes, the partner's audit log says who removed it (SPEC §9),
 * and the partner hears `dap-admin-relationship-terminated` (SPEC §16); the DAP's creation time
 * sets both ids apart from an earlier removal of the same pair.
 */
export function planDapRemoval(current: Versioned<DapRelationship>, context: ChangeContext): DapChange {
  const plan = emptyChange<DapWrite>();
  plan.writes.push({ kind: 'remove', value: current.value, etag: current.etag });
  const { partnerTenantId, customerTenantId, createdDateTime } = current.value;
  plan.events = eventsOfChange({
    audits: [dapRemovalAudit(partnerTenantId, customerTenantId, createdDateTime, context)],
    notifications: [],
    webhooks: [dapTerminatedWebhookEvent(current.value, context.at)],
  });
  return plan;
}
