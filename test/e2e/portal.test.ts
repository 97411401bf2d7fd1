import { Client, startTestHost, TestHost } from './support';

/** The portal's static serving (SPEC §17): content types, caching, CSP, page routes, the sandbox's root redirect. */
describe('portal serving', () => {
  let host: TestHost;
  let client: Client;

  beforeAll(async () => {
    host = await startTestHost();
    client = new Client(host.url);
  });
  afterAll(() => host.close());

  const fetchRaw = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${host.url}${path}`, { headers, redirect: 'manual' });

  it('redirects the site root to the portal in sandbox mode, and /portal to /portal/', async () => {
    const root = await fetchRaw('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/portal/');
    const bare = await fetchRaw('/portal');
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/portal/');
    // Other single segments are still unknown routes, not the root.
    expect((await fetchRaw('/nothing-here')).status).toBe(404);
  });

  it('serves index.html uncached with a strict Content-Security-Policy, and hashed assets as immutable', async () => {
    const index = await fetchRaw('/portal/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = String(index.headers.get('content-security-policy'));
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file: no inline script
    const script = /<script type="module" src="(\/portal\/assets\/main-[A-Z0-9]+\.js)">/.exec(html)?.[1];
    const styles = /<link rel="stylesheet" href="(\/portal\/assets\/styles-[A-Z0-9]+\.css)">/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(styles).toBeDefined();

    const js = await fetchRaw(String(script), { 'accept-encoding': 'br, gzip' });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-encoding')).toBe('br');
    expect((await js.text()).length).toBeGreaterThan(1000); // fetch decodes brotli
    const plain = await fetchRaw(String(script), { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    const css = await fetchRaw(String(styles));
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('--colorBrandBackground:#0f6cbd');
  });

  it('answers page routes with index.html (the app decides) and unknown files with 404', async () => {
    const page = await fetchRaw('/portal/invitations/abc-def');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<script type="module"');
    const missing = await client.call('GET', '/portal/assets/missing-AAAA.js');
    expect(missing.status).toBe(404);
    expect((missing.body as { error: { code: string } }).error.code).toBe('ResourceNotFound');
  });

  it('tells the page which sign-in to offer, with no secret', async () => {
    const settings = await client.call('GET', '/portal/config.json');
    expect(settings.status).toBe(200);
    expect(settings.headers.get('cache-control')).toBe('no-store');
    expect(settings.body).toEqual({ sandbox: true, sandboxSignIn: true, entra: null });
  });
});
