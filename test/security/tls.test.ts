/**
 * Finding 11 (TLS): hbd served HTTPS with Node's default suites, which on TLS 1.2 still include
 * static-RSA key exchange (no forward secrecy), CBC with SHA-1, CCM8 and ARIA, and sent no HSTS,
 * so a browser that once reached it over HTTPS could still be talked into plain HTTP. A real TLS
 * client offers one suite at a time here; hbd must accept Mozilla's "intermediate" ones only.
 */
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const RSA = { tls_cert: join(fixtures, 'tls-rsa-cert.pem'), tls_key: join(fixtures, 'tls-rsa-key.pem') };
const ECDSA = { tls_cert: join(fixtures, 'tls-cert.pem'), tls_key: join(fixtures, 'tls-key.pem') };

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

/** The suite agreed on, or `refused` when the handshake fails. */
function handshake(options: {
  ciphers?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
}) {
  return new Promise<string>((resolve) => {
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port: hbd!.daemon.http.port,
        // The fixtures are self-signed: what is tested is the suite, not the certificate.
        rejectUnauthorized: false,
        maxVersion: 'TLSv1.2',
        ...options,
      },
      () => {
        resolve(`${socket.getProtocol()} ${socket.getCipher().standardName}`);
        socket.destroy();
      },
    );
    socket.on('error', () => resolve('refused'));
  });
}

function httpsHeaders(path: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https
      .get(hbd!.url(path), { rejectUnauthorized: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      })
      .on('error', reject);
  });
}

describe('HTTPS', () => {
  it('with an RSA certificate, refuses static RSA, CBC-SHA1, CCM8 and ARIA on TLS 1.2, and takes ECDHE with AES-GCM or ChaCha20', async () => {
    hbd = await startTestDaemon(RSA);
    for (const weak of [
      'AES128-SHA',
      'AES256-SHA',
      'AES128-CCM8',
      'ARIA128-GCM-SHA256',
      'ECDHE-RSA-AES128-SHA',
    ]) {
      expect([weak, await handshake({ ciphers: weak })]).toEqual([weak, 'refused']);
    }
    expect(await handshake({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toBe(
      'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    );
    expect(await handshake({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })).toBe(
      'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    );
    expect(await handshake({ ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' })).toBe(
      'TLSv1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
    );
    expect(await handshake({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })).toMatch(/^TLSv1\.3 TLS_/);
  });

  it('with an ECDSA certificate, refuses CCM8 and ARIA, and takes ECDHE-ECDSA with AES-GCM', async () => {
    hbd = await startTestDaemon(ECDSA);
    for (const weak of [
      'ECDHE-ECDSA-AES128-CCM8',
      'ECDHE-ECDSA-AES128-CCM',
      'ECDHE-ECDSA-ARIA128-GCM-SHA256',
    ]) {
      expect([weak, await handshake({ ciphers: weak })]).toEqual([weak, 'refused']);
    }
    expect(await handshake({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toBe(
      'TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    );
  });

  it('sends Strict-Transport-Security on every HTTPS answer, and none over plain HTTP', async () => {
    hbd = await startTestDaemon(ECDSA);
    for (const path of ['/healthz', '/', '/api/hosts', '/no/such/page']) {
      const { headers } = await httpsHeaders(path);
      expect([path, headers['strict-transport-security']]).toEqual([path, 'max-age=63072000']);
    }
    // A refused live feed is answered by hand, below the HTTP framework: it carries it too.
    const refusedFeed = await new Promise<{ status: number; hsts: unknown }>((resolve, reject) => {
      https
        .get(
          hbd!.url('/ws'),
          {
            rejectUnauthorized: false,
            headers: {
              connection: 'Upgrade',
              upgrade: 'websocket',
              origin: 'https://evil.example',
              'sec-websocket-version': '13',
              'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            },
          },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'] });
          },
        )
        .on('error', reject);
    });
    expect(refusedFeed).toEqual({ status: 403, hsts: 'max-age=63072000' });
    await hbd.stop();
    hbd = await startTestDaemon();
    const plain = await fetch(hbd.url('/healthz'));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    expect((await getJson(hbd.url('/api/hosts'))).status).toBe(200);
  });
});
