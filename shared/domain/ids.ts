import { createHash, randomUUID } from 'node:crypto';

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const relationshipIdPattern =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && guidPattern.test(value);
}

export function newGuid(): string {
  return randomUUID();
}

/**
 * Relationship ids are `{guid}-{guid}` like Graph's. The second half is the partner tenant, so a
 * customer holding only the invitation link's id can be routed to the right partition in one read.
 */
export function newRelationshipId(partnerTenantId: string): string {
  return `${randomUUID()}-${partnerTenantId.toLowerCase()}`;
}

export function partnerTenantOfRelationship(relationshipId: string): string | undefined {
  return relationshipIdPattern.exec(relationshipId)?.[2]?.toLowerCase();
}

/** Ids derived from what happened (GUID-shaped), so publishing the same event twice writes the same row. */
export function eventId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
