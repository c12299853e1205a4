import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../../src/http/dashboard.js';

let dir: string;
let outside: string;

beforeAll(() => {
  const root = mkdtempSync(join(tmpdir(), 'hbd-web-'));
  dir = join(root, 'web');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>',
  );
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("hbd")');
  writeFileSync(join(dir, 'assets', 'index-abc123.css'), 'body{}');
  outside = join(root, 'secret.txt');
  writeFileSync(outside, 'not for the web');
});

afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('the dashboard files', () => {
  it('serves index.html at / with no-cache and the security headers', async () => {
    const response = await dashboardRoutes({ dir }).request('/', { headers: { host: '127.0.0.1:50004' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:50004 wss://127.0.0.1:50004");
    expect(csp).not.toContain('unsafe');
    expect(await response.text()).toContain('/assets/index-abc123.js');
  });

  it('serves hashed assets with their content type, cached for a year', async () => {
    const app = dashboardRoutes({ dir });
    const script = await app.request('/assets/index-abc123.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await script.text()).toBe('console.log("hbd")');
    const style = await app.request('/assets/index-abc123.css');
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('leaves a host header that could smuggle in another source out of the policy', async () => {
    const response = await dashboardRoutes({ dir }).request('/', {
      headers: { host: "evil.example; script-src 'unsafe-inline'" },
    });
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self';");
  });

  it.each([
    '/assets/..%2fsecret.txt',
    '/assets/..%2f..%2fweb%2findex.html',
    '/assets/%2e%2e%2fsecret.txt',
    '/assets/%2e%2e/secret.txt',
    '/assets/..%5csecret.txt',
    '/assets/%2fetc%2fpasswd',
    '/assets/.hidden',
    '/assets/index-abc123.js%00.css',
    '/assets/missing-123.js',
  ])('answers 404 to %s, never a file outside assets/', async (path) => {
    const response = await dashboardRoutes({ dir }).request(`http://127.0.0.1${path}`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('not for the web');
  });

  it('says to run `npm run build` when the dashboard was not built', async () => {
    const response = await dashboardRoutes({ dir: join(dir, 'nowhere') }).request('/');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toContain('npm run build');
  });
});
