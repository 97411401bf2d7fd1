import { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { refreshServiceClock, serviceNow } from '../clock';
import { config } from '../config';
import { DomainError, internal } from '../domain/errors';
import type { Caller } from '../app/caller';
import { logRequest } from '../log';
import { authenticate } from './auth';
import { graphErrorCodes, statusOfKind } from './errors';
import { json } from './responses';
import { Principal } from '../domain/principal';
import { isStorageUnavailable } from '../store/storageBudget';
import { toGraphDateTime } from '../domain/time';
import { lookupRoute } from './routeTable';
import { apiVersionOf, UrlScope } from './urls';

/** What every handler gets besides the request: one `now` per request, and where it is served. */
export interface RequestScope extends UrlScope {
  now: DateTime;
  log: InvocationContext;
  /** The caller's tenant for the request's log line, once authenticated. */
  logged: { tenantId?: string };
}

export interface AuthenticatedScope extends RequestScope {
  principal: Principal;
}

function errorResponse(
  error: DomainError,
  requestId: string,
  clientRequestId: string | null,
  now: DateTime,
): HttpResponseInit {
  const innerError: Record<string, string> = {
    date: toGraphDateTime(now).slice(0, 19),
    'request-id': requestId,
  };
  if (clientRequestId) innerError['client-request-id'] = clientRequestId;
  const status = statusOfKind[error.kind];
  return json(status, { error: { code: graphErrorCodes[status], message: error.message, innerError } }, error.headers);
}

/** A Graph error answer made outside a handler (a `$batch` item refused before it runs), with its own request-id. */
export function graphErrorResponse(
  error: DomainError,
  now: DateTime,
  clientRequestId: string | null = null,
): HttpResponseInit {
  const requestId = randomUUID();
  const response = errorResponse(error, requestId, clientRequestId, now);
  return { ...response, headers: { ...(response.headers as Record<string, string>), 'request-id': requestId } };
}

/**
 * The base of absolute URLs. Outside sandbox mode it must be configured: the request's own Host
 * header is the client's to choose, and would otherwise end up in Location and @odata links.
 */
function publicBaseUrl(url: URL): string {
  const { publicBaseUrl: configured, sandboxMode } = config();
  if (configured) return configured.replace(/\/+$/, '');
  if (sandboxMode) return url.origin;
  throw internal('The service is not configured: PUBLIC_BASE_URL must be set outside sandbox mode.');
}

/** What a client is told to wait when storage is unavailable. */
const storageRetryAfterSeconds = 5;

function asRefusal(error: unknown, log: InvocationContext): DomainError {
  if (error instanceof DomainError) return error;
  if (isStorageUnavailable(error)) {
    log.warn('Storage unavailable', error instanceof Error ? error.message : error);
    return new DomainError(
      'unavailable',
      'The service cannot reach its storage right now. Retry after the time in Retry-After.',
      { 'retry-after': String(storageRetryAfterSeconds) },
    );
  }
  // Anything else is our fault: log it in full, tell the client nothing internal.
  log.error('Unhandled error', error);
  return internal('An internal server error occurred. Quote the request-id when reporting it.');
}

function withCorrelation(
  handle: (request: HttpRequest, scope: RequestScope) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (request, context) => {
    const started = performance.now();
    const requestId = randomUUID();
    const clientRequestId = request.headers.get('client-request-id');
    const url = new URL(request.url);
    const logged: RequestScope['logged'] = {};
    // The service time once read; real time only for an error before it (a failed clock read).
    let now: DateTime | undefined;
    let response: HttpResponseInit;
    try {
      await refreshServiceClock();
      now = serviceNow();
      const scope: RequestScope = {
        now,
        // Read when first used: a sandbox route outside sandbox mode answers 404 without one.
        get baseUrl() {
          return publicBaseUrl(url);
        },
        apiVersion: apiVersionOf(url.pathname),
        log: context,
        logged,
      };
      response = await handle(request, scope);
    } catch (error) {
      response = errorResponse(asRefusal(error, context), requestId, clientRequestId, now ?? DateTime.utc());
    }
    const headers: Record<string, string> = { ...(response.headers as Record<string, string> | undefined) };
    headers['request-id'] = requestId;
    if (clientRequestId) headers['client-request-id'] = clientRequestId;
    logRequest(context, {
      requestId,
      ...(clientRequestId ? { clientRequestId } : {}),
      method: request.method,
      route: routeTemplate(request.method, url.pathname),
      status: response.status ?? 200,
      durationMs: Math.round(performance.now() - started),
      ...logged,
    });
    return { ...response, headers };
  };
}

/** The template of the route serving a path (`$batch` items run here too, under the batch's function). */
function routeTemplate(method: string, pathname: string): string | undefined {
  try {
    const found = lookupRoute(method, pathname.replace(/^\/+/, '/'));
    return found.kind === 'found' ? found.registration.route : undefined;
  } catch {
    return undefined;
  }
}

/** The caller of a use case: the token's principal and the request's one `now`. */
export function callerOf(scope: AuthenticatedScope): Caller {
  return { principal: scope.principal, now: scope.now };
}

/** A Graph-style route: bearer token required, errors in the Graph envelope, correlation headers. */
export function graphRoute(
  handle: (request: HttpRequest, scope: AuthenticatedScope) => Promise<HttpResponseInit>,
): HttpHandler {
  return withCorrelation(async (request, scope) => {
    // Copied once here (a misconfigured base URL fails every Graph request the same way).
    const baseUrl = scope.baseUrl;
    const principal = await authenticate(request);
    scope.logged.tenantId = principal.tenantId;
    return handle(request, { ...scope, baseUrl, principal });
  });
}

/** A route without a token (sandbox helpers only): same envelope and headers. */
export function anonymousRoute(
  handle: (request: HttpRequest, scope: RequestScope) => Promise<HttpResponseInit>,
): HttpHandler {
  return withCorrelation(handle);
}
