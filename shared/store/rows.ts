import { odata } from '@azure/data-tables';
import { createHash } from 'node:crypto';
import { AccessAssignment } from '../domain/assignments';
import { newRelationshipId } from '../domain/ids';
import { Operation } from '../domain/operations';
import { normalizeName, Relationship, RelationshipRequest } from '../domain/relationships';
import { encodeKey } from './tables';

/**
 * Row layout of the Tenants table. A tenant's rows are spread over 128 partitions
 * `{tenantId}|{2 hex digits}`: few partitions per tenant would serialize a large partner's writes
 * (Table Storage serves a partition from one server, about 2,000 entities/s) and, on Azurite, make
 * every point operation scan a large share of the partner's rows (with 16, a 10,000-customer
 * onboarding slowed to a quarter of its starting rate; with 64, a template onboarding of 10,000
 * customers took 321 s against 226 s with 128, docs/benchmarks.md). A relationship's partition is
 * named by the leading 7 bits of its id, so it, its children and the partner's audit entries of a
 * change still fit one entity-group transaction, and a partner's relationships in partition order
 * are in id order. The price is on the other side: a tenant's log is read as a merge of 128
 * partitions (one query each, in parallel, per page).
 *   rel|{id}                      the relationship, with its requests (SPEC §3.1) as properties
 *                                 `request_{requestId}` (one per state change, three at most)
 *   name|{lower-case name}        reserves the display name (unique per partner, SPEC §2), in the
 *                                 partition its hash names; new ids are chosen to share it
 *   asg|{id}|!{role set hash}     the relationship's grant: there while it is active with those
 *                                 roles (domain/relationshipChanges.ts)
 *   asg|{id}|{assignmentId}       an access assignment (SPEC §3.2)
 *   grp|{id}|{groupId}            reserves a security group for one live assignment
 *   op|{id}|{operationId}         an operation (SPEC §3.3)
 *   sent|{id}|{end}|{days}        an expiry warning sent (at most once per end date and day count)
 *   aud|{newest first}|{eventId}  the tenant's audit log (SPEC §9; events.ts)
 *   ntf|{newest first}|{eventId}  the tenant's notifications
 *   caud|{tenantId}|…, cntf|…     another tenant's copies of a change's events, beside the change
 *   chg|{changeId}                the outbox's witness of a change with webhook deliveries and no
 *                                 event row of its own (relationships.ts), until they are out
 */
export type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;

/** The first hex digit of an id: it places a due entry (dueIndex.ts). */
export function idDigit(id: string): string {
  return id.charAt(0).toLowerCase();
}

/**
 * How many leading bits of a hex id name its tenant partition: 7, so 128 partitions per tenant.
 * More spreads a large partner's writes further; fewer makes a tenant's log cheaper to merge.
 */
const partitionBits = 7;
const partitionMask = (0xff << (8 - partitionBits)) & 0xff;
const hex2 = (value: number): string => value.toString(16).padStart(2, '0');

/** A tenant partition's suffix for a hex id: its first byte with all but the leading bits cleared. */
function partitionSuffix(hexId: string): string {
  return hex2(parseInt(hexId.slice(0, 2), 16) & partitionMask);
}

/** `00`, `04`, `08`, ... `fc`: one per value of the leading bits, in order. */
const partitionSuffixes = Array.from({ length: 2 ** partitionBits }, (_, index) => hex2(index << (8 - partitionBits)));

function tenantPartition(tenantId: string, suffix: string): string {
  return `${tenantId}|${suffix}`;
}

/** All partitions of a tenant, in order. */
export function tenantPartitions(tenantId: string): string[] {
  return partitionSuffixes.map((suffix) => tenantPartition(tenantId, suffix));
}

/** A filter bounding PartitionKey to one tenant's partitions ('}' follows '|'). */
export function tenantPartitionRange(tenantId: string): string {
  return odata`PartitionKey ge ${`${tenantId}|`} and PartitionKey lt ${`${tenantId}}`}`;
}

export function tenantOfPartition(partitionKey: string): string {
  const end = partitionKey.lastIndexOf('|');
  return end < 0 ? partitionKey : partitionKey.slice(0, end);
}

/** Where a relationship and its children live: its partner's partition named by its id's leading bits. */
export function relationshipPartition(relationship: Pick<Relationship, 'id' | 'partnerTenantId'>): string {
  return tenantPartition(relationship.partnerTenantId, partitionSuffix(relationship.id));
}

/** The partition of `tenantId` named by a hex id's leading bits (an aggregate's rows in that tenant's space). */
export function tenantPartitionOf(tenantId: string, hexId: string): string {
  return tenantPartition(tenantId, partitionSuffix(hexId));
}

function nameSuffix(displayName: string): string {
  return partitionSuffix(createHash('sha256').update(normalizeName(displayName)).digest('hex'));
}

/** The partition that reserves a display name: the same for a name whatever its case. */
export function namePartition(partnerTenantId: string, displayName: string): string {
  return tenantPartition(partnerTenantId, nameSuffix(displayName));
}

/** A new relationship id whose partition is the one reserving `displayName`, so creating it is one transaction. */
export function newRelationshipIdBesideName(partnerTenantId: string, displayName: unknown): string {
  const id = newRelationshipId(partnerTenantId);
  if (typeof displayName !== 'string') return id;
  const keptLowBits = parseInt(id.slice(0, 2), 16) & ~partitionMask & 0xff;
  return hex2(parseInt(nameSuffix(displayName), 16) | keptLowBits) + id.slice(2);
}

export const relationshipPrefix = 'rel|';
const namePrefix = 'name|';

/** Row kinds that belong to one relationship and go with it when it is deleted. */
export const childKinds = { assignment: 'asg', group: 'grp', operation: 'op', warningSent: 'sent' } as const;
export type ChildKind = (typeof childKinds)[keyof typeof childKinds];

export const relationshipKey = (id: string): string => `${relationshipPrefix}${id}`;
export const nameKey = (displayName: string): string => `${namePrefix}${encodeKey(normalizeName(displayName))}`;
export const childKey = (kind: ChildKind, relationshipId: string, childId: string): string =>
  `${kind}|${relationshipId}|${childId}`;

/** All rows of one kind under one relationship: RowKeys from `{kind}|{id}|` up to `{kind}|{id}}` ('}' follows '|'). */
export function childRange(kind: ChildKind, relationship: Relationship): string {
  const from = `${kind}|${relationship.id}|`;
  const to = `${kind}|${relationship.id}}`;
  return odata`PartitionKey eq ${relationshipPartition(relationship)} and RowKey ge ${from} and RowKey lt ${to}`;
}

/** Table Storage cannot remove a property in a merge, so an absent value is stored as ''. */
const optionalString = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * Every update of a relationship row merges (its request properties stay), so every field is
 * written, absent ones as ''.
 */
export function relationshipToRow(relationship: Relationship): Entity {
  return {
    partitionKey: relationshipPartition(relationship),
    rowKey: relationshipKey(relationship.id),
    id: relationship.id,
    displayName: relationship.displayName,
    duration: relationship.duration,
    autoExtendDuration: relationship.autoExtendDuration,
    customerTenantId: relationship.customer?.tenantId ?? '',
    customerDisplayName: relationship.customer?.displayName ?? '',
    roleIds: JSON.stringify(relationship.roleIds),
    status: relationship.status,
    createdDateTime: relationship.createdDateTime,
    lastModifiedDateTime: relationship.lastModifiedDateTime,
    activatedDateTime: relationship.activatedDateTime ?? '',
    endDateTime: relationship.endDateTime ?? '',
    lockedDateTime: relationship.lockedDateTime ?? '',
    webhookSequence: relationship.webhookSequence ?? 0,
    // Set once at creation and never removed, so merges that leave it out keep it.
    ...(relationship.templateId ? { templateId: relationship.templateId } : {}),
  };
}

/**
 * What `relationshipFromRow` reads, and the tombstone flag: a list selects these, leaving out the
 * `request_*` properties (two to three per relationship once it is active). The columns are those
 * `relationshipToRow` writes, so a field added there is selected too.
 */
export const relationshipColumns: readonly string[] = [
  'PartitionKey',
  'RowKey',
  ...Object.keys(
    relationshipToRow({
      id: '00',
      partnerTenantId: '',
      displayName: '',
      duration: '',
      autoExtendDuration: 'PT0S',
      customer: null,
      roleIds: [],
      status: 'created',
      createdDateTime: '',
      lastModifiedDateTime: '',
      activatedDateTime: null,
      endDateTime: null,
      lockedDateTime: null,
    }),
  ).filter((name) => name !== 'partitionKey' && name !== 'rowKey'),
  // Only on rows made from a GDAP template (absent from the sample row above).
  'templateId',
  'deleted',
];

export function relationshipFromRow(row: Record<string, unknown>): Relationship {
  const customerTenantId = optionalString(row.customerTenantId);
  return {
    id: String(row.id),
    partnerTenantId: tenantOfPartition(String(row.partitionKey)),
    displayName: String(row.displayName),
    duration: String(row.duration),
    autoExtendDuration: row.autoExtendDuration === 'P180D' ? 'P180D' : 'PT0S',
    customer: customerTenantId
      ? { tenantId: customerTenantId, displayName: optionalString(row.customerDisplayName) ?? '' }
      : null,
    roleIds: JSON.parse(String(row.roleIds)) as string[],
    status: row.status as Relationship['status'],
    createdDateTime: String(row.createdDateTime),
    lastModifiedDateTime: String(row.lastModifiedDateTime),
    activatedDateTime: optionalString(row.activatedDateTime),
    endDateTime: optionalString(row.endDateTime),
    lockedDateTime: optionalString(row.lockedDateTime),
    ...sequenceFromRow(row),
    ...(optionalString(row.templateId) ? { templateId: String(row.templateId) } : {}),
  };
}

/** Rows written before webhooks carry no sequence: it starts at 0 (and is then left out). */
function sequenceFromRow(row: Record<string, unknown>): { webhookSequence?: number } {
  return typeof row.webhookSequence === 'number' && row.webhookSequence > 0
    ? { webhookSequence: row.webhookSequence }
    : {};
}

const requestPropertyPrefix = 'request_';

/** The relationship-row property holding a request (property names are identifiers: no dashes). */
export function requestProperty(request: RelationshipRequest): Record<string, string> {
  return { [`${requestPropertyPrefix}${request.id.replace(/-/g, '')}`]: JSON.stringify(request) };
}

/** A relationship row's requests, oldest first. */
export function requestsFromRow(row: Record<string, unknown>): RelationshipRequest[] {
  return Object.entries(row)
    .filter(([name, value]) => name.startsWith(requestPropertyPrefix) && typeof value === 'string')
    .map(([, value]) => requestFromJson(JSON.parse(value as string) as Record<string, unknown>))
    .sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime) || a.id.localeCompare(b.id));
}

function requestFromJson(stored: Record<string, unknown>): RelationshipRequest {
  return {
    id: String(stored.id),
    relationshipId: String(stored.relationshipId),
    action: stored.action as RelationshipRequest['action'],
    status: stored.status as RelationshipRequest['status'],
    createdDateTime: String(stored.createdDateTime),
    lastModifiedDateTime: String(stored.lastModifiedDateTime),
  };
}

export function assignmentToRow(partitionKey: string, assignment: AccessAssignment): Entity {
  return {
    partitionKey,
    rowKey: childKey(childKinds.assignment, assignment.relationshipId, assignment.id),
    ...assignment,
    roleIds: JSON.stringify(assignment.roleIds),
  };
}

export function assignmentFromRow(row: Record<string, unknown>): AccessAssignment {
  return {
    id: String(row.id),
    relationshipId: String(row.relationshipId),
    accessContainerId: String(row.accessContainerId),
    roleIds: JSON.parse(String(row.roleIds)) as string[],
    status: row.status as AccessAssignment['status'],
    createdDateTime: String(row.createdDateTime),
    lastModifiedDateTime: String(row.lastModifiedDateTime),
    ...sequenceFromRow(row),
  };
}

const grantMark = '!';

/** The grant row of a relationship with the role set named by `key`. */
export function grantRow(partitionKey: string, relationshipId: string, key: string): Entity {
  return { partitionKey, rowKey: childKey(childKinds.assignment, relationshipId, `${grantMark}${key}`) };
}

/** The role-set key of a grant row, or undefined for any other row. */
export function grantKeyOfRow(row: { rowKey?: unknown }): string | undefined {
  const rowKey = String(row.rowKey);
  const at = rowKey.lastIndexOf(`|${grantMark}`);
  return at < 0 ? undefined : rowKey.slice(at + 2);
}

/** The marker of an expiry warning sent: only its first writer can insert it. */
export function warningSentRow(partitionKey: string, relationshipId: string, key: string): Entity {
  return { partitionKey, rowKey: childKey(childKinds.warningSent, relationshipId, key) };
}

/** The reservation that keeps one live assignment per security group and relationship. */
export function groupReservation(partitionKey: string, assignment: AccessAssignment): Entity {
  return {
    partitionKey,
    rowKey: childKey(childKinds.group, assignment.relationshipId, assignment.accessContainerId),
    assignmentId: assignment.id,
  };
}

export function operationToRow(partitionKey: string, operation: Operation): Entity {
  return {
    partitionKey,
    rowKey: childKey(childKinds.operation, operation.relationshipId, operation.id),
    ...operation,
  };
}

export function operationFromRow(row: Record<string, unknown>): Operation {
  return {
    id: String(row.id),
    relationshipId: String(row.relationshipId),
    operationType: row.operationType as Operation['operationType'],
    data: String(row.data),
    status: row.status as Operation['status'],
    createdDateTime: String(row.createdDateTime),
    lastModifiedDateTime: String(row.lastModifiedDateTime),
  };
}
