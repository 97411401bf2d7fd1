import { readAuditRecord } from '../shared/app/webhooks';
import { AccessAssignment } from '../shared/domain/assignments';
import { Relationship } from '../shared/domain/relationships';
import { AccessApproval, AccessRequest } from '../shared/domain/support';
import { AuditedValue, AuditResourceType } from '../shared/domain/webhooks';
import { assignmentView, relationshipView } from '../shared/http/graphViews';
import { graphRoute } from '../shared/http/handler';
import { json } from '../shared/http/responses';
import { accessRequestView, approvalView } from '../shared/http/supportViews';
import { registerHttp } from '../shared/registrations';
import { AuditRecord } from '../shared/store/webhooks';

/**
 * The audit record behind a webhook event's AuditUri (SPEC §16), Partner Center's shape, served to
 * the tenant it was sent to only: the resource before and after the change as JSON strings, each
 * in the shape this service's API returns that resource in.
 */
const views: Record<AuditResourceType, (value: AuditedValue) => object> = {
  granular_admin_relationship: (value) => relationshipRecordView(value as Relationship),
  granular_admin_access_assignment: (value) => assignmentView(value as AccessAssignment),
  support_access_request: (value) => accessRequestView(value as AccessRequest),
  support_access_approval: (value) => approvalView(value as AccessApproval),
};

/**
 * Graph's relationship, with the customer's name also under Partner Center's own property name
 * (`customer.organizationDisplayName`), which CIPP's onboarding reads from the record.
 */
function relationshipRecordView(relationship: Relationship): object {
  const view = relationshipView(relationship);
  return view.customer
    ? { ...view, customer: { ...view.customer, organizationDisplayName: view.customer.displayName } }
    : view;
}

function auditRecordView(record: AuditRecord): Record<string, unknown> {
  const view = views[record.resourceType];
  return {
    id: record.id,
    partnerId: record.partnerId,
    customerId: record.customerId,
    customerName: record.customerName,
    userPrincipalName: record.userPrincipalName,
    applicationId: record.applicationId,
    resourceType: record.resourceType,
    resourceOldValue: record.oldValue ? JSON.stringify(view(record.oldValue)) : null,
    resourceNewValue: record.newValue ? JSON.stringify(view(record.newValue)) : null,
    operationType: record.operationType,
    operationStatus: record.operationStatus,
    operationDate: record.operationDate,
  };
}

registerHttp({
  name: 'auditRecord',
  methods: ['GET'],
  route: 'auditactivity/v1/auditrecords/{id}',
  handler: graphRoute(async (request, scope) =>
    json(200, auditRecordView(await readAuditRecord(scope.principal, request.params.id))),
  ),
});
