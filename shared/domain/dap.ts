import { Change, ChangeContext, emptyChange, eventsOfChange, Versioned } from './change';
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
 * A DAP removed (SPEC §6): its row goes, and its partner hears `dap-admin-relationship-terminated`
 * (SPEC §16), whose id the DAP's creation time sets apart from an earlier removal of the same pair.
 */
export function planDapRemoval(current: Versioned<DapRelationship>, context: ChangeContext): DapChange {
  const plan = emptyChange<DapWrite>();
  plan.writes.push({ kind: 'remove', value: current.value, etag: current.etag });
  plan.events = eventsOfChange({
    audits: [],
    notifications: [],
    webhooks: [dapTerminatedWebhookEvent(current.value, context.at)],
  });
  return plan;
}
