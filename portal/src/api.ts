import { session, signOut } from './session';

/**
 * The one way pages talk to the service: its public HTTP API on this origin, with the signed-in
 * person's token. Errors come back in Graph's envelope; their message is what the page shows.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiResult<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Collection<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Without the signed-in person's token (sandbox helpers). */
  anonymous?: boolean;
  /** The body as text, not parsed (a CSV export). */
  text?: boolean;
}

/** Renews an Entra token shortly before it expires; set by the Entra sign-in when it is used. */
let renewToken: (() => Promise<string | undefined>) | undefined;
export function setTokenRenewal(renew: typeof renewToken): void {
  renewToken = renew;
}

async function bearerToken(): Promise<string | undefined> {
  const signedIn = session();
  if (!signedIn) return undefined;
  const expiresSoon = signedIn.claims.exp !== undefined && signedIn.claims.exp * 1000 < Date.now() + 120_000;
  if (expiresSoon && renewToken) return (await renewToken()) ?? signedIn.token;
  return signedIn.token;
}

/** `@odata.nextLink` is absolute on the service's PUBLIC_BASE_URL; the page always calls its own origin. */
export function sameOrigin(url: string): string {
  const parsed = new URL(url, location.origin);
  return `${parsed.pathname}${parsed.search}`;
}

export async function call<T = unknown>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (!options.anonymous) {
    const token = await bearerToken();
    if (token) headers.authorization = `Bearer ${token}`;
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(sameOrigin(path), { method, headers, body });
  } catch {
    throw new ApiError(0, 'networkError', 'The service could not be reached. Check that it is running and try again.');
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text && options.text && response.ok) parsed = text;
  else if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (response.status === 401 && !options.anonymous) signOut();
    throw new ApiError(
      response.status,
      error?.code ?? `http${response.status}`,
      error?.message ?? `The service answered HTTP ${response.status}.`,
    );
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export async function get<T>(path: string): Promise<T> {
  return (await call<T>('GET', path)).body;
}

/** Every item of a collection, following `@odata.nextLink` page after page. */
export async function getAll<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const page: Collection<T> = await get<Collection<T>>(next);
    items.push(...page.value);
    next = page['@odata.nextLink'];
  }
  return items;
}

/** An OData string literal: quotes doubled, so user text can never change the filter. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
