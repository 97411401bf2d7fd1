import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { forbidden } from '../shared/domain/errors';
import { Notification } from '../shared/domain/events';
import { AuthenticatedScope, graphRoute } from '../shared/http/handler';
import { applySelect, CollectionSpec, parseCollectionQuery } from '../shared/query/odata';
import { canReadPartnerResources } from '../shared/domain/principal';
import { collectionPage } from '../shared/http/responses';
import { registerHttp } from '../shared/registrations';
import { listNotifications } from '../shared/store/events';

/** The caller's tenant's notification outbox (SPEC §9). */
export const notificationCollection: CollectionSpec<Notification> = {
  fields: [
    {
      path: 'kind',
      type: 'enum',
      enumValues: ['relationshipTerminated', 'relationshipExpiryWarning'],
      get: (n) => n.kind,
      storageColumn: 'kind',
    },
    { path: 'createdDateTime', type: 'dateTime', get: (n) => n.createdDateTime, storageColumn: 'createdDateTime' },
    { path: 'relationshipId', type: 'string', get: (n) => n.relationshipId ?? null, storageColumn: 'relationshipId' },
  ],
  selectable: ['id', 'createdDateTime', 'kind', 'recipients', 'relationshipId', 'subject'],
};

const notificationsPath = '/v1.0/notifications';

export function notificationView(notification: Notification): Record<string, unknown> {
  return {
    id: notification.id,
    createdDateTime: notification.createdDateTime,
    kind: notification.kind,
    recipients: notification.recipients,
    relationshipId: notification.relationshipId ?? null,
    subject: notification.subject,
  };
}

export async function listNotificationsHandler(
  request: HttpRequest,
  scope: AuthenticatedScope,
): Promise<HttpResponseInit> {
  if (!canReadPartnerResources(scope.principal)) {
    throw forbidden('Reading notifications requires the AdminAgent or HelpdeskAgent role, or Global Administrator.');
  }
  const query = parseCollectionQuery(new URL(request.url).searchParams, notificationCollection);
  const page = await listNotifications(scope.principal.tenantId, query, notificationCollection);
  return collectionPage(request, scope, notificationsPath, page, (item) =>
    applySelect(notificationView(item.value), query.select),
  );
}

registerHttp({
  name: 'notifications',
  methods: ['GET'],
  route: 'v1.0/notifications',
  handler: graphRoute(listNotificationsHandler),
});
