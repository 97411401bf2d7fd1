import { call } from './api';
import { roleIds } from './roleIds';

/** The API's shapes the pages read (Graph's delegatedAdminRelationship and friends, SPEC §2, §3, §8). */
export interface Relationship {
  id: string;
  displayName: string;
  duration: string;
  customer: { tenantId: string; displayName?: string | null } | null;
  accessDetails: { unifiedRoles: { roleDefinitionId: string }[] };
  status: string;
  autoExtendDuration: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  activatedDateTime: string | null;
  endDateTime: string | null;
  '@odata.etag'?: string;
}

export const relationshipsPath = '/v1.0/tenantRelationships/delegatedAdminRelationships';

export const roleIdsOf = (relationship: Relationship): string[] =>
  relationship.accessDetails.unifiedRoles.map((role) => role.roleDefinitionId.toLowerCase());

export const hasGlobalAdministrator = (relationship: Relationship): boolean =>
  roleIdsOf(relationship).includes(roleIds.globalAdministrator);

/**
 * The partner of a relationship. Graph's relationship has no partner property; this service's
 * ids are `{guid}-{partner tenant id}` (shared/domain/ids.ts), which is how the customer's pages
 * can name the partner (through findTenantInformationByTenantId).
 */
export function partnerTenantOf(relationshipId: string): string | undefined {
  const match =
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(
      relationshipId,
    );
  return match?.[1].toLowerCase();
}

export const relationshipStatuses = [
  'created',
  'approvalPending',
  'active',
  'expiring',
  'expired',
  'terminationRequested',
  'terminated',
] as const;

/** Case-insensitive "contains" over the relationship's and the customer's names. */
export function matchesSearch(relationship: Relationship, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (!needle) return true;
  return (
    relationship.displayName.toLowerCase().includes(needle) ||
    (relationship.customer?.displayName ?? '').toLowerCase().includes(needle)
  );
}

/**
 * Removes roles from a relationship (SPEC §2.2: on an active one, 202 with the operation): read
 * it, PATCH what is left, conditional on the ETag read, so a concurrent change is never overwritten.
 */
export async function removeRoles(relationshipId: string, remove: string[]): Promise<void> {
  const url = `${relationshipsPath}/${encodeURIComponent(relationshipId)}`;
  const current = await call<Relationship>('GET', url);
  const removed = new Set(remove.map((id) => id.toLowerCase()));
  const remaining = roleIdsOf(current.body)
    .filter((id) => !removed.has(id))
    .map((roleDefinitionId) => ({ roleDefinitionId }));
  await call('PATCH', url, {
    headers: { 'if-match': current.headers.get('etag') ?? current.body['@odata.etag'] ?? '*' },
    body: { accessDetails: { unifiedRoles: remaining } },
  });
}
