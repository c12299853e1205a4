/**
 * A local Pushover (https://pushover.net/api): /1/messages.json and /1/receipts/cancel_by_tag/{tag}.json,
 * form-encoded or JSON, every parameter checked against the documented limits, answered as the
 * real API answers (status 1 + request id, receipt for emergencies; status 0 + errors[] with a 4xx).
 */

import { randomBytes, randomUUID } from 'node:crypto';
import {
  type IncomingRequest,
  isRecord,
  mediaType,
  Problems,
  type Standin,
  startHttpStandin,
} from './webhook.js';

export const STANDIN_PUSHOVER_TOKEN = 'azGDORePK8gMaC0QOYAMyEEuzJnyUi';
export const STANDIN_PUSHOVER_USER = 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG';

const SOUNDS = new Set([
  'pushover',
  'bike',
  'bugle',
  'cashregister',
  'classical',
  'cosmic',
  'falling',
  'gamelan',
  'incoming',
  'intermission',
  'magic',
  'mechanical',
  'pianobar',
  'siren',
  'spacealarm',
  'tugboat',
  'alien',
  'climb',
  'persistent',
  'echo',
  'updown',
  'vibrate',
  'none',
]);

const MESSAGE_FIELDS = new Set([
  'token',
  'user',
  'message',
  'attachment_base64',
  'attachment_type',
  'device',
  'html',
  'monospace',
  'priority',
  'sound',
  'timestamp',
  'title',
  'ttl',
  'url',
  'url_title',
  'retry',
  'expire',
  'callback',
  'tags',
]);

export interface PushoverRequest {
  endpoint: 'messages' | 'cancel_by_tag';
  contentType: string;
  /** Every parameter as a string, as the form carries it. */
  fields: Record<string, string>;
  /** For cancel_by_tag. */
  tag?: string;
  /** For an emergency message. */
  receipt?: string;
  /** For cancel_by_tag: how many emergencies it stopped. */
  canceled?: number;
}

export interface PushoverStandin extends Standin<PushoverRequest> {
  /** Emergency receipts still retrying (neither cancelled nor expired), with their tags. */
  activeEmergencies: Map<string, string[]>;
}

export interface PushoverStandinOptions {
  token?: string;
  user?: string;
  /** Messages left this month, for the X-Limit-App-* headers; at 0 the stand-in answers 429. */
  remaining?: number;
}

export async function startPushoverStandin(options: PushoverStandinOptions = {}): Promise<PushoverStandin> {
  const token = options.token ?? STANDIN_PUSHOVER_TOKEN;
  const user = options.user ?? STANDIN_PUSHOVER_USER;
  let remaining = options.remaining ?? 9_999;
  const activeEmergencies = new Map<string, string[]>();
  const reset = String(Math.floor(Date.UTC(2100, 0, 1) / 1000));

  const limitHeaders = () => ({
    'x-limit-app-limit': '10000',
    'x-limit-app-remaining': String(remaining),
    'x-limit-app-reset': reset,
  });
  const answer = (status: number, body: Record<string, unknown>) => ({
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...limitHeaders() },
    body: JSON.stringify({ ...body, request: randomUUID() }),
  });
  const refuse = (status: number, problems: string[], extra: Record<string, unknown> = {}) =>
    answer(status, { ...extra, errors: problems, status: 0 });

  const standin = await startHttpStandin<PushoverRequest>({
    errorAnswer: (status) => ({
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({
        status: 0,
        errors: [status === 429 ? 'application over quota' : `forced error ${status}`],
        request: randomUUID(),
      }),
    }),
    handle(req) {
      if (req.method !== 'POST') return refuse(405, [`method ${req.method} not allowed`]);
      const parsed = parseParameters(req);
      if ('error' in parsed) return refuse(400, [parsed.error]);
      const fields = parsed.fields;
      const contentType = mediaType(req.headers);

      if (fields.token !== token) return refuse(400, ['application token is invalid'], { token: 'invalid' });

      const cancel = /^\/1\/receipts\/cancel_by_tag\/([^/]+)\.json$/.exec(req.path);
      if (cancel) {
        const unknown = Object.keys(fields).filter((key) => key !== 'token');
        if (unknown.length > 0)
          return refuse(
            400,
            unknown.map((key) => `${key} is not a parameter here`),
          );
        const tag = decodeURIComponent(cancel[1]!);
        let canceled = 0;
        for (const [receipt, tags] of activeEmergencies) {
          if (tags.includes(tag)) {
            activeEmergencies.delete(receipt);
            canceled++;
          }
        }
        return {
          ...answer(200, { status: 1, canceled }),
          record: { endpoint: 'cancel_by_tag', contentType, fields, tag, canceled },
        };
      }
      if (req.path !== '/1/messages.json') return refuse(404, [`no such endpoint ${req.path}`]);

      const problems = checkMessage(fields, user);
      if (!problems.ok) {
        const extra = problems.list.some((p) => p.startsWith('user identifier')) ? { user: 'invalid' } : {};
        return refuse(400, problems.list, extra);
      }
      if (remaining <= 0) return refuse(429, ['application over quota']);
      remaining--;
      const record: PushoverRequest = { endpoint: 'messages', contentType, fields };
      if (fields.priority === '2') {
        const receipt = randomBytes(30)
          .toString('base64')
          .replace(/[^A-Za-z0-9]/g, '')
          .slice(0, 30)
          .padEnd(30, 'x');
        activeEmergencies.set(receipt, fields.tags ? fields.tags.split(',') : []);
        record.receipt = receipt;
        return { ...answer(200, { status: 1, receipt }), record };
      }
      return { ...answer(200, { status: 1 }), record };
    },
  });
  return Object.assign(standin, { activeEmergencies });
}

function parseParameters(req: IncomingRequest): { fields: Record<string, string> } | { error: string } {
  const type = mediaType(req.headers);
  if (type === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string> = {};
    for (const [key, value] of new URLSearchParams(req.raw)) {
      if (key in fields) return { error: `${key} given twice` };
      fields[key] = value;
    }
    return { fields };
  }
  if (type === 'application/json') {
    let json: unknown;
    try {
      json = JSON.parse(req.raw);
    } catch {
      return { error: 'body is not valid JSON' };
    }
    if (!isRecord(json)) return { error: 'JSON body must be an object' };
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(json)) {
      if (typeof value === 'string') fields[key] = value;
      else if (typeof value === 'number' && Number.isFinite(value)) fields[key] = String(value);
      else return { error: `${key} must be a string or a number` };
    }
    return { fields };
  }
  return { error: `unsupported content type ${req.headers['content-type'] ?? '(none)'}` };
}

function checkMessage(fields: Record<string, string>, user: string): Problems {
  const problems = new Problems();
  const chars = (value: string) => Array.from(value).length;
  const integer = (key: string, min: number, max: number) => {
    const value = fields[key];
    if (value === undefined) return;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      problems.add(`${key} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
    }
  };

  for (const key of Object.keys(fields))
    if (!MESSAGE_FIELDS.has(key)) problems.add(`${key} is not a parameter`);
  if (fields.user !== user)
    problems.add('user identifier is not a valid user, group, or subscribed user key');
  const message = fields.message;
  if (message === undefined || message.trim() === '') problems.add('message cannot be blank');
  else if (chars(message) > 1024) problems.add(`message is too long (${chars(message)} > 1024 characters)`);
  if (fields.title !== undefined && chars(fields.title) > 250) {
    problems.add(`title is too long (${chars(fields.title)} > 250 characters)`);
  }
  if (fields.url !== undefined && chars(fields.url) > 512) problems.add('url is too long');
  if (fields.url_title !== undefined && chars(fields.url_title) > 100) problems.add('url_title is too long');
  if (fields.device !== undefined && !/^[A-Za-z0-9_-]{1,25}(,[A-Za-z0-9_-]{1,25})*$/.test(fields.device)) {
    problems.add('device name is not valid');
  }
  if (fields.sound !== undefined && !SOUNDS.has(fields.sound)) problems.add('sound is invalid');
  integer('priority', -2, 2);
  integer('timestamp', 0, 2 ** 32);
  integer('ttl', 1, 2 ** 31);
  integer('html', 0, 1);
  integer('monospace', 0, 1);
  if (fields.html === '1' && fields.monospace === '1')
    problems.add('html and monospace are mutually exclusive');

  if (fields.priority === '2') {
    if (fields.retry === undefined) problems.add('retry is required for emergency-priority messages');
    if (fields.expire === undefined) problems.add('expire is required for emergency-priority messages');
    integer('retry', 30, 10_800);
    integer('expire', 1, 10_800);
    if (fields.tags !== undefined && !/^[^,\s]+(,[^,\s]+)*$/.test(fields.tags)) {
      problems.add('tags must be a comma-separated list');
    }
  } else {
    // The real API ignores these below emergency priority; a sender setting them has its logic wrong.
    for (const key of ['retry', 'expire', 'tags', 'callback']) {
      if (fields[key] !== undefined) problems.add(`${key} only applies to emergency priority`);
    }
  }
  return problems;
}
