import type {
  DelegatedAdminRelationship as GraphRelationship,
  DelegatedAdminRelationshipRequest as GraphRelationshipRequest,
} from '@microsoft/microsoft-graph-types';
import { Relationship, RelationshipRequest } from '../domain/relationships';

/**
 * Domain objects to Graph's JSON shapes. Typed against @microsoft/microsoft-graph-types so a
 * property name that drifts from Graph fails the build.
 */
export const graphTypes = {
  relationship: '#microsoft.graph.delegatedAdminRelationship',
  request: '#microsoft.graph.delegatedAdminRelationshipRequest',
} as const;

export const relationshipsPath = '/v1.0/tenantRelationships/delegatedAdminRelationships';

export function relationshipView(relationship: Relationship): GraphRelationship {
  return {
    id: relationship.id,
    displayName: relationship.displayName,
    duration: relationship.duration,
    customer: relationship.customer
      ? { tenantId: relationship.customer.tenantId, displayName: relationship.customer.displayName }
      : null,
    accessDetails: { unifiedRoles: relationship.roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
    status: relationship.status,
    autoExtendDuration: relationship.autoExtendDuration,
    createdDateTime: relationship.createdDateTime,
    lastModifiedDateTime: relationship.lastModifiedDateTime,
    activatedDateTime: relationship.activatedDateTime,
    endDateTime: relationship.endDateTime,
  };
}

export function requestView(request: RelationshipRequest): GraphRelationshipRequest {
  return {
    id: request.id,
    action: request.action as GraphRelationshipRequest['action'],
    status: request.status,
    createdDateTime: request.createdDateTime,
    lastModifiedDateTime: request.lastModifiedDateTime,
  };
}
