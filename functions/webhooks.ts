import { HttpResponseInit } from '@azure/functions';
import {
  createRegistration,
  deliverStream,
  readRegistration,
  removeRegistration,
  requestValidation,
  tenantDeliveries,
  updateRegistration,
  validationStatus,
} from '../shared/app/webhooks';
import {
  certificatePath,
  extensionEventNames,
  lastError,
  Registration,
  webhookEventNames,
} from '../shared/domain/webhooks';
import { readJsonBody } from '../shared/http/body';
import { anonymousRoute, callerOf, graphRoute } from '../shared/http/handler';
import { json, noContent } from '../shared/http/responses';
import { registerHttp, registerQueue } from '../shared/registrations';
import { signingKey } from '../shared/store/signingKey';
import { deliveryQueue } from '../shared/store/webhooks';

/**
 * Partner Center webhooks (SPEC §16): the registration API in Partner Center's PascalCase shapes,
 * validation events, the dead-letter listing, the signing certificate, and the queue trigger that
 * delivers (shared/app/webhooks.ts). Events come from the changes themselves (their plans).
 */

function registrationView(registration: Registration): Record<string, unknown> {
  return {
    SubscriberId: registration.subscriberId,
    WebhookUrl: registration.webhookUrl,
    WebhookEvents: registration.webhookEvents,
  };
}

registerHttp({
  name: 'webhookRegistration',
  methods: ['GET', 'POST', 'PUT', 'DELETE'],
  route: 'webhooks/v1/registration',
  handler: graphRoute(async (request, scope): Promise<HttpResponseInit> => {
    const caller = callerOf(scope);
    switch (request.method) {
      case 'POST':
        // 200, as Partner Center answers (not Graph's 201).
        return json(
          200,
          registrationView(await createRegistration(await readJsonBody(request), caller, scope.baseUrl)),
        );
      case 'PUT':
        return json(
          200,
          registrationView(await updateRegistration(await readJsonBody(request), caller, scope.baseUrl)),
        );
      case 'DELETE':
        await removeRegistration(scope.principal);
        return noContent();
      default:
        return json(200, registrationView(await readRegistration(scope.principal)));
    }
  }),
});

registerHttp({
  name: 'webhookEvents',
  methods: ['GET'],
  route: 'webhooks/v1/registration/events',
  // Partner Center's bare array; this service's own events are named in a header of their own.
  handler: graphRoute(async () =>
    json(200, webhookEventNames, { 'x-extension-events': extensionEventNames.join(',') }),
  ),
});

registerHttp({
  name: 'webhookValidationEvents',
  methods: ['POST'],
  route: 'webhooks/v1/registration/validationEvents',
  handler: graphRoute(async (_request, scope) =>
    json(200, { correlationId: await requestValidation(callerOf(scope)) }),
  ),
});

registerHttp({
  name: 'webhookValidationEvent',
  methods: ['GET'],
  route: 'webhooks/v1/registration/validationEvents/{correlationId}',
  handler: graphRoute(async (request, scope) =>
    json(200, await validationStatus(scope.principal, request.params.correlationId)),
  ),
});

registerHttp({
  name: 'webhookDeliveries',
  methods: ['GET'],
  route: 'webhooks/v1/deliveries',
  handler: graphRoute(async (request, scope) => {
    const status = new URL(request.url).searchParams.get('status') ?? undefined;
    const value = (await tenantDeliveries(scope.principal, status)).map((delivery) => ({
      eventId: delivery.eventId,
      eventName: delivery.eventName,
      resourceUri: delivery.resourceUri,
      status: delivery.status,
      attempts: delivery.attempts.length,
      lastAttemptDateTime: delivery.attempts[delivery.attempts.length - 1]?.dateTimeUtc ?? null,
      lastError: lastError(delivery),
    }));
    return json(200, { value });
  }),
});

registerHttp({
  name: 'webhookCertificate',
  methods: ['GET'],
  route: certificatePath.slice(1),
  // Anonymous, as receivers download it from X-MS-Certificate-Url to verify signatures.
  handler: anonymousRoute(async () => {
    const { certificatePem } = await signingKey();
    return {
      status: 200,
      body: certificatePem,
      headers: { 'content-type': 'application/x-pem-file', 'cache-control': 'public, max-age=3600' },
    };
  }),
});

registerQueue({
  name: 'deliverWebhooks',
  queueName: deliveryQueue,
  handler: async (message, context) => {
    const { tenantId, stream } = (message ?? {}) as { tenantId?: unknown; stream?: unknown };
    if (typeof tenantId !== 'string' || typeof stream !== 'string') {
      context.warn('Ignoring a webhook delivery message without tenantId and stream', message);
      return;
    }
    await deliverStream({ tenantId, stream });
  },
});
