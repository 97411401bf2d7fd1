import { useTestbed } from './browser';

/**
 * Outside sandbox mode (SPEC §17): no picker and no root redirect; the pages sign in with
 * Microsoft Entra through MSAL, configured by PORTAL_CLIENT_ID and PORTAL_AUTHORITY. Entra itself
 * is not reachable from here, so the browser's request to it is caught and checked.
 */
const clientId = '3f0c7e2a-5b1d-4c8e-9a6f-2d4b8c1e7a90';
process.env.SANDBOX_MODE = 'false';
process.env.PORTAL_CLIENT_ID = clientId;
process.env.AUTH_AUDIENCE = 'api://gdap-service';
process.env.AUTH_ISSUER = 'https://login.microsoftonline.com/{tenantid}/v2.0';

describe('portal sign-in outside sandbox mode', () => {
  const bed = useTestbed();

  it('offers Microsoft sign-in only, allows its origin in the CSP, and serves no root redirect', async () => {
    const settings = await bed.client.call('GET', '/portal/config.json');
    expect(settings.body).toEqual({
      sandbox: false,
      sandboxSignIn: false,
      entra: {
        clientId,
        authority: 'https://login.microsoftonline.com/organizations',
        scopes: ['api://gdap-service/.default'],
      },
    });
    const index = await fetch(`${bed.host.url}/portal/`);
    const csp = String(index.headers.get('content-security-policy'));
    expect(csp).toContain("connect-src 'self' https://login.microsoftonline.com");
    expect(csp).toContain('frame-src https://login.microsoftonline.com');
    const root = await bed.client.call('GET', '/');
    expect(root.status).toBe(404);
    expect((await bed.client.call('POST', '/sandbox/tokens', { body: { tid: clientId } })).status).toBe(404);
  });

  it('sends the person to Entra with the client id, the API scope, PKCE and the redirect bridge', async () => {
    const { page } = await bed.open();
    const authorize = new Promise<URL>((resolve) => {
      void page.route('https://login.microsoftonline.com/**', async (route) => {
        const url = new URL(route.request().url());
        if (url.pathname.endsWith('/oauth2/v2.0/authorize')) resolve(url);
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>Entra stand-in</p>' });
      });
    });
    await page.goto(`${bed.host.url}/portal/invitations/some-relationship`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await page.getByLabel('Tenant id').count()).toBe(0);
    await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
    const url = await authorize;
    expect(url.pathname).toBe('/organizations/oauth2/v2.0/authorize');
    expect(url.searchParams.get('client_id')).toBe(clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(`${bed.host.url}/portal/auth-redirect`);
    expect(url.searchParams.get('scope')?.split(' ')).toContain('api://gdap-service/.default');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('response_type')).toBe('code');
    await page.getByText('Entra stand-in').waitFor();
  });
});
