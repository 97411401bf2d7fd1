import { AccessAssignment } from './assignments';
import { eventId } from './ids';
import { Relationship } from './relationships';
import { assignmentWebhookEvents, relationshipWebhookEvents, WebhookEvent } from './webhooks';

export { eventId };

/**
 * What a state change tells the world (SPEC §9, §16): audit entries for the tenants entitled to
 * see them, notifications to recipients, and webhook events (webhooks.ts). Derived from the old
 * and new state, so every path that changes a relationship (HTTP, `$batch`, timer, job) reports
 * it the same way.
 */
export const auditCategories = {
  relationships: 'DelegatedAdminRelationshipManagement',
} as const;

export interface Initiator {
  /** A person (from the token) or, for timers, the service itself. */
  kind: 'user' | 'system';
  tenantId?: string;
  userId?: string;
  /** From the token, for the audit records behind webhook events (SPEC §16). */
  userPrincipalName?: string;
  applicationId?: string;
}

/** Who or what caused a change, and when: the source of its audit entries. */
export interface ChangeCause {
  initiatedBy: Initiator;
  at: string;
}

export interface AuditEntry {
  id: string;
  /** Tenant whose audit log holds this entry. */
  tenantId: string;
  activityDateTime: string;
  activityDisplayName: string;
  category: string;
  operationType: 'Add' | 'Update' | 'Delete' | 'Other';
  result: 'success' | 'failure';
  initiatedBy: Initiator;
  target: { id: string; displayName: string; type: string };
  modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
}

/** The kinds of SPEC §9. */
export type NotificationKind =
  'relationshipApproved' | 'relationshipTerminated' | 'relationshipExpiryWarning' | 'relationshipExpired';

export interface Notification {
  id: string;
  /** Tenant whose outbox holds this notification. */
  tenantId: string;
  createdDateTime: string;
  kind: NotificationKind;
  recipients: { tenantId: string; role: 'AdminAgent' | 'GlobalAdministrator' };
  relationshipId?: string;
  subject: string;
}

export interface DomainEvents {
  audits: AuditEntry[];
  notifications: Notification[];
  /** Published through the outbox once the change is stored, to the tenants that subscribe (SPEC §16). */
  webhooks: WebhookEvent[];
}

export const noEvents = (): DomainEvents => ({ audits: [], notifications: [], webhooks: [] });

const activities: Partial<Record<Relationship['status'], string>> = {
  approvalPending: 'Lock delegated admin relationship for approval',
  active: 'Approve delegated admin relationship',
  expired: 'Expire delegated admin relationship',
  terminated: 'Terminate delegated admin relationship',
};

function changedProperties(previous: Relationship, next: Relationship): AuditEntry['modifiedProperties'] {
  const fields: [string, (r: Relationship) => string | null][] = [
    ['displayName', (r) => r.displayName],
    ['duration', (r) => r.duration],
    ['autoExtendDuration', (r) => r.autoExtendDuration],
    ['customer', (r) => r.customer?.tenantId ?? null],
    ['accessDetails', (r) => r.roleIds.join(',')],
    ['status', (r) => r.status],
    ['endDateTime', (r) => r.endDateTime],
  ];
  return fields
    .filter(([, get]) => get(previous) !== get(next))
    .map(([displayName, get]) => ({ displayName, oldValue: get(previous), newValue: get(next) }));
}

function activityFor(
  previous: Relationship | undefined,
  next: Relationship | undefined,
): AuditEntry['activityDisplayName'] {
  if (!previous) return 'Create delegated admin relationship';
  if (!next) return 'Delete delegated admin relationship';
  if (previous.status === next.status) {
    return previous.endDateTime !== next.endDateTime && next.status === 'active'
      ? 'Auto-extend delegated admin relationship'
      : 'Update delegated admin relationship';
  }
  if (previous.status === 'approvalPending' && next.status === 'terminated')
    return 'Reject delegated admin relationship';
  return activities[next.status] ?? 'Update delegated admin relationship';
}

/** Tenants entitled to see a relationship's history: the partner, and the customer once it took part. */
function entitledTenants(relationship: Relationship): string[] {
  const tenants = [relationship.partnerTenantId];
  if (relationship.customer && relationship.status !== 'created') tenants.push(relationship.customer.tenantId);
  return tenants;
}

/**
 * The audit entries and notifications of one transition (`previous` undefined: created; `next`
 * undefined: deleted or purged). `at` is the decision's time; ids depend only on the transition.
 */
export function eventsOf(
  previous: Relationship | undefined,
  next: Relationship | undefined,
  initiatedBy: Initiator,
  at: string,
): DomainEvents {
  const subject = (next ?? previous) as Relationship;
  const activity = activityFor(previous, next);
  const key = [subject.id, activity, next?.lastModifiedDateTime ?? at];
  const tenants = entitledTenants(next ?? subject);
  const audits: AuditEntry[] = tenants.map((tenantId) => ({
    id: eventId('audit', tenantId, ...key),
    tenantId,
    activityDateTime: at,
    activityDisplayName: activity,
    category: auditCategories.relationships,
    operationType: !previous ? 'Add' : !next ? 'Delete' : 'Update',
    result: 'success',
    initiatedBy,
    target: { id: subject.id, displayName: subject.displayName, type: 'DelegatedAdminRelationship' },
    modifiedProperties: previous && next ? changedProperties(previous, next) : [],
  }));

  const notice = next && previous && noticeOf(previous, next, initiatedBy);
  const notifications = notice
    ? recipientsOf(next as Relationship).map((recipient) => ({
        id: eventId('notification', recipient.tenantId, ...key),
        tenantId: recipient.tenantId,
        createdDateTime: at,
        kind: notice.kind,
        recipients: recipient,
        relationshipId: subject.id,
        subject: notice.subject,
      }))
    : [];
  return { audits, notifications, webhooks: relationshipWebhookEvents(previous, next, initiatedBy, at) };
}

/**
 * Who hears of a relationship's approval, end or coming end (SPEC §9): the partner's AdminAgents
 * and, once it took part, the customer's Global Administrators.
 */
function recipientsOf(relationship: Relationship): Notification['recipients'][] {
  const recipients: Notification['recipients'][] = [{ tenantId: relationship.partnerTenantId, role: 'AdminAgent' }];
  if (relationship.customer) recipients.push({ tenantId: relationship.customer.tenantId, role: 'GlobalAdministrator' });
  return recipients;
}

/** The notice a transition sends, if any: approval, termination, expiry of an active relationship. */
function noticeOf(
  previous: Relationship,
  next: Relationship,
  initiatedBy: Initiator,
): { kind: NotificationKind; subject: string } | undefined {
  const name = `The delegated admin relationship '${next.displayName}'`;
  if (previous.status === 'approvalPending' && next.status === 'active') {
    return { kind: 'relationshipApproved', subject: `${name} was approved by the customer and is active.` };
  }
  if (previous.status === 'active' && next.status === 'terminated' && next.customer) {
    const who = initiatedBy.tenantId === next.customer.tenantId ? 'the customer' : 'the partner';
    return { kind: 'relationshipTerminated', subject: `${name} was terminated by ${who}.` };
  }
  if (previous.status === 'active' && next.status === 'expired') {
    return { kind: 'relationshipExpired', subject: `${name} reached its end date and has expired.` };
  }
  return undefined;
}

/**
 * The warnings that a relationship ends in `days` days without auto-extension, one per recipient
 * (SPEC §9), each sent once per end date.
 */
export function expiryWarnings(relationship: Relationship, days: number, at: string): Notification[] {
  return recipientsOf(relationship).map((recipient) => ({
    id: eventId('expiryWarning', recipient.tenantId, relationship.id, relationship.endDateTime ?? '', String(days)),
    tenantId: recipient.tenantId,
    createdDateTime: at,
    kind: 'relationshipExpiryWarning',
    recipients: recipient,
    relationshipId: relationship.id,
    subject: `The delegated admin relationship '${relationship.displayName}' ends in ${days} day${days === 1 ? '' : 's'} and will not be extended automatically.`,
  }));
}

/** Audit entries of an access assignment change, in the partner's log only (assignments are the partner's own). */
export function assignmentEventsOf(
  relationship: Relationship,
  previous: AccessAssignment | undefined,
  next: AccessAssignment,
  cause: ChangeCause,
): DomainEvents {
  const activity = !previous
    ? 'Create access assignment'
    : next.status === 'deleted'
      ? 'Delete access assignment'
      : 'Update access assignment';
  const modifiedProperties = [
    { displayName: 'accessDetails', oldValue: previous?.roleIds.join(',') ?? null, newValue: next.roleIds.join(',') },
    { displayName: 'status', oldValue: previous?.status ?? null, newValue: next.status },
  ].filter((property) => property.oldValue !== property.newValue);
  const audit: AuditEntry = {
    id: eventId('audit', relationship.partnerTenantId, next.id, activity, next.lastModifiedDateTime),
    tenantId: relationship.partnerTenantId,
    activityDateTime: cause.at,
    activityDisplayName: activity,
    category: auditCategories.relationships,
    operationType: !previous ? 'Add' : next.status === 'deleted' ? 'Delete' : 'Update',
    result: 'success',
    initiatedBy: cause.initiatedBy,
    target: { id: next.id, displayName: next.accessContainerId, type: 'DelegatedAdminAccessAssignment' },
    modifiedProperties,
  };
  return {
    audits: [audit],
    notifications: [],
    webhooks: assignmentWebhookEvents(relationship, previous, next, cause.initiatedBy, cause.at),
  };
}

/**
 * The partner's audit entry for removing its DAP with a customer (SPEC §6, §9): a state change
 * like any other, by a partner user or by a removeDap job on their behalf.
 */
export function dapRemovalAudit(
  partnerTenantId: string,
  customerTenantId: string,
  dapCreatedDateTime: string,
  cause: ChangeCause,
): AuditEntry {
  const activity = 'Remove delegated admin permissions (DAP)';
  return {
    id: eventId('audit', partnerTenantId, customerTenantId, activity, dapCreatedDateTime),
    tenantId: partnerTenantId,
    activityDateTime: cause.at,
    activityDisplayName: activity,
    category: auditCategories.relationships,
    operationType: 'Delete',
    result: 'success',
    initiatedBy: cause.initiatedBy,
    target: { id: customerTenantId, displayName: customerTenantId, type: 'DapRelationship' },
    modifiedProperties: [],
  };
}
