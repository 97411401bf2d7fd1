import type { AccountInfo, PublicClientApplication } from '@azure/msal-browser';
import { setTokenRenewal } from './api';
import { roleIds } from './roleIds';
import { Claims, decodeClaims, hasAppRole, hasDirectoryRole, replaceToken, Session, startSession } from './session';
import { EntraSettings } from './settings';

/**
 * Microsoft Entra sign-in outside the sandbox (SPEC §17), with MSAL for the browser. MSAL is
 * loaded only here, on demand, and keeps its own cache in sessionStorage. Its redirect URI is
 * /portal/auth-redirect, a page that only hands the answer back to the window that asked.
 */
export const redirectPath = '/portal/auth-redirect';
const returnToKey = 'gdap-portal.returnTo';

let client: Promise<PublicClientApplication> | undefined;

function msal(entra: EntraSettings): Promise<PublicClientApplication> {
  client ??= (async () => {
    const { PublicClientApplication } = await import('@azure/msal-browser');
    const app = new PublicClientApplication({
      auth: { clientId: entra.clientId, authority: entra.authority, redirectUri: `${location.origin}${redirectPath}` },
      cache: { cacheLocation: 'sessionStorage' },
    });
    await app.initialize();
    return app;
  })();
  return client;
}

/** The redirect page: passes the sign-in answer to the page (or popup opener) that started it. */
export async function runRedirectBridge(): Promise<void> {
  const { broadcastResponseToMainFrame } = await import('@azure/msal-browser/redirect-bridge');
  await broadcastResponseToMainFrame();
}

/** Where a signed-in person starts, from the roles in their token (the pages themselves ask the API). */
function homeFor(claims: Claims): string {
  if (hasAppRole(claims, 'AdminAgent') || hasAppRole(claims, 'HelpdeskAgent')) return '/portal/relationships';
  if (hasAppRole(claims, 'SupportEngineer')) return '/portal/support';
  const relationshipAdministrator =
    hasDirectoryRole(claims, roleIds.globalAdministrator) ||
    hasDirectoryRole(claims, roleIds.delegatedAdminRelationshipAdministrator);
  return relationshipAdministrator ? '/portal/customer/relationships' : '/portal/support';
}

function entraSession(accessToken: string): Session {
  const claims = decodeClaims(accessToken);
  return { method: 'entra', token: accessToken, claims, label: 'Microsoft Entra', home: homeFor(claims) };
}

function renewWith(app: PublicClientApplication, entra: EntraSettings, account: AccountInfo): void {
  setTokenRenewal(async () => {
    const result = await app.acquireTokenSilent({ scopes: entra.scopes, account });
    replaceToken(result.accessToken);
    return result.accessToken;
  });
}

/** After MSAL's redirect: the signed-in session and the page to return to, if this load completes a sign-in. */
export async function completeEntraSignIn(entra: EntraSettings): Promise<string | undefined> {
  const app = await msal(entra);
  const result = await app.handleRedirectPromise();
  const account = result?.account ?? app.getAllAccounts()[0];
  if (account) renewWith(app, entra, account);
  if (!result) return undefined;
  startSession(entraSession(result.accessToken));
  const returnTo = sessionStorage.getItem(returnToKey) ?? '/portal/';
  sessionStorage.removeItem(returnToKey);
  return returnTo;
}

export async function signInWithEntra(entra: EntraSettings, returnTo: string): Promise<void> {
  sessionStorage.setItem(returnToKey, returnTo);
  const app = await msal(entra);
  await app.loginRedirect({ scopes: entra.scopes, prompt: 'select_account' });
}

/** The authority of another tenant: the same cloud, that tenant's id instead of organizations/common. */
export function tenantAuthority(authority: string, tenantId: string): string {
  const url = new URL(authority);
  url.pathname = `/${tenantId}`;
  return url.toString().replace(/\/$/, '');
}

/** A second token of the same person from another tenant (SPEC §8.3), through a sign-in popup. */
export async function entraTokenForTenant(entra: EntraSettings, tenantId: string, loginHint?: string): Promise<string> {
  const app = await msal(entra);
  const result = await app.acquireTokenPopup({
    scopes: entra.scopes,
    authority: tenantAuthority(entra.authority, tenantId),
    loginHint,
  });
  return result.accessToken;
}
