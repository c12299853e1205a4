/**
 * A local Mattermost incoming webhook: POST /hooks/{id} with a JSON body, checked against the
 * documented fields, answered 200 "ok" as text/plain, or with Mattermost's JSON AppError.
 */

import { randomBytes } from 'node:crypto';
import { isRecord, mediaType, Problems, type Standin, startHttpStandin } from './webhook.js';

export const STANDIN_MATTERMOST_HOOK = 'xe3nq6bzy3gqbqrdsjbm9s1pxw';

export interface MattermostRequest {
  hook: string;
  contentType: string;
  body: Record<string, unknown>;
}

const FIELDS = new Set([
  'text',
  'channel',
  'username',
  'icon_url',
  'icon_emoji',
  'attachments',
  'type',
  'props',
  'priority',
]);

function appError(status: number, id: string, message: string) {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      id,
      message,
      detailed_error: '',
      request_id: randomBytes(13).toString('hex'),
      status_code: status,
    }),
  };
}

export function startMattermostStandin(
  options: { hook?: string; channels?: string[] } = {},
): Promise<Standin<MattermostRequest>> {
  const hook = options.hook ?? STANDIN_MATTERMOST_HOOK;
  const channels = new Set(options.channels ?? ['town-square', 'ops']);
  return startHttpStandin<MattermostRequest>({
    errorAnswer: (status) =>
      status === 429
        ? { body: 'Too Many Requests\n', headers: { 'content-type': 'text/plain' } }
        : appError(status, 'standin.forced.app_error', `Forced error ${status}.`),
    handle(req) {
      const match = /^\/hooks\/([^/]+)$/.exec(req.path);
      if (req.method !== 'POST' || !match)
        return appError(404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
      if (match[1] !== hook)
        return appError(400, 'web.incoming_webhook.invalid.app_error', 'Invalid webhook.');
      if (mediaType(req.headers) !== 'application/json') {
        return appError(400, 'web.incoming_webhook.parse.app_error', 'Unable to parse incoming data.');
      }
      let body: unknown;
      try {
        body = JSON.parse(req.raw);
      } catch {
        return appError(400, 'web.incoming_webhook.parse.app_error', 'Unable to parse incoming data.');
      }
      if (!isRecord(body))
        return appError(400, 'web.incoming_webhook.parse.app_error', 'Unable to parse incoming data.');

      const problems = new Problems();
      for (const key of Object.keys(body)) if (!FIELDS.has(key)) problems.add(`unknown field ${key}`);
      for (const key of ['text', 'channel', 'username', 'icon_url', 'icon_emoji']) {
        if (body[key] !== undefined && typeof body[key] !== 'string') problems.add(`${key} must be a string`);
      }
      if (typeof body.text !== 'string' || body.text.trim() === '') {
        return appError(400, 'web.incoming_webhook.text.app_error', 'No text specified.');
      }
      if (Array.from(body.text).length > 16_383) problems.add('text longer than 16383 characters');
      if (typeof body.channel === 'string' && !body.channel.startsWith('@') && !channels.has(body.channel)) {
        return appError(403, 'web.incoming_webhook.channel.app_error', "Couldn't find the channel.");
      }
      if (typeof body.icon_url === 'string' && !/^https?:\/\//.test(body.icon_url))
        problems.add('icon_url is not a URL');
      if (!problems.ok) {
        return appError(
          400,
          'web.incoming_webhook.parse.app_error',
          `Unable to parse incoming data: ${problems.list.join('; ')}`,
        );
      }
      return {
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: 'ok',
        record: { hook: match[1]!, contentType: mediaType(req.headers), body },
      };
    },
  });
}
