/**
 * A stand-in for `@azure/functions-core`, the module the Azure Functions Node.js worker injects
 * into the app (types: `types-core/index.d.ts` in Azure/azure-functions-nodejs-library). With it
 * in place (`jest.mock('@azure/functions-core', …, { virtual: true })`) the `@azure/functions`
 * library leaves test mode: `app.http`/`app.timer`/`app.storageQueue` hand their function metadata
 * to `registerFunction` exactly as they do in the worker, and `invoke` drives a function through
 * the library's own invocation model the way the worker does for each host request.
 */

export interface RpcBindingInfo {
  type?: string;
  direction?: 'in' | 'out' | 'inout';
  [property: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
  retryOptions?: unknown;
}

export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: Record<string, unknown>;
}

export interface RpcInvocationRequest {
  inputData?: { name: string; data: RpcTypedData }[];
  triggerMetadata?: Record<string, RpcTypedData>;
  traceContext?: { traceParent?: string; traceState?: string; attributes?: Record<string, string> };
}

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface RpcInvocationResponse {
  invocationId?: string;
  outputData?: unknown[];
  returnValue?: RpcTypedData & {
    http?: { statusCode?: string; headers?: Record<string, string>; body?: RpcTypedData };
  };
}

interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: unknown): InvocationModel | Promise<InvocationModel>;
}

type FunctionCallback = (...args: unknown[]) => unknown;

export class Disposable {
  static from(...likes: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => likes.forEach((like) => like.dispose()));
  }

  constructor(private callOnDispose?: () => unknown) {}

  dispose(): void {
    this.callOnDispose?.();
    this.callOnDispose = undefined;
  }
}

/** What the app gave the worker. */
export const worker = {
  programmingModel: undefined as ProgrammingModel | undefined,
  functions: new Map<string, { metadata: FunctionMetadata; callback: FunctionCallback }>(),
  hooks: new Map<string, ((context: unknown) => unknown)[]>(),
  logs: [] as { level: string; category: string; message: string }[],
};

export const version = '3.12.0';
export const hostVersion = '4.1040.0';

export function setProgrammingModel(model: ProgrammingModel): void {
  worker.programmingModel = model;
}

export function getProgrammingModel(): ProgrammingModel | undefined {
  return worker.programmingModel;
}

export function registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
  // The worker refuses a second function of the same name (names are case-insensitive in the host).
  const key = metadata.name.toLowerCase();
  if (worker.functions.has(key)) throw new Error(`A function named "${metadata.name}" is already registered.`);
  worker.functions.set(key, { metadata, callback });
  return new Disposable(() => worker.functions.delete(key));
}

export function registerHook(hookName: string, callback: (context: unknown) => unknown): Disposable {
  const hooks = worker.hooks.get(hookName) ?? [];
  hooks.push(callback);
  worker.hooks.set(hookName, hooks);
  return new Disposable(() => hooks.splice(hooks.indexOf(callback), 1));
}

/** A log line, through the app's `log` hooks (which may change a user line) as the worker runs them. */
export function log(level: string, category: string, message: string, invocationContext?: unknown): void {
  const line = { level, category, message, invocationContext, hookData: {}, appHookData };
  for (const hook of worker.hooks.get('log') ?? []) hook(line);
  worker.logs.push({ level: line.level, category, message: line.message });
}

const appHookData = {};

async function runHooks(name: string, context: object): Promise<void> {
  for (const hook of worker.hooks.get(name) ?? []) await hook({ hookData: {}, appHookData, ...context });
}

/** The app stops: its appTerminate hooks run, as when the worker shuts down. */
export function terminate(): Promise<void> {
  return runHooks('appTerminate', {});
}

/** Runs one invocation as the worker's invocation handler does: arguments, the function, the response. */
export async function invoke(functionName: string, request: RpcInvocationRequest): Promise<RpcInvocationResponse> {
  const registered = worker.functions.get(functionName.toLowerCase());
  if (!registered || !worker.programmingModel) throw new Error(`No function "${functionName}" was registered.`);
  const invocationId = `inv-${Math.random().toString(16).slice(2)}`;
  const model = await worker.programmingModel.getInvocationModel({
    invocationId,
    request: { invocationId, functionId: registered.metadata.name, ...request },
    metadata: { name: registered.metadata.name, bindings: registered.metadata.bindings },
    state: 'invocation',
    log: (level: string, category: string, message: string) => log(level, category, message, undefined),
  });
  const { context, inputs } = await model.getArguments();
  // Hooks may replace the handler (the OpenTelemetry instrumentation binds it to the host's trace context).
  const pre = { invocationContext: context, inputs, functionCallback: registered.callback, hookData: {}, appHookData };
  for (const hook of worker.hooks.get('preInvocation') ?? []) await hook(pre);
  const result = await model.invokeFunction(context, pre.inputs, pre.functionCallback);
  return model.getResponse(context, result);
}
