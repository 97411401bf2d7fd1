import { HttpMethod, HttpResponse, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { Cron } from 'croner';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer, Server as TlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { lookupRoute, RouteLookup } from '../shared/http/routeTable';
import { registeredTimers } from '../shared/registrations';
import { hostLogHandler } from './hostLog';
import { QueueListenerSettings, startQueueListeners } from './queueListener';
import { localRequest } from './localRequest';

/**
 * A small stand-in for the Azure Functions host (Core Tools cannot be installed everywhere): it
 * serves the very registrations `app.http` receives over node:http, with the same empty route
 * prefix as host.json, runs the registered timers on their NCRONTAB schedules, and the queue
 * triggers from the storage account's queues (queueListener.ts).
 */

/** Invocation logs, filtered by LOG_LEVEL as the Functions host filters by host.json's log levels. */
const hostLog = hostLogHandler();

/** Loads every function file so each registers itself, like the runtime's `main` glob does. */
export function loadFunctions(directory: string): void {
  for (const file of readdirSync(directory).sort()) {
    // Dynamic by design: the set of function files is discovered, not listed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (/\.(js|ts)$/.test(file) && !file.endsWith('.d.ts')) require(path.join(directory, file));
  }
}

/** Errors the host itself answers (no route, too large) in the same Graph envelope as handlers. */
function graphError(
  status: number,
  code: string,
  message: string,
): { status: number; body: string; requestId: string } {
  const requestId = randomUUID();
  const date = new Date().toISOString().slice(0, 19);
  return {
    status,
    requestId,
    body: JSON.stringify({ error: { code, message, innerError: { date, 'request-id': requestId } } }),
  };
}

/** Requests larger than this are refused before they reach a handler (handlers enforce 64 KiB). */
const maxRequestBytes = 1024 * 1024;
const emptyBody = Buffer.alloc(0);

/** An empty buffer for a request with no body, `undefined` for one over the limit. */
async function readBody(message: IncomingMessage): Promise<Buffer | undefined> {
  // Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body (RFC 9112 §6.3):
  // no stream iterator for it (most requests are GETs).
  if (message.headers['content-length'] === undefined && message.headers['transfer-encoding'] === undefined) {
    message.resume();
    return emptyBody;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of message) {
    size += (chunk as Buffer).length;
    if (size > maxRequestBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function dispatch(message: IncomingMessage, response: ServerResponse): Promise<void> {
  // The scheme the client used, so absolute URLs (Location, @odata.context, nextLink) follow it.
  const scheme = (message.socket as TLSSocket).encrypted ? 'https' : 'http';
  // The request target is a path: appended to the origin, `//evil.example/...` stays a path
  // (resolved against a base, it would name another host and leak into absolute URLs).
  const target = message.url?.startsWith('/') ? message.url : `/${message.url ?? ''}`;
  let url: URL;
  try {
    url = new URL(`${scheme}://${message.headers.host ?? '127.0.0.1'}${target}`);
  } catch {
    message.resume();
    const failure = graphError(400, 'badRequest', 'The request target or Host header is malformed.');
    response.writeHead(failure.status, {
      'content-type': 'application/json; charset=utf-8',
      'request-id': failure.requestId,
    });
    response.end(failure.body);
    return;
  }
  const pathname = url.pathname.replace(/^\/+/, '/');
  const method = (message.method ?? 'GET').toUpperCase() as HttpMethod;
  const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(body);
  };
  let route: RouteLookup;
  try {
    route = lookupRoute(method, pathname);
  } catch (error) {
    message.resume();
    const failure = graphError(400, 'badRequest', error instanceof Error ? error.message : 'Bad request.');
    return send(failure.status, failure.body, { 'request-id': failure.requestId });
  }
  if (route.kind !== 'found') {
    message.resume();
    const error =
      route.kind === 'methodNotAllowed'
        ? graphError(405, 'methodNotAllowed', `Method ${method} is not allowed on ${pathname}.`)
        : graphError(404, 'ResourceNotFound', `Resource not found for the segment '${pathname}'.`);
    return send(error.status, error.body, { 'request-id': error.requestId });
  }
  const body = await readBody(message);
  if (!body) {
    const error = graphError(413, 'payloadTooLarge', 'The request body is too large.');
    return send(error.status, error.body, { connection: 'close', 'request-id': error.requestId });
  }
  const { registration, params } = route;
  const request = localRequest({
    method,
    url: url.toString(),
    headers: message.headers,
    query: url.searchParams,
    params,
    body: body.length ? body : undefined,
  });
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName: registration.name,
    logHandler: hostLog,
  });
  const returned = await registration.handler(request, context);
  if (writePlainResponse(returned, response)) return;
  const result = new HttpResponse(returned);
  const headers: Record<string, string> = {};
  result.headers.forEach((value, name) => (headers[name] = value));
  const payload = Buffer.from(await result.arrayBuffer());
  response.writeHead(result.status ?? 200, headers);
  response.end(payload);
}

/** Statuses whose responses never carry a body (the Fetch API's null body statuses). */
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

/**
 * Writes the common case, an `HttpResponseInit` with a string body (or none) and a plain header
 * object, straight to node:http with what `HttpResponse` would send: lower-case header names,
 * values trimmed, same-name headers joined, `text/plain;charset=UTF-8` for an untyped string
 * body, no body on a null-body status, plus a Content-Length rather than chunked framing. That
 * skips building a fetch `Response` and reading it back, which cost about a fifth of the host's
 * CPU time for a GET by id. Anything else (an `HttpResponse`, `jsonBody`, cookies, streams,
 * buffers, a `Headers` object) returns false and takes the general path.
 */
function writePlainResponse(returned: HttpResponseInit | HttpResponse, response: ServerResponse): boolean {
  if (returned instanceof HttpResponse) return false;
  const init: HttpResponseInit = returned ?? {};
  if (init.jsonBody !== undefined || init.cookies?.length || init.enableContentNegotiation) return false;
  if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') return false;
  const given = init.headers;
  if (given !== undefined && (typeof given !== 'object' || Object.getPrototypeOf(given) !== Object.prototype)) {
    return false;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries((given ?? {}) as Record<string, string>)) {
    const key = name.toLowerCase();
    const text = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    headers[key] = key in headers ? `${headers[key]}, ${text}` : text;
  }
  const status = init.status ?? 200;
  const body = nullBodyStatuses.has(status) ? undefined : (init.body ?? undefined);
  if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
    // The whole body is known: a Content-Length instead of chunked framing.
    headers['content-length'] ??= String(Buffer.byteLength(body));
  }
  response.writeHead(status, headers);
  response.end(body);
  return true;
}

export interface LocalHost {
  url: string;
  server: Server | TlsServer;
  close(): Promise<void>;
}

/** A PEM certificate (chain) and its private key: the local host then serves HTTPS. */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
}

export async function startLocalHost(options: {
  port: number;
  hostname?: string;
  runTimers: boolean;
  tls?: TlsOptions;
  /** Run the queue triggers (true: with host.json's settings; an object overrides some of them). */
  runQueues?: boolean | Partial<QueueListenerSettings>;
}): Promise<LocalHost> {
  const serve: RequestListener = (message, response) => {
    dispatch(message, response).catch((error: unknown) => {
      console.error('Local host failed to serve a request', error);
      if (!response.headersSent) {
        const failure = graphError(500, 'internalServerError', 'An internal server error occurred.');
        response.writeHead(failure.status, { 'content-type': 'application/json', 'request-id': failure.requestId });
        response.end(failure.body);
        return;
      }
      response.end();
    });
  };
  const server = options.tls ? createTlsServer(options.tls, serve) : createServer(serve);
  server.keepAliveTimeout = 65_000;
  const hostname = options.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, hostname, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  const crons = options.runTimers
    ? registeredTimers().map(
        (timer) =>
          // protect: a run still going when the next is due is skipped rather than overlapped.
          new Cron(timer.schedule, { protect: true }, async () => {
            const context = new InvocationContext({
              invocationId: randomUUID(),
              functionName: timer.name,
              logHandler: hostLog,
            });
            const info: Timer = {
              isPastDue: false,
              schedule: { adjustForDST: false },
              scheduleStatus: { last: '', next: '', lastUpdated: '' },
            };
            try {
              await timer.handler(info, context);
            } catch (error) {
              context.error(`Timer ${timer.name} failed`, error);
            }
          }),
      )
    : [];
  const queues = options.runQueues
    ? startQueueListeners({ settings: options.runQueues === true ? {} : options.runQueues })
    : undefined;

  return {
    url: `${options.tls ? 'https' : 'http'}://${hostname}:${port}`,
    server,
    close: async () => {
      crons.forEach((cron) => cron.stop());
      await queues?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
