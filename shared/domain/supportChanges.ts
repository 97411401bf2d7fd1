import { Change, ChangeContext, emptyChange, eventsOfChange, stampEvents, Versioned } from './change';
import { jobIds } from './jobs';
import { AccessApproval, AccessRequest, CaseChange, SupportCase, SupportRequest } from './support';
import { caseWebhookEvents } from './webhooks';

/**
 * The plan of every change to a support case (SPEC §8): what the rules of support.ts decided,
 * turned into the `Change` the store executes. A case lives in one partition (its support
 * request's), so its rows go in one transaction conditional on the ETags they were read at;
 * its audit entries belong to other tenants' logs and go through the outbox.
 */
export type CaseWrite =
  | { kind: 'request'; value: SupportRequest; etag: string | null }
  /** A write that relies on the request being as read (still open): a no-op merge at its ETag. */
  | { kind: 'requestUnchanged'; value: SupportRequest; etag: string }
  | { kind: 'accessRequest'; value: AccessRequest; etag: string | null }
  | { kind: 'approval'; value: AccessApproval; etag: string | null };

/** Index rows beside a case, written before the change (readers confirm them against the case). */
export type SupportPointer =
  | { kind: 'filedIn'; tenantId: string; supportRequestId: string; as: 'tenant' | 'partner' }
  | { kind: 'resourceApproval'; tenantId: string; approvalId: string }
  | { kind: 'engineerLoad'; engineerId: string; supportRequestId: string; open: boolean };

export interface SupportChange extends Change<CaseWrite, SupportPointer> {
  supportRequestId: string;
  /**
   * Index rows that must follow the change rather than precede it: the engineer's load row of a
   * closed request (marked closed before the close were stored, it would undercount the load).
   */
  afterwards: SupportPointer[];
}

/** A case as read: each row with its ETag. */
export interface VersionedCase {
  request: Versioned<SupportRequest>;
  accessRequests: Versioned<AccessRequest>[];
  approvals: Versioned<AccessApproval>[];
}

function change(supportRequestId: string): SupportChange {
  return { ...emptyChange<CaseWrite, SupportPointer>(), supportRequestId, afterwards: [] };
}

function engineerLoad(request: SupportRequest): SupportPointer[] {
  return request.assignedEngineer
    ? [
        {
          kind: 'engineerLoad',
          engineerId: request.assignedEngineer.id,
          supportRequestId: request.id,
          open: request.status === 'open',
        },
      ]
    : [];
}

/** A new support request: its row, with its listing pointers and the engineer's load row first. */
export function planNewSupportRequest(request: SupportRequest): SupportChange {
  const plan = change(request.id);
  plan.writes.push({ kind: 'request', value: request, etag: null });
  plan.pointers.push({ kind: 'filedIn', tenantId: request.tenantId, supportRequestId: request.id, as: 'tenant' });
  if (request.createdBy.viaPartner) {
    plan.pointers.push({
      kind: 'filedIn',
      tenantId: request.createdBy.tenantId,
      supportRequestId: request.id,
      as: 'partner',
    });
  }
  plan.pointers.push(...engineerLoad(request));
  return plan;
}

/**
 * What a rule decided for a case, as read: each changed row at its ETag (or inserted), a new
 * pending access request's expiry scheduled, a new approval indexed under its resource tenant,
 * the audit entries with ids fixed by the change's id, and the webhook events of what it does to
 * access requests and approvals (SPEC §16).
 */
export function planCaseChange(current: VersionedCase, decided: CaseChange, context: ChangeContext): SupportChange {
  const plan = change(current.request.value.id);
  const etagOf = <T extends { id: string }>(items: Versioned<T>[], id: string): string | null =>
    items.find((item) => item.value.id === id)?.etag ?? null;
  if (decided.request) {
    plan.writes.push({ kind: 'request', value: decided.request, etag: current.request.etag });
    plan.afterwards.push(...engineerLoad(decided.request));
  } else if (decided.requireRequestUnchanged) {
    plan.writes.push({ kind: 'requestUnchanged', value: current.request.value, etag: current.request.etag });
  }
  for (const value of decided.accessRequests) {
    const etag = etagOf(current.accessRequests, value.id);
    plan.writes.push({ kind: 'accessRequest', value, etag });
    if (etag === null && value.status === 'pending') {
      plan.schedule.push({
        job: jobIds.expireSupportAccessRequests,
        dueAt: value.expirationDateTime,
        subjectId: value.id,
      });
    }
  }
  for (const value of decided.approvals) {
    const etag = etagOf(current.approvals, value.id);
    plan.writes.push({ kind: 'approval', value, etag });
    if (etag === null)
      plan.pointers.push({ kind: 'resourceApproval', tenantId: value.resourceTenantId, approvalId: value.id });
  }
  const before: SupportCase = {
    request: current.request.value,
    accessRequests: current.accessRequests.map((item) => item.value),
    approvals: current.approvals.map((item) => item.value),
  };
  plan.events = stampEvents(
    eventsOfChange({ audits: decided.audits, notifications: [], webhooks: caseWebhookEvents(before, decided) }),
    context.changeId,
  );
  return plan;
}
