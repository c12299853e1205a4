import type { RequestListener } from 'node:http';
import type { ServerOptions } from 'node:https';
import type { TlsFiles } from '../config/tls-files.js';

/**
 * Mozilla's "intermediate" configuration: TLS 1.2 and 1.3, and on TLS 1.2 only ECDHE key exchange
 * with an AEAD cipher (forward secrecy; no static RSA, CBC, SHA-1 MACs, CCM8 or ARIA). Every browser
 * and client of the last ten years speaks one of these. The TLS 1.3 suites are named too: in Node
 * the one list sets both.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * Two years, as Mozilla recommends. Without includeSubDomains: hbd speaks for its own host name
 * only, and other hosts under the same domain may well serve plain HTTP.
 */
export const HSTS = 'max-age=63072000';

export function httpsServerOptions(files: TlsFiles): ServerOptions {
  return {
    cert: files.cert,
    key: files.key,
    minVersion: 'TLSv1.2',
    ciphers: TLS_CIPHERS,
    // Every suite left is strong, so the client picks: one without AES hardware picks ChaCha20.
    honorCipherOrder: false,
  };
}

/** Adds Strict-Transport-Security to every response, so a browser never tries plain HTTP again. */
export function withHsts(listener: RequestListener): RequestListener {
  return (request, response) => {
    response.setHeader('Strict-Transport-Security', HSTS);
    listener(request, response);
  };
}
