/**
 * Why a running hbd could not be reached, in words an operator can act on: the same line for
 * every command that talks to the API, `cannot reach hbd at URL: <reason> (<what to try>)`.
 */

/** The option every API command takes to say where hbd is. */
export const URL_HINT = '--url URL';

/** hbd did not answer at all (as opposed to answering with an error): the message is the whole line. */
export class ApiUnreachable extends Error {
  override name = 'ApiUnreachable';
}

interface CausedError {
  code?: string;
  message?: string;
  hostname?: string;
  errors?: CausedError[];
}

/** TLS verification failures, by OpenSSL's code, with what they mean to someone running hbd. */
const CERTIFICATE_PROBLEMS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate is signed by an authority this machine does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is signed by an authority this machine does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is signed by an authority this machine does not trust',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet (is the clock right?)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another name',
};

const TRUST_HINT = 'trust its CA with NODE_EXTRA_CA_CERTS=FILE, or use the name in the certificate';

/** The one line for a request to `base` that failed before any answer came. */
export function unreachableMessage(base: string, error: unknown, timeoutMs: number): string {
  return `cannot reach hbd at ${displayBase(base)}: ${reasonOf(error, timeoutMs)}`;
}

/** `http://127.0.0.1:50004`, without the trailing slash URL adds. */
export function displayBase(base: string): string {
  return base.replace(/\/+$/, '');
}

function reasonOf(error: unknown, timeoutMs: number): string {
  // fetch's own timeout, or the live feed's "Opening handshake has timed out".
  const timedOut =
    error instanceof Error &&
    (error.name === 'TimeoutError' || /handshake has timed out/.test(error.message));
  if (timedOut) {
    return `no answer within ${timeoutMs / 1000} s (is the address right? ${URL_HINT})`;
  }
  const cause = rootCause(error);
  const code = cause.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused (is it running? ${URL_HINT})`;
    case 'ENOTFOUND':
      return `no such host name${cause.hostname ? ` "${cause.hostname}"` : ''} in DNS (${URL_HINT})`;
    case 'EAI_AGAIN':
      return `cannot look up the host name now: DNS is not answering (${URL_HINT})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to that address (is the network up? ${URL_HINT})`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `the connection timed out (is a firewall in the way? ${URL_HINT})`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      // hbd's HTTPS server drops a plain-HTTP request; the other way round OpenSSL says so below.
      return `the connection was closed without an answer (does hbd serve HTTPS there? try https://; ${URL_HINT})`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return `TLS failed: nothing speaks HTTPS there (does hbd serve plain HTTP? try http://; ${URL_HINT})`;
  }
  const certificate = CERTIFICATE_PROBLEMS[code];
  if (certificate !== undefined) return `TLS failed: ${certificate} (${TRUST_HINT})`;
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /certificate/i.test(cause.message ?? '')) {
    return `TLS failed: ${cause.message ?? code}`;
  }
  if (/bad port/i.test(cause.message ?? '')) {
    return `fetch refuses that port: it belongs to another service (give hbd another port; ${URL_HINT})`;
  }
  return `${cause.message ?? String(error)} (${URL_HINT})`;
}

/** fetch wraps the socket's error in `cause`; several addresses tried give an AggregateError. */
function rootCause(error: unknown): CausedError {
  let current = error as CausedError & { cause?: unknown };
  while (current?.cause !== undefined && current.code === undefined)
    current = current.cause as typeof current;
  if (current?.code === undefined && current?.errors?.[0]) return current.errors[0];
  return current ?? {};
}
