import { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { refreshServiceClock, serviceNow } from '../clock';
import { config } from '../config';
import { DomainError } from '../domain/errors';
import { ChangeCause } from '../domain/events';
import { toGraphDateTime } from '../domain/time';
import { authenticate } from './auth';
import { ErrorStatus, HttpError } from './errors';
import { json } from './responses';
import { Principal } from './principal';
import { apiVersionOf, UrlScope } from './urls';

/** What every handler gets besides the request: one `now` per request, and where it is served. */
export interface RequestScope extends UrlScope {
  now: DateTime;
  log: InvocationContext;
}

export interface AuthenticatedScope extends RequestScope {
  principal: Principal;
}

const domainStatus: Record<DomainError['kind'], ErrorStatus> = {
  invalid: 400,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  stale: 412,
};

function errorResponse(
  error: HttpError,
  requestId: string,
  clientRequestId: string | null,
  now: DateTime,
): HttpResponseInit {
  const innerError: Record<string, string> = {
    date: now.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss"),
    'request-id': requestId,
  };
  if (clientRequestId) innerError['client-request-id'] = clientRequestId;
  return json(error.status, { error: { code: error.code, message: error.message, innerError } }, error.headers);
}

/** A Graph error answer made outside a handler (a `$batch` item refused before it runs), with its own request-id. */
export function graphErrorResponse(
  error: HttpError,
  now: DateTime,
  clientRequestId: string | null = null,
): HttpResponseInit {
  const requestId = randomUUID();
  const response = errorResponse(error, requestId, clientRequestId, now);
  return { ...response, headers: { ...(response.headers as Record<string, string>), 'request-id': requestId } };
}

function asHttpError(error: unknown, log: InvocationContext): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof DomainError) return new HttpError(domainStatus[error.kind], error.message);
  // Anything else is our fault: log it in full, tell the client nothing internal.
  log.error('Unhandled error', error);
  return new HttpError(500, 'An internal server error occurred. Quote the request-id when reporting it.');
}

function withCorrelation(
  handle: (request: HttpRequest, scope: RequestScope) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (request, context) => {
    const requestId = randomUUID();
    const clientRequestId = request.headers.get('client-request-id');
    let now: DateTime = DateTime.utc();
    let response: HttpResponseInit;
    try {
      await refreshServiceClock();
      now = serviceNow();
      const url = new URL(request.url);
      const scope: RequestScope = {
        now,
        baseUrl: config().publicBaseUrl ?? url.origin,
        apiVersion: apiVersionOf(url.pathname),
        log: context,
      };
      response = await handle(request, scope);
    } catch (error) {
      response = errorResponse(asHttpError(error, context), requestId, clientRequestId, now);
    }
    const headers: Record<string, string> = { ...(response.headers as Record<string, string> | undefined) };
    headers['request-id'] = requestId;
    if (clientRequestId) headers['client-request-id'] = clientRequestId;
    return { ...response, headers };
  };
}

/** The audit cause of a change made by this request's caller. */
export function callerCause(scope: AuthenticatedScope): ChangeCause {
  return {
    initiatedBy: { kind: 'user', tenantId: scope.principal.tenantId, userId: scope.principal.objectId },
    at: toGraphDateTime(scope.now),
  };
}

/** A Graph-style route: bearer token required, errors in the Graph envelope, correlation headers. */
export function graphRoute(
  handle: (request: HttpRequest, scope: AuthenticatedScope) => Promise<HttpResponseInit>,
): HttpHandler {
  return withCorrelation(async (request, scope) => {
    const principal = await authenticate(request);
    return handle(request, { ...scope, principal });
  });
}

/** A route without a token (sandbox helpers only): same envelope and headers. */
export function anonymousRoute(
  handle: (request: HttpRequest, scope: RequestScope) => Promise<HttpResponseInit>,
): HttpHandler {
  return withCorrelation(handle);
}
