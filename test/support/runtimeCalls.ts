import { lookupRoute } from '../../shared/http/routeTable';
import { FunctionMetadata, invoke, RpcBindingInfo, RpcInvocationResponse, worker } from './functionsCore';

/** Calls into the app through the stand-in worker (functionsCore.ts), shaped as the host sends them. */

export function functionNamed(name: string): FunctionMetadata {
  const registered = worker.functions.get(name.toLowerCase());
  if (!registered) throw new Error(`The runtime never received function "${name}".`);
  return registered.metadata;
}

/** The function's one trigger binding, by name. */
export function triggerOf(metadata: FunctionMetadata): [string, RpcBindingInfo] {
  const triggers = Object.entries(metadata.bindings).filter(([, binding]) => /trigger$/i.test(binding.type ?? ''));
  if (triggers.length !== 1) throw new Error(`${metadata.name} has ${triggers.length} triggers`);
  return triggers[0];
}

export function httpFunction(method: string, path: string): string {
  const found = lookupRoute(method, path);
  if (found.kind !== 'found') throw new Error(`no route for ${method} ${path}`);
  return found.registration.name;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function httpAnswer(response: RpcInvocationResponse): HttpAnswer {
  const http = response.returnValue?.http;
  const bytes = http?.body?.bytes;
  const text = bytes ? Buffer.from(bytes).toString('utf8') : (http?.body?.string ?? '');
  return { status: Number(http?.statusCode), headers: http?.headers ?? {}, body: text ? JSON.parse(text) : undefined };
}

/** An HTTP request as the host hands it to the worker (RpcHttpData), for the function serving the path. */
export async function callHttp(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<HttpAnswer> {
  const name = httpFunction(method, path);
  const headers: Record<string, string> = { host: 'localhost:7071' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const http = {
    method,
    url: `http://localhost:7071${path}`,
    headers,
    query: {},
    params: {},
    body: options.body === undefined ? undefined : { string: JSON.stringify(options.body) },
  };
  const [binding] = triggerOf(functionNamed(name));
  return httpAnswer(await invoke(name, { inputData: [{ name: binding, data: { http } }] }));
}
