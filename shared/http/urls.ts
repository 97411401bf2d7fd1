/** Absolute URLs for Location, @odata.context and @odata.nextLink, rooted at the service's base URL. */
export function absoluteUrl(baseUrl: string, path: string): string {
  return `${baseUrl}${path}`;
}

export function odataContext(baseUrl: string, entitySetPath: string): string {
  const relative = entitySetPath.replace(/^\/v1\.0\//, '');
  return `${baseUrl}/v1.0/$metadata#${relative}`;
}

/** The same request with its $skipToken replaced, for @odata.nextLink. */
export function nextLink(requestUrl: string, baseUrl: string, skipToken: string | undefined): string | undefined {
  if (skipToken === undefined) return undefined;
  const url = new URL(requestUrl);
  for (const key of [...url.searchParams.keys()]) {
    if (key.toLowerCase() === '$skiptoken') url.searchParams.delete(key);
  }
  url.searchParams.set('$skiptoken', skipToken);
  return `${baseUrl}${url.pathname}${url.search}`;
}
