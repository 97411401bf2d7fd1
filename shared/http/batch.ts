import { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { serviceNow } from '../clock';
import { parseBody } from '../domain/schema';
import { DomainError, failedDependency, invalid, methodNotAllowed, notFound } from '../domain/errors';
import { graphErrorResponse } from './handler';
import { lookupRoute } from './routeTable';
import { ApiVersion } from './urls';

/**
 * Graph JSON batching (SPEC §14): `POST /{version}/$batch` `{"requests": [...]}` → 200
 * `{"responses": [...]}`. Each item is turned into a plain request under the batch's version root
 * and served through the same route table and handler as if it had come alone, with the batch's
 * own token; items run concurrently unless `dependsOn` orders them.
 */
export const maxBatchItems = 20;
/** Twenty items each up to the 64 KiB a single request may carry, with room for the envelope. */
export const maxBatchBytes = 1024 * 1024;

const itemSchema = z.object({
  id: z.string().min(1, 'must not be empty'),
  method: z.string().min(1, 'must not be empty'),
  url: z.string().min(1, 'must not be empty'),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  dependsOn: z.array(z.string()).optional(),
});
const batchSchema = z.object({ requests: z.array(itemSchema) });

type BatchItem = z.infer<typeof itemSchema>;

export interface BatchItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const itemMethods = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Validates what makes the whole batch malformed (400 for all): shape, count, ids, dependencies. */
export function parseBatch(body: unknown): BatchItem[] {
  const { requests } = parseBody(batchSchema, body);
  if (requests.length === 0) throw invalid('Invalid batch: it must hold at least one request.');
  if (requests.length > maxBatchItems) {
    throw invalid(`Invalid batch: it holds ${requests.length} requests; at most ${maxBatchItems} are allowed.`);
  }
  const byId = new Map<string, BatchItem>();
  for (const item of requests) {
    const key = item.id.toLowerCase();
    if (byId.has(key)) throw invalid(`Invalid batch: the request id '${item.id}' is used more than once.`);
    byId.set(key, item);
  }
  for (const item of requests) {
    for (const dependency of item.dependsOn ?? []) {
      if (!byId.has(dependency.toLowerCase())) {
        throw invalid(`Invalid batch: request '${item.id}' depends on '${dependency}', which is not in the batch.`);
      }
    }
  }
  assertAcyclic(requests, byId);
  return requests;
}

function assertAcyclic(items: readonly BatchItem[], byId: ReadonlyMap<string, BatchItem>): void {
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (item: BatchItem): void => {
    const key = item.id.toLowerCase();
    if (done.has(key)) return;
    if (visiting.has(key)) throw invalid(`Invalid batch: the dependencies of request '${item.id}' form a cycle.`);
    visiting.add(key);
    for (const dependency of item.dependsOn ?? []) visit(byId.get(dependency.toLowerCase()) as BatchItem);
    visiting.delete(key);
    done.add(key);
  };
  items.forEach(visit);
}

function isJsonContentType(value: string | undefined): boolean {
  const mediaType = value?.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType?.endsWith('+json') ?? false);
}

/**
 * The item's URL resolved under the version root, or the reason it may not run. An item never
 * leaves the root: no absolute URL, no version prefix of its own, no dot segments, no nested batch.
 */
function itemUrl(origin: string, version: ApiVersion, relative: string): URL {
  if (/^[a-z][a-z0-9+.-]*:/i.test(relative) || relative.startsWith('//') || relative.includes('\\')) {
    throw invalid(`The batch item URL '${relative}' must be relative to the /${version} root.`);
  }
  const path = relative.replace(/^\//, '');
  const segments = path.split(/[?#]/)[0].split('/');
  if (/^(v1\.0|beta)$/i.test(segments[0])) {
    throw invalid(`The batch item URL '${relative}' must be relative to the /${version} root, without a version.`);
  }
  if (segments.some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) {
    throw invalid(`The batch item URL '${relative}' must not hold '.' or '..' segments.`);
  }
  if (segments[0].toLowerCase() === '$batch') throw invalid('A batch item cannot itself be a $batch request.');
  const url = new URL(`${origin}/${version}/${path}`);
  if (!url.pathname.startsWith(`/${version}/`)) {
    throw invalid(`The batch item URL '${relative}' must stay under the /${version} root.`);
  }
  return url;
}

/**
 * Item header names as Graph writes them. They are JSON keys, so clients look them up exactly:
 * the classic Graph client parses an item's body as JSON only under `Content-Type`.
 */
const graphHeaderNames: Record<string, string> = {
  'content-type': 'Content-Type',
  location: 'Location',
  etag: 'ETag',
  'retry-after': 'Retry-After',
  'cache-control': 'Cache-Control',
  'odata-version': 'OData-Version',
};

async function toItemResponse(id: string, returned: HttpResponseInit | HttpResponse): Promise<BatchItemResponse> {
  const response = returned instanceof HttpResponse ? returned : new HttpResponse(returned);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'content-length') headers[graphHeaderNames[name] ?? name] = value;
  });
  const text = await response.text();
  const result: BatchItemResponse = { id, status: response.status ?? 200, headers };
  if (text !== '') result.body = isJsonContentType(headers['Content-Type']) ? JSON.parse(text) : text;
  return result;
}

interface BatchContext {
  origin: string;
  version: ApiVersion;
  authorization: string | null;
  log: InvocationContext;
}

async function runItem(item: BatchItem, batch: BatchContext): Promise<HttpResponseInit | HttpResponse> {
  const method = item.method.toUpperCase();
  if (!itemMethods.has(method)) throw invalid(`The batch item method '${item.method}' is not supported.`);
  const url = itemUrl(batch.origin, batch.version, item.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(item.headers ?? {})) headers[name.toLowerCase()] = value;
  // The batch's own token decides, whatever an item says (SPEC §14).
  delete headers.authorization;
  if (batch.authorization) headers.authorization = batch.authorization;
  let body: string | undefined;
  if (item.body !== undefined) {
    if (!isJsonContentType(headers['content-type'])) {
      throw invalid("A batch item with a body must carry a JSON 'Content-Type' header.");
    }
    body = JSON.stringify(item.body);
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const route = lookupRoute(method, url.pathname);
  if (route.kind === 'notFound') {
    throw notFound(`Resource not found for the segment '${url.pathname}'.`);
  }
  if (route.kind === 'methodNotAllowed') throw methodNotAllowed(`Method ${method} is not allowed on ${url.pathname}.`);
  const request = new HttpRequest({
    method,
    url: url.toString(),
    headers,
    query: Object.fromEntries(url.searchParams),
    params: route.params,
    body: body === undefined ? undefined : { string: body },
  });
  return route.registration.handler(request, batch.log) as Promise<HttpResponseInit | HttpResponse>;
}

const succeeded = (response: BatchItemResponse): boolean => response.status >= 200 && response.status < 300;

/** Runs every item once, each after the items it depends on; one whose dependency failed answers 424 unrun. */
export async function executeBatch(items: readonly BatchItem[], batch: BatchContext): Promise<BatchItemResponse[]> {
  const byId = new Map(items.map((item) => [item.id.toLowerCase(), item]));
  const running = new Map<string, Promise<BatchItemResponse>>();
  const run = (item: BatchItem): Promise<BatchItemResponse> => {
    const key = item.id.toLowerCase();
    let result = running.get(key);
    if (!result) {
      result = (async () => {
        const dependencies = await Promise.all(
          (item.dependsOn ?? []).map((id) => run(byId.get(id.toLowerCase()) as BatchItem)),
        );
        const failed = dependencies.find((dependency) => !succeeded(dependency));
        if (failed) {
          const error = failedDependency(`The request depends on request '${failed.id}', which failed.`);
          return toItemResponse(item.id, graphErrorResponse(error, serviceNow()));
        }
        try {
          return await toItemResponse(item.id, await runItem(item, batch));
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          return toItemResponse(item.id, graphErrorResponse(error, serviceNow()));
        }
      })();
      running.set(key, result);
    }
    return result;
  };
  return Promise.all(items.map(run));
}
