import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { compress } from 'hono/compress';

export interface DashboardDeps {
  /** The built dashboard (index.html and assets/); by default dist/web beside the compiled code. */
  dir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite writes flat, hashed file names into assets/; anything else (a slash, a leading dot) is refused. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;
/** A host (name, IPv4 or bracketed IPv6) and optional port, safe to repeat in a header. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

const NOT_BUILT =
  'The hbd dashboard has not been built. Run `npm run build` in the hbd directory ' +
  '(it writes dist/web), then reload this page. The API under /api works without it.\n';

/**
 * The web dashboard: index.html at `/` and Vite's hashed bundles under `/assets/`.
 *
 * The page loads nothing but its own script and stylesheet and talks only to this
 * server, so the Content-Security-Policy allows exactly that: an injected script or
 * a request elsewhere is refused by the browser even if an XSS bug slipped in.
 */
export function dashboardRoutes(deps: DashboardDeps = {}): Hono {
  const app = new Hono();
  // Only on the dashboard's own paths: mounted at `/`, a catch-all would also wrap the API's 404s.
  for (const path of ['/', '/index.html', '/assets/*']) {
    app.use(path, compress());
    app.use(path, async (c, next) => {
      await next();
      c.header('Content-Security-Policy', contentSecurityPolicy(c.req.header('host')));
      c.header('X-Content-Type-Options', 'nosniff');
      c.header('Referrer-Policy', 'no-referrer');
    });
  }

  const index = async (c: Context) => {
    const dir = deps.dir ?? defaultDashboardDir();
    let html: string;
    try {
      html = await readFile(join(dir, 'index.html'), 'utf8');
    } catch {
      return c.text(NOT_BUILT, 503, { 'Cache-Control': 'no-store' });
    }
    // A new build changes the asset names inside it: always ask, so the next visit gets them.
    return c.html(html, 200, { 'Cache-Control': 'no-cache' });
  };
  app.get('/', index);
  app.get('/index.html', index);

  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    if (!ASSET_NAME.test(name) || name.includes('..')) return c.notFound();
    const dir = deps.dir ?? defaultDashboardDir();
    let body: Buffer;
    try {
      body = await readFile(join(dir, 'assets', name));
    } catch {
      return c.notFound();
    }
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      // The name carries a hash of the content: a changed file has a new name.
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });

  return app;
}

function contentSecurityPolicy(host: string | undefined): string {
  // 'self' covers ws: and wss: to this origin only in newer browsers; naming them keeps
  // the live feed working in the others without opening connections to any other host.
  const sockets = host && HOST_HEADER.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    `connect-src 'self'${sockets}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * dist/web beside dist/http, where `npm run build` puts it. Running from source
 * (src/http, as the tests do) there is no src/web, so the build in dist/web is served.
 */
export function defaultDashboardDir(): string {
  const beside = fileURLToPath(new URL('../web/', import.meta.url));
  if (existsSync(join(beside, 'index.html'))) return beside;
  const built = fileURLToPath(new URL('../../dist/web/', import.meta.url));
  return existsSync(join(built, 'index.html')) ? built : beside;
}
