/**
 * A local ntfy server: POST /{topic} with the message as the body and Title, Priority, Tags as
 * headers, checked as ntfy documents them, answered with the published message as JSON or with
 * ntfy's {code, http, error, link} error.
 */

import { randomBytes } from 'node:crypto';
import { Problems, type Standin, startHttpStandin } from './webhook.js';

export const STANDIN_NTFY_TOPIC = 'hbd-alerts';

export interface NtfyRequest {
  topic: string;
  /** The Title header decoded (RFC 2047 encoded-words undone), or undefined when absent. */
  title: string | undefined;
  /** The Title header as sent. */
  rawTitle: string | undefined;
  priority: number | undefined;
  tags: string[] | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
  message: string;
  /** The id the stand-in answered with. */
  id: string;
}

const PRIORITY_NAMES: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, max: 5, urgent: 5 };
const ERRORS: Record<number, string> = {
  400: 'invalid request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'page not found',
  413: 'message too large',
  429: 'limit reached: too many requests',
  500: 'internal server error',
  503: 'service unavailable',
};

function ntfyError(status: number, error: string, code = status * 100 + 1) {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: `${JSON.stringify({ code, http: status, error, link: 'https://ntfy.sh/docs/publish/' })}\n`,
  };
}

export function startNtfyStandin(
  options: { topic?: string; token?: string } = {},
): Promise<Standin<NtfyRequest>> {
  const topic = options.topic ?? STANDIN_NTFY_TOPIC;
  return startHttpStandin<NtfyRequest>({
    errorAnswer: (status) => {
      const { body, headers } = ntfyError(status, ERRORS[status] ?? `error ${status}`);
      return { body, headers };
    },
    handle(req) {
      const match = /^\/([-_A-Za-z0-9]{1,64})$/.exec(req.path);
      if (!match || match[1] !== topic) return ntfyError(404, 'page not found', 40401);
      if (req.method !== 'POST' && req.method !== 'PUT') return ntfyError(404, 'page not found', 40401);

      const authorization = header(req.headers.authorization);
      if (
        options.token !== undefined
          ? authorization !== `Bearer ${options.token}`
          : authorization !== undefined
      ) {
        return ntfyError(401, 'unauthorized', 40101);
      }

      const problems = new Problems();
      const rawTitle = header(req.headers.title);
      let title: string | undefined;
      if (rawTitle !== undefined) {
        title = decodeTitle(rawTitle, problems);
        if (title === '') problems.add('Title is empty');
      }
      const rawPriority = header(req.headers.priority);
      let priority: number | undefined;
      if (rawPriority !== undefined) {
        priority = /^[1-5]$/.test(rawPriority)
          ? Number(rawPriority)
          : PRIORITY_NAMES[rawPriority.toLowerCase()];
        if (priority === undefined) return ntfyError(400, 'invalid request: priority invalid', 40007);
      }
      const rawTags = header(req.headers.tags);
      let tags: string[] | undefined;
      if (rawTags !== undefined) {
        tags = rawTags.split(',').map((tag) => tag.trim());
        if (tags.some((tag) => tag === '' || !/^[\x21-\x7e]+$/.test(tag)))
          problems.add(`Tags "${rawTags}" is not a comma list`);
      }
      for (const name of Object.keys(req.headers)) {
        if (name.startsWith('x-hbd-')) problems.add(`${name} is not an ntfy header`);
      }
      const bytes = Buffer.byteLength(req.raw, 'utf8');
      if (bytes === 0) problems.add('message is empty');
      if (bytes > 4096) problems.add(`message is ${bytes} bytes, over 4096 (it would become an attachment)`);
      if (!problems.ok) return ntfyError(400, `invalid request: ${problems.list.join('; ')}`, 40000);

      const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
      const time = Math.floor(Date.now() / 1000);
      const answer: Record<string, unknown> = {
        id,
        time,
        expires: time + 43_200,
        event: 'message',
        topic,
        message: req.raw,
      };
      if (title !== undefined) answer.title = title;
      if (priority !== undefined && priority !== 3) answer.priority = priority;
      if (tags !== undefined) answer.tags = tags;
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: `${JSON.stringify(answer)}\n`,
        record: {
          topic,
          title,
          rawTitle,
          priority,
          tags,
          authorization,
          contentType: header(req.headers['content-type']),
          message: req.raw,
          id,
        },
      };
    },
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The value as sent: printable ASCII, either plain or wholly RFC 2047 B-encoded UTF-8 words
 * (each ≤ 75 characters, each whole characters), separated by spaces.
 */
function decodeTitle(raw: string, problems: Problems): string {
  if (!/^[\x20-\x7e]*$/.test(raw)) {
    problems.add('Title is not printable ASCII');
    return raw;
  }
  if (!raw.includes('=?')) return raw;
  const words = raw.split(' ');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  for (const word of words) {
    const match = /^=\?UTF-8\?B\?([A-Za-z0-9+/]*={0,2})\?=$/i.exec(word);
    if (!match) {
      problems.add(`Title word "${word}" is not a B-encoded UTF-8 word`);
      return raw;
    }
    if (word.length > 75) problems.add(`Title word longer than 75 characters (${word.length})`);
    try {
      out += decoder.decode(Buffer.from(match[1]!, 'base64'));
    } catch {
      problems.add(`Title word "${word}" splits a character`);
      return raw;
    }
  }
  return out;
}
