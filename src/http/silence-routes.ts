import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { parseDuration } from '../lib/duration.js';
import type { Silence } from '../model/silence.js';
import type { Silences } from '../notify/silences.js';
import type { Access } from './access.js';
import { HttpError } from './errors.js';
import type { SilenceJson } from './silence-json.js';

export interface SilenceRoutesDeps {
  silences: Silences;
  /** Decides who may add and remove silences. */
  access: Pick<Access, 'authorizeWrite'>;
}

export type { SilenceJson };

const POST_FIELDS = ['pattern', 'duration', 'reason'];
/** A pattern, a duration and a reason of at most 500 characters fit with room to spare. */
const MAX_SILENCE_BYTES = 8 * 1024;

export function silenceJson(silence: Silence): SilenceJson {
  return {
    id: silence.id,
    pattern: silence.pattern,
    until: new Date(silence.until).toISOString(),
    until_ms: silence.until,
    reason: silence.reason,
    created: new Date(silence.createdAt).toISOString(),
  };
}

/** `/api/silences`: reading is like every read; adding and removing need a writer (see `Access`). */
export function silenceRoutes(deps: SilenceRoutesDeps): Hono {
  const { silences } = deps;
  const app = new Hono();

  app.get('/api/silences', (c) => c.json({ silences: silences.list().map(silenceJson) }));

  app.post(
    '/api/silences',
    async (c, next) => {
      // Before the body is read, so that without the right to write nothing of it is looked at.
      await deps.access.authorizeWrite(c);
      await next();
    },
    bodyLimit({
      maxSize: MAX_SILENCE_BYTES,
      onError: (c) => c.json({ error: `a silence body is at most ${MAX_SILENCE_BYTES} bytes` }, 413),
    }),
    async (c) => {
      const body = await jsonObject(c.req.text());
      const unknown = Object.keys(body).filter((key) => !POST_FIELDS.includes(key));
      if (unknown.length > 0) {
        throw new HttpError(400, `unknown field "${unknown[0]}": expected ${POST_FIELDS.join(', ')}`);
      }
      if (typeof body.pattern !== 'string') {
        throw new HttpError(400, 'pattern: expected a host name or a glob such as "web*"');
      }
      if (body.reason !== undefined && body.reason !== null && typeof body.reason !== 'string') {
        throw new HttpError(400, 'reason: expected a string or null');
      }
      const durationMs = durationOf(body.duration);
      try {
        const silence = await silences.add({ pattern: body.pattern, durationMs, reason: body.reason });
        return c.json({ silence: silenceJson(silence) }, 201);
      } catch (error) {
        if (error instanceof RangeError) throw new HttpError(400, error.message);
        throw error;
      }
    },
  );

  app.delete('/api/silences/:id', async (c) => {
    await deps.access.authorizeWrite(c);
    const text = c.req.param('id');
    const id = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(id)) {
      throw new HttpError(400, `id: expected the number of a silence, got "${text}"`);
    }
    if (!(await silences.remove(id))) throw new HttpError(404, `no silence with id ${id}`);
    return c.json({ ok: true, removed: id });
  });

  return app;
}

async function jsonObject(text: Promise<string>): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await text);
  } catch (error) {
    throw new HttpError(400, `expected a JSON body: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'expected a JSON object such as {"pattern": "web*", "duration": "2h"}');
  }
  return value as Record<string, unknown>;
}

/** "2h", "1h30m", or a number of seconds. */
function durationOf(value: unknown): number {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new HttpError(400, 'duration: expected text such as "2h" or a number of seconds');
  }
  try {
    return parseDuration(String(value));
  } catch (error) {
    throw new HttpError(400, `duration: ${(error as Error).message}`);
  }
}
