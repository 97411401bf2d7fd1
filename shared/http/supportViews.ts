import { HttpResponseInit } from '@azure/functions';
import {
  AccessApproval,
  AccessRequest,
  accessRequestStatuses,
  approvalStatuses,
  EngineerRef,
  SupportEngineer,
  SupportRequest,
  supportRequestStatuses,
} from '../domain/support';
import { Stored } from '../query/paging';
import {
  accessRequestContract,
  approvalContract,
  selectableOf,
  supportRequestContract,
  ViewOf,
} from '../domain/contracts';
import { applySelect, CollectionSpec } from '../query/odata';
import { toApiEtag } from './etag';
import { entityBody, json } from './responses';
import { absoluteUrl, odataContext, UrlScope } from './urls';

/**
 * Support requests, access requests, approvals and engineers (SPEC §8) as the API shows them: their
 * paths, OData types, `$filter`/`$select` specs and views. The access request a support request
 * tenant sees never shows the approval behind it.
 */
export const supportPaths = {
  requests: '/v1.0/support/requests',
  accessRequests: '/v1.0/support/accessRequests',
  accessApprovals: '/v1.0/support/accessApprovals',
  engineers: '/v1.0/support/engineers',
} as const;

export const supportTypes = {
  request: '#microsoft.graph.supportRequest',
  accessRequest: '#microsoft.graph.supportAccessRequest',
  approval: '#microsoft.graph.supportAccessApproval',
  engineer: '#microsoft.graph.supportEngineer',
  diagnostics: '#microsoft.graph.supportDiagnosticSnapshot',
} as const;

// ---------------------------------------------------------------------------------------------
// Collections and views
// ---------------------------------------------------------------------------------------------

export const supportRequestCollection: CollectionSpec<SupportRequest> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: supportRequestStatuses, get: (r) => r.status },
    { path: 'category', type: 'string', caseInsensitive: true, get: (r) => r.category },
    { path: 'title', type: 'string', caseInsensitive: true, get: (r) => r.title },
    { path: 'tenantId', type: 'guid', get: (r) => r.tenantId },
    { path: 'resourceTenantId', type: 'guid', get: (r) => r.resourceTenantId },
    { path: 'createdDateTime', type: 'dateTime', get: (r) => r.createdDateTime },
    { path: 'lastModifiedDateTime', type: 'dateTime', get: (r) => r.lastModifiedDateTime },
    { path: 'closedDateTime', type: 'dateTime', get: (r) => r.closedDateTime },
  ],
  selectable: selectableOf(supportRequestContract),
};

export const accessRequestCollection: CollectionSpec<AccessRequest> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: accessRequestStatuses, get: (a) => a.status },
    { path: 'supportRequestId', type: 'guid', get: (a) => a.supportRequestId },
    { path: 'resourceTenantId', type: 'guid', get: (a) => a.resourceTenantId },
    { path: 'createdDateTime', type: 'dateTime', get: (a) => a.createdDateTime },
    { path: 'expirationDateTime', type: 'dateTime', get: (a) => a.expirationDateTime },
  ],
  selectable: selectableOf(accessRequestContract),
};

export const approvalCollection: CollectionSpec<AccessApproval> = {
  fields: [
    { path: 'status', type: 'enum', enumValues: approvalStatuses, get: (a) => a.status },
    { path: 'supportRequestId', type: 'guid', get: (a) => a.supportRequestId },
    { path: 'supportRequestTenantId', type: 'guid', get: (a) => a.supportRequestTenantId },
    { path: 'createdDateTime', type: 'dateTime', get: (a) => a.createdDateTime },
  ],
  selectable: selectableOf(approvalContract),
};

/** An engineer as the records naming them show it (SPEC §8.1: `{id, displayName}`); the tenant stays inside. */
function engineerRefView(engineer: EngineerRef): { id: string; displayName: string } {
  return { id: engineer.id, displayName: engineer.displayName };
}

export function supportRequestView(request: SupportRequest): Record<string, unknown> {
  return {
    id: request.id,
    title: request.title,
    description: request.description,
    category: request.category,
    tenantId: request.tenantId,
    resourceTenantId: request.resourceTenantId,
    allowAdvancedDiagnostics: request.allowAdvancedDiagnostics,
    status: request.status,
    assignedEngineer: request.assignedEngineer && engineerRefView(request.assignedEngineer),
    createdBy: { tenantId: request.createdBy.tenantId, userId: request.createdBy.userId },
    createdDateTime: request.createdDateTime,
    lastModifiedDateTime: request.lastModifiedDateTime,
    closedDateTime: request.closedDateTime,
  } satisfies ViewOf<typeof supportRequestContract>;
}

/** What the support request tenant and the engineer see: never the approval behind it. */
export function accessRequestView(accessRequest: AccessRequest): Record<string, unknown> {
  return {
    id: accessRequest.id,
    supportRequestId: accessRequest.supportRequestId,
    supportRequestTenantId: accessRequest.supportRequestTenantId,
    resourceTenantId: accessRequest.resourceTenantId,
    justification: accessRequest.justification,
    requestedBy: engineerRefView(accessRequest.requestedBy),
    status: accessRequest.status,
    createdDateTime: accessRequest.createdDateTime,
    lastModifiedDateTime: accessRequest.lastModifiedDateTime,
    expirationDateTime: accessRequest.expirationDateTime,
    endDateTime: accessRequest.endedDateTime,
  } satisfies ViewOf<typeof accessRequestContract>;
}

export function approvalView(approval: AccessApproval): Record<string, unknown> {
  return {
    id: approval.id,
    accessRequestId: approval.accessRequestId,
    supportRequestId: approval.supportRequestId,
    supportRequestTenantId: approval.supportRequestTenantId,
    resourceTenantId: approval.resourceTenantId,
    justification: approval.justification,
    engineer: engineerRefView(approval.engineer),
    status: approval.status,
    approvedBy: approval.approvedBy,
    removedBy: approval.removedBy,
    createdDateTime: approval.createdDateTime,
    lastModifiedDateTime: approval.lastModifiedDateTime,
    endDateTime: approval.endedDateTime,
  } satisfies ViewOf<typeof approvalContract>;
}

export function engineerView(engineer: SupportEngineer, openRequests: number): Record<string, unknown> {
  return { ...engineer, openRequestCount: openRequests };
}

export function entityResponse(
  status: number,
  stored: Stored<unknown>,
  view: Record<string, unknown>,
  options: { scope: UrlScope; path: string; odataType: string; location?: boolean; select?: readonly string[] },
): HttpResponseInit {
  const { scope, path, odataType } = options;
  const etag = stored.etag || undefined;
  const body = entityBody(view, { etag, context: odataContext(scope, path), odataType });
  const headers: Record<string, string> = {};
  if (etag) headers.etag = toApiEtag(etag);
  if (options.location) headers.location = absoluteUrl(scope, `${path}/${String(view.id)}`);
  return json(status, applySelect(body, options.select), headers);
}
