import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import type { Config } from './schema.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** When the certificate stops being valid, for a warning before browsers refuse it. */
  validTo: Date;
}

/**
 * Reads `tls_cert` and `tls_key` and checks that they are a certificate and the private key that
 * belongs to it, as the HTTPS server needs them; null when hbd serves plain HTTP. Throws a
 * ConfigError naming the key and the file, so that `check-config` catches what `serve` would
 * trip on, and `serve` reports it as a config problem rather than a stack trace.
 */
export function readTlsFiles(config: Pick<Config, 'tls_cert' | 'tls_key'>): TlsFiles | null {
  const { tls_cert: certPath, tls_key: keyPath } = config;
  if (certPath === null || keyPath === null) return null;
  const problems: string[] = [];
  const cert = readOne('tls_cert', certPath, problems);
  const key = readOne('tls_key', keyPath, problems);
  let certificate: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  if (cert) {
    try {
      certificate = new X509Certificate(cert);
    } catch (error) {
      problems.push(`tls_cert: ${certPath} is not a PEM certificate (${reason(error)})`);
    }
  }
  if (key) {
    try {
      privateKey = createPrivateKey(key);
    } catch (error) {
      problems.push(`tls_key: ${keyPath} is not a PEM private key without a passphrase (${reason(error)})`);
    }
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push(`tls_key: ${keyPath} is not the private key of the certificate in ${certPath}`);
  }
  if (problems.length > 0 || !cert || !key || !certificate) throw new ConfigError(problems);
  return { cert, key, validTo: new Date(certificate.validTo) };
}

function readOne(name: string, path: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    problems.push(`${name}: cannot read ${path} (${reason(error)})`);
    return undefined;
  }
}

/** ENOENT, EACCES… for a file; OpenSSL's words for its contents. No stack: it helps nobody here. */
function reason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code?.startsWith('E') && !code.startsWith('ERR_')) return code === 'ENOENT' ? 'no such file' : code;
  return message;
}
