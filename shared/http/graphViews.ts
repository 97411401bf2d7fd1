import type {
  DelegatedAdminAccessAssignment as GraphAccessAssignment,
  DelegatedAdminCustomer as GraphCustomer,
  DelegatedAdminRelationship as GraphRelationship,
  DelegatedAdminRelationshipOperation as GraphOperation,
  DelegatedAdminRelationshipRequest as GraphRelationshipRequest,
  DelegatedAdminServiceManagementDetail as GraphServiceManagementDetail,
  TenantInformation as GraphTenantInformation,
  UnifiedRoleDefinition as GraphRoleDefinition,
} from '@microsoft/microsoft-graph-types';
import { AccessAssignment } from '../domain/assignments';
import {
  assignmentContract,
  operationContract,
  relationshipContract,
  requestContract,
  ViewOf,
} from '../domain/contracts';
import { Operation } from '../domain/operations';
import { Relationship, RelationshipRequest } from '../domain/relationships';
import { ManagedService, RoleDefinition } from '../domain/roles';
import { TenantInformation } from '../domain/tenants';

/**
 * Domain objects to Graph's JSON shapes. Typed against @microsoft/microsoft-graph-types so a
 * property name that drifts from Graph fails the build, and against each resource's declared
 * contract (shared/domain/contracts.ts) so a view renders exactly the properties it declares.
 */
export const graphTypes = {
  relationship: '#microsoft.graph.delegatedAdminRelationship',
  request: '#microsoft.graph.delegatedAdminRelationshipRequest',
  accessAssignment: '#microsoft.graph.delegatedAdminAccessAssignment',
  operation: '#microsoft.graph.delegatedAdminRelationshipOperation',
  customer: '#microsoft.graph.delegatedAdminCustomer',
  serviceManagementDetail: '#microsoft.graph.delegatedAdminServiceManagementDetail',
} as const;

export const relationshipsPath = '/v1.0/tenantRelationships/delegatedAdminRelationships';
export const roleDefinitionsPath = '/v1.0/roleManagement/directory/roleDefinitions';
export const customersPath = '/v1.0/tenantRelationships/delegatedAdminCustomers';
export const assignmentsPath = (relationshipId: string): string =>
  `${relationshipsPath}/${relationshipId}/accessAssignments`;
export const operationsPath = (relationshipId: string): string => `${relationshipsPath}/${relationshipId}/operations`;

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
  } satisfies ViewOf<typeof relationshipContract>;
}

export function requestView(request: RelationshipRequest): GraphRelationshipRequest {
  return {
    id: request.id,
    action: request.action as GraphRelationshipRequest['action'],
    status: request.status,
    createdDateTime: request.createdDateTime,
    lastModifiedDateTime: request.lastModifiedDateTime,
  } satisfies ViewOf<typeof requestContract>;
}

export function assignmentView(assignment: AccessAssignment): GraphAccessAssignment {
  return {
    id: assignment.id,
    accessContainer: { accessContainerId: assignment.accessContainerId, accessContainerType: 'securityGroup' as const },
    accessDetails: { unifiedRoles: assignment.roleIds.map((roleDefinitionId) => ({ roleDefinitionId })) },
    status: assignment.status,
    createdDateTime: assignment.createdDateTime,
    lastModifiedDateTime: assignment.lastModifiedDateTime,
  } satisfies ViewOf<typeof assignmentContract>;
}

export function operationView(operation: Operation): GraphOperation {
  return {
    id: operation.id,
    operationType: operation.operationType,
    data: operation.data,
    status: operation.status,
    createdDateTime: operation.createdDateTime,
    lastModifiedDateTime: operation.lastModifiedDateTime,
  } satisfies ViewOf<typeof operationContract>;
}

export function customerView(customer: { tenantId: string; displayName: string }): GraphCustomer {
  return { id: customer.tenantId, tenantId: customer.tenantId, displayName: customer.displayName };
}

export function serviceManagementDetailView(
  service: ManagedService,
  customerTenantId: string,
): GraphServiceManagementDetail {
  return {
    id: service.id,
    serviceName: service.serviceName,
    serviceManagementUrl: service.serviceManagementUrl.replace('{tenantId}', customerTenantId),
  };
}

/** A built-in role template as Graph's unifiedRoleDefinition: its id is the template id. */
export function roleDefinitionView(role: RoleDefinition): GraphRoleDefinition {
  return {
    id: role.id,
    description: role.description,
    displayName: role.displayName,
    isBuiltIn: true,
    isEnabled: true,
    resourceScopes: ['/'],
    templateId: role.id,
    version: '1',
    rolePermissions: [{ allowedResourceActions: [...role.permissions], condition: null }],
  };
}

export function tenantInformationView(tenant: TenantInformation): GraphTenantInformation {
  return {
    tenantId: tenant.tenantId,
    displayName: tenant.displayName,
    defaultDomainName: tenant.defaultDomainName,
    federationBrandName: tenant.federationBrandName,
  };
}
