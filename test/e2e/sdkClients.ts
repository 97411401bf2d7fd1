import { AuthenticationProvider, Client as ClassicGraphClient } from '@microsoft/microsoft-graph-client';
import { GraphRequestAdapter } from '@microsoft/msgraph-sdk';
import { createGraphClientFactory, GraphAzureIdentityAuthenticationProvider } from '@microsoft/msgraph-sdk-core';
// Adds `tenantRelationships` to the Kiota service client, as the SDK's packages per API area do.
import '@microsoft/msgraph-sdk-tenantrelationships';
import { HttpsTestHost } from './https';

/**
 * The two official Graph JS SDKs set up against an HTTPS test host as an application sets them
 * up against Graph: their own authentication providers and middleware, the local host as base
 * URL and as a host they may send tokens to. The one addition is trust in the test certificate,
 * given to fetch as a dispatcher (an application would set NODE_EXTRA_CA_CERTS instead).
 */

/**
 * The classic `@microsoft/microsoft-graph-client`. It attaches the token only to https Graph
 * hosts and to `customHosts` (no custom hosts: Graph's alone).
 */
export function classicGraphClient(
  host: HttpsTestHost,
  token: string,
  customHosts: string[] = [new URL(host.url).hostname],
): ClassicGraphClient {
  const authProvider: AuthenticationProvider = { getAccessToken: () => Promise.resolve(token) };
  return ClassicGraphClient.initWithMiddleware({
    authProvider,
    baseUrl: host.url,
    defaultVersion: 'v1.0',
    customHosts: customHosts.length ? new Set(customHosts) : undefined,
    // The client calls the global fetch with these options.
    fetchOptions: { dispatcher: host.dispatcher },
  });
}

type TokenCredential = ConstructorParameters<typeof GraphAzureIdentityAuthenticationProvider>[0];

/**
 * The Kiota `@microsoft/msgraph-sdk` request adapter: an Azure Identity authentication provider
 * whose credential hands out `token` (where an app passes DefaultAzureCredential) and which sends
 * it only to `allowedHosts` over https (none given: Graph's own hosts), the adapter's base URL on
 * the local host, and the SDK's default Graph middleware chain.
 */
export function kiotaRequestAdapter(
  host: HttpsTestHost,
  token: string,
  allowedHosts: string[] = [new URL(host.url).hostname],
): GraphRequestAdapter {
  const credential: TokenCredential = {
    getToken: () => Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const authProvider = new GraphAzureIdentityAuthenticationProvider(
    credential,
    ['https://graph.microsoft.com/.default'],
    undefined,
    new Set(allowedHosts),
  );
  const httpClient = createGraphClientFactory({ graphServiceTargetVersion: 'v1.0' }, (url, init) =>
    fetch(url, { ...init, dispatcher: host.dispatcher }),
  );
  const adapter = new GraphRequestAdapter(authProvider, undefined, undefined, httpClient);
  adapter.baseUrl = `${host.url}/v1.0`;
  return adapter;
}
