import type { Context } from 'hono';
import { normalizeHostName } from '../../protocol/hostname.js';
import { readBodyPrefix } from '../body.js';
import { clientAddress } from '../client-address.js';
import { FAIL, type PingSignal, type PushPings, SUCCESS, WARN } from '../ping.js';
import { definePushProtocol, withoutTrailingSlash } from '../protocol.js';

const ID = 'consul';
const PREFIX = '/v1/agent/check/';

/** The TTL check endpoints and what each says; `update` says it in its body. */
const VERBS: Readonly<Record<string, PingSignal | 'body'>> = {
  pass: SUCCESS,
  warn: WARN,
  fail: FAIL,
  update: 'body',
};

/** A check's status in an update body, as Consul names it. */
const STATUSES: Readonly<Record<string, PingSignal>> = {
  passing: SUCCESS,
  warning: WARN,
  critical: FAIL,
};

/**
 * Bytes of an update body read at most. Consul keeps 4 KiB of a check's output by default;
 * JSON-escaped, that fits several times over. A longer body is refused, not cut: cut JSON does not parse.
 */
export const CONSUL_BODY_LIMIT_BYTES = 64 * 1024;

// Consul's own answers (agent/agent_endpoint.go, agent/http.go), so that its clients read them as they do Consul's.
const ACL_NOT_FOUND = 'ACL not found';
const PERMISSION_DENIED = 'Permission denied';
/** Consul quotes the id; hbd does not, since a token pasted in its place would be repeated. */
const UNKNOWN_CHECK = 'Unknown check ID. Ensure that the check ID is passed, not the check name.';

/**
 * Consul's TTL check API, for what already reports to a Consul agent: `PUT
 * /v1/agent/check/{pass,warn,fail}/{id}[?note=…]` and `PUT /v1/agent/check/update/{id}` with
 * `{"Status": "passing"|"warning"|"critical", "Output": "…"}`. The check id is the host name; the
 * token (`?token=`, `X-Consul-Token` or `Authorization: Bearer`, in Consul's order) is the host's
 * push token, or the ping key for any host it reaches. Answers as a Consul agent does: 200 with
 * an empty body, 400 for a bad body, 403 for a bad token, 404 for an unknown check, 405 for a
 * method other than PUT. A trailing slash after the check id is taken as if it were not there.
 */
export const consul = definePushProtocol({
  id: ID,
  name: 'Consul TTL checks',
  prefixes: [PREFIX],
  routes: [
    {
      methods: 'all',
      path: `${PREFIX}*`,
      async handle(c, pings, next) {
        const rest = withoutTrailingSlash(c.req.path).slice(PREFIX.length);
        const slash = rest.indexOf('/');
        const name = slash < 0 ? '' : rest.slice(0, slash);
        // Consul's other check endpoints (register, deregister) are not hbd's to serve.
        const verb = Object.hasOwn(VERBS, name) ? VERBS[name] : undefined;
        if (verb === undefined) return next();
        if (c.req.method !== 'PUT') {
          pings.refuse(ID, 'bad');
          return c.text(`method ${c.req.method} not allowed`, 405, { Allow: 'PUT' });
        }
        // In Consul's order: the body is read and checked before the token.
        let update: Update;
        if (verb === 'body') {
          const read = await readUpdate(c);
          if (typeof read === 'string') {
            pings.refuse(ID, 'bad');
            return c.text(read, read === TOO_LARGE ? 413 : 400);
          }
          update = read;
        } else {
          update = { signal: verb, output: c.req.query('note') };
        }
        const host = hostOf(c, pings, rest.slice(slash + 1));
        if (typeof host !== 'string') {
          pings.refuse(ID, 'not_found');
          return c.text(host.refusal, host.status);
        }
        pings.apply({
          protocol: ID,
          host,
          signal: update.signal,
          msg: messageOf(update.output),
          addr: clientAddress(c),
          runId: undefined,
        });
        // Consul's answer: 200, no content type, Content-Length: 0.
        return c.body(null, 200, { 'Content-Length': '0' });
      },
    },
  ],
});

interface Update {
  signal: PingSignal;
  output: string | undefined;
}

const TOO_LARGE = `Request body too large: more than ${CONSUL_BODY_LIMIT_BYTES} bytes`;

/** The update in the body, or why there is none (Consul's words). */
async function readUpdate(c: Context): Promise<Update | string> {
  let bytes: Uint8Array;
  try {
    bytes = await readBodyPrefix(c.req.raw.body, CONSUL_BODY_LIMIT_BYTES);
  } catch {
    return 'Request decode failed: incomplete request body';
  }
  if (bytes.length > CONSUL_BODY_LIMIT_BYTES) return TOO_LARGE;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  // Go's decoder says EOF for an empty body, and Consul passes that on.
  if (text.trim() === '') return 'Request decode failed: EOF';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return `Request decode failed: ${(error as Error).message}`;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'Request decode failed: expected a JSON object with Status and Output';
  }
  // Go matches field names without regard to case, so Consul takes "status" as "Status".
  let status: unknown = '';
  let output: unknown;
  for (const [key, value] of Object.entries(body)) {
    const field = key.toLowerCase();
    if (field === 'status') status = value;
    else if (field === 'output') output = value;
  }
  if (typeof status !== 'string') return 'Request decode failed: Status must be a string';
  if (output !== undefined && output !== null && typeof output !== 'string') {
    return 'Request decode failed: Output must be a string';
  }
  const signal = Object.hasOwn(STATUSES, status) ? STATUSES[status] : undefined;
  if (signal === undefined) {
    // The status is quoted back only when it is a plain word: the body may hold anything.
    return /^[A-Za-z]{0,16}$/.test(status) ? `Invalid check status: '${status}'` : 'Invalid check status';
  }
  return { signal, output: output ?? undefined };
}

/** The host the check id names, if the request's token may report for it; else Consul's refusal. */
function hostOf(
  c: Context,
  pings: PushPings,
  checkId: string,
): string | { status: 403 | 404; refusal: string } {
  const token = tokenOf(c);
  // No token is Consul's anonymous token, which may update no check here.
  if (token === undefined) return { status: 403, refusal: PERMISSION_DENIED };
  const tokenHost = pings.hostOfToken(token);
  if (tokenHost !== undefined) {
    // A host's token reports for that host alone, as a Consul token scoped to one check would.
    return normalizeHostName(checkId) === tokenHost ? tokenHost : { status: 403, refusal: PERMISSION_DENIED };
  }
  if (!pings.isPingKey(token)) return { status: 403, refusal: ACL_NOT_FOUND };
  const lookup = pings.lookUpSlug(checkId, false);
  return lookup.found ? lookup.host : { status: 404, refusal: UNKNOWN_CHECK };
}

/** Where Consul looks for a token, in its order: `?token=`, `X-Consul-Token`, `Authorization: Bearer`. */
function tokenOf(c: Context): string | undefined {
  const query = c.req.query('token');
  if (query) return query;
  const header = c.req.header('x-consul-token');
  if (header) return header;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  return bearer?.[1];
}

/** The note or output as a message: the final newline of a command's output dropped; empty is none. */
function messageOf(output: string | undefined): string | undefined {
  const text = output?.trimEnd();
  return text === undefined || text === '' ? undefined : text;
}
