import { HttpRequest, HttpResponseInit } from '@azure/functions';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { config } from '../shared/config';
import { notFound } from '../shared/domain/errors';
import { anonymousRoute } from '../shared/http/handler';
import { json } from '../shared/http/responses';
import { sandboxSigningAvailable } from '../shared/http/sandboxKeys';
import { registerHttp } from '../shared/registrations';
import { PortalManifest, portalManifestFile } from '../shared/portalManifest';

/**
 * The web portal (SPEC §17): the static assets `npm run build` bundles from portal/ into
 * dist/portal/, served from this Functions app under /portal/, with the page's sign-in settings at
 * /portal/config.json. The pages are plain clients of the public API; nothing here is private.
 */

/** Where the built portal is: beside the compiled function (dist/functions → dist/portal) or, from sources, in dist/. */
export function portalAssetsDirectory(): string | undefined {
  const candidates = [path.join(__dirname, '..', 'portal'), path.join(__dirname, '..', 'dist', 'portal')];
  return candidates.find((directory) => existsSync(path.join(directory, portalManifestFile)));
}

interface Asset {
  body: Buffer;
  /** Pre-compressed variants written by the build, by content coding. */
  encoded: Partial<Record<'br' | 'gzip', Buffer>>;
  contentType: string;
  /** Content-hashed names never change content, so browsers may keep them for good. */
  immutable: boolean;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

let assets: Map<string, Asset> | undefined;

/** Reads the build's files once: a few hundred kilobytes, kept in memory for the life of the instance. */
function loadAssets(): Map<string, Asset> {
  if (assets) return assets;
  const directory = portalAssetsDirectory();
  const loaded = new Map<string, Asset>();
  if (directory) {
    const manifest = JSON.parse(readFileSync(path.join(directory, portalManifestFile), 'utf8')) as PortalManifest;
    for (const file of manifest.files) {
      const read = (suffix: string) => readFileSync(path.join(directory, file.path + suffix));
      loaded.set(file.path, {
        body: read(''),
        encoded: Object.fromEntries(file.encodings.map((coding) => [coding, read(coding === 'br' ? '.br' : '.gz')])),
        contentType: contentTypes[path.extname(file.path)] ?? 'application/octet-stream',
        immutable: file.immutable,
      });
    }
  }
  assets = loaded;
  return loaded;
}

/** The origin MSAL talks to (token requests, silent renewal in a hidden frame), when Entra sign-in is configured. */
function signInOrigin(): string | undefined {
  const { clientId, authority } = config().portal;
  return clientId ? new URL(authority).origin : undefined;
}

/** Scripts and styles from this origin only (no inline script, no eval); the API on the same origin. */
export function contentSecurityPolicy(): string {
  const signIn = signInOrigin();
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${signIn ? ` ${signIn}` : ''}`,
    `frame-src ${signIn ?? "'none'"}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  };
}

/** What the page needs to know before anyone signs in: which sign-in to offer (no secrets). */
export function portalSettings(): Record<string, unknown> {
  const { sandboxMode, auth, portal } = config();
  return {
    sandbox: sandboxMode,
    // The picker needs the sandbox's token minting, which is off once real keys are configured.
    sandboxSignIn: sandboxSigningAvailable(),
    entra: portal.clientId
      ? {
          clientId: portal.clientId,
          authority: portal.authority,
          scopes: [`${auth.audience.replace(/\/+$/, '')}/.default`],
        }
      : null,
  };
}

function chooseEncoding(request: HttpRequest, asset: Asset): 'br' | 'gzip' | undefined {
  const accepted = (request.headers.get('accept-encoding') ?? '').toLowerCase();
  if (asset.encoded.br && /\bbr\b/.test(accepted)) return 'br';
  if (asset.encoded.gzip && /\bgzip\b/.test(accepted)) return 'gzip';
  return undefined;
}

function serveAsset(request: HttpRequest, asset: Asset): HttpResponseInit {
  const encoding = chooseEncoding(request, asset);
  const body = encoding ? (asset.encoded[encoding] as Buffer) : asset.body;
  const headers: Record<string, string> = {
    ...securityHeaders(),
    'content-type': asset.contentType,
    'content-length': String(body.length),
    'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    vary: 'Accept-Encoding',
  };
  if (encoding) headers['content-encoding'] = encoding;
  return { status: 200, headers, body: request.method === 'HEAD' ? undefined : body };
}

const indexFile = 'index.html';

export async function portalHandler(request: HttpRequest): Promise<HttpResponseInit> {
  const { pathname } = new URL(request.url);
  // Relative links in the pages resolve against /portal/, so the bare /portal gets its slash.
  if (/^\/portal$/i.test(pathname)) return { status: 301, headers: { location: '/portal/' } };
  const file = (request.params.path ?? '').replace(/^\/+/, '');
  if (file === 'config.json') return json(200, portalSettings(), { 'cache-control': 'no-store', ...securityHeaders() });
  const found = loadAssets();
  const asset = found.get(file || indexFile);
  if (asset) return serveAsset(request, asset);
  // A page route (no file extension) is the single-page app's: index.html decides what to show.
  if (!path.extname(file) && found.has(indexFile)) return serveAsset(request, found.get(indexFile) as Asset);
  throw notFound(
    found.size
      ? `The portal has no file '${file}'.`
      : 'The portal is not built: run `npm run build` (it writes dist/portal/).',
  );
}

/** In sandbox mode the site root opens the portal, so a newcomer at http://127.0.0.1:7071/ sees pages, not JSON. */
export async function rootHandler(): Promise<HttpResponseInit> {
  if (!config().sandboxMode) throw notFound("Resource not found for the segment '/'.");
  return { status: 302, headers: { location: '/portal/', 'cache-control': 'no-cache' } };
}

registerHttp({
  name: 'portal',
  methods: ['GET', 'HEAD'],
  route: 'portal/{*path}',
  handler: anonymousRoute(portalHandler),
});

registerHttp({
  name: 'siteRoot',
  methods: ['GET', 'HEAD'],
  // Azure Functions cannot route an empty template; an optional parameter that admits no value serves "/" only.
  route: '{root:maxlength(0)?}',
  handler: anonymousRoute(rootHandler),
});
