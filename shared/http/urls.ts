/** The Graph versions served (SPEC §14): `/beta` has the same handlers and schemas as `/v1.0`. */
export type ApiVersion = 'v1.0' | 'beta';

/** Where a request is served: the origin (or PUBLIC_BASE_URL) and the Graph version it called. */
export interface UrlScope {
  baseUrl: string;
  apiVersion: ApiVersion;
}

/** The Graph version named by a request path's first segment (`/beta/...`); anything else is v1.0. */
export function apiVersionOf(pathname: string): ApiVersion {
  return /^\/beta(?:\/|$)/i.test(pathname) ? 'beta' : 'v1.0';
}

/** Graph paths are written as `/v1.0/...`; a client that called `/beta` gets `/beta/...` URLs back. */
function versioned(scope: UrlScope, path: string): string {
  return scope.apiVersion === 'beta' && path.startsWith('/v1.0/') ? `/beta/${path.slice('/v1.0/'.length)}` : path;
}

/** Absolute URLs for Location, @odata.context and @odata.nextLink, rooted at the service's base URL. */
export function absoluteUrl(scope: UrlScope, path: string): string {
  return `${scope.baseUrl}${versioned(scope, path)}`;
}

export function odataContext(scope: UrlScope, entitySetPath: string): string {
  const relative = entitySetPath.replace(/^\/v1\.0\//, '');
  return `${scope.baseUrl}/${scope.apiVersion}/$metadata#${relative}`;
}

/** The same request with its $skipToken replaced, for @odata.nextLink (its path keeps the version called). */
export function nextLink(requestUrl: string, scope: UrlScope, skipToken: string | undefined): string | undefined {
  if (skipToken === undefined) return undefined;
  const url = new URL(requestUrl);
  for (const key of [...url.searchParams.keys()]) {
    if (key.toLowerCase() === '$skiptoken') url.searchParams.delete(key);
  }
  url.searchParams.set('$skiptoken', skipToken);
  return `${scope.baseUrl}${url.pathname}${url.search}`;
}
