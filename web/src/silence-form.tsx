import { useState } from 'preact/hooks';
import { ApiError, type SilenceJson, sendJson } from './api.js';
import { TextField, useSubmit } from './form.js';
import { dateTime } from './format.js';
import { useObservable } from './observable.js';
import { session, storedToken, storeToken, writeHeaders, writesNeedToken } from './session.js';
import { refreshSilences } from './silences.js';

const DURATIONS = ['30m', '1h', '2h', '4h', '8h', '1d', '1w'];

/**
 * Adds a silence. An admin's session authorises it (with its CSRF token); anyone else
 * gives hbd's API token, which stays in this tab's sessionStorage only.
 */
export function SilenceForm({ pattern: initialPattern, onDone }: { pattern: string; onDone?: () => void }) {
  useObservable(session);
  const [pattern, setPattern] = useState(initialPattern);
  const [duration, setDuration] = useState('1h');
  const [reason, setReason] = useState('');
  const [token, setToken] = useState(storedToken);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const needToken = writesNeedToken();

  const { busy, submit } = useSubmit(async () => {
    setMessage(null);
    try {
      const answer = await sendJson<{ silence: SilenceJson }>(
        'POST',
        '/api/silences',
        { pattern: pattern.trim(), duration: duration.trim(), reason: reason.trim() || null },
        writeHeaders(token.trim()),
      );
      if (needToken) storeToken(token.trim());
      setMessage({
        ok: true,
        text: `Silenced ${answer.silence.pattern} until ${dateTime(answer.silence.until)}.`,
      });
      await refreshSilences();
      onDone?.();
    } catch (error) {
      setMessage({ ok: false, text: explain(error, needToken) });
      if (error instanceof ApiError && error.status === 401 && needToken) storeToken(null);
    }
  });

  return (
    <form class="silence-form" onSubmit={submit}>
      <TextField
        label="Host or pattern"
        name="pattern"
        required
        value={pattern}
        placeholder="web1 or web*"
        onValue={setPattern}
      />
      <TextField
        label="For"
        name="duration"
        required
        list="silence-durations"
        value={duration}
        onValue={setDuration}
      >
        <datalist id="silence-durations">
          {DURATIONS.map((value) => (
            <option key={value} value={value} />
          ))}
        </datalist>
      </TextField>
      <TextField
        label="Reason"
        class="wide"
        name="reason"
        maxLength={500}
        value={reason}
        placeholder="kernel upgrade"
        onValue={setReason}
      />
      {needToken && (
        <TextField
          label="API token"
          class="wide"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          placeholder="api_token from hbd's config"
          onValue={setToken}
        />
      )}
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Silencing…' : 'Silence'}
        </button>
        {message && (
          <span class={message.ok ? 'ok-text' : 'error-text'} role="status">
            {message.text}
          </span>
        )}
      </div>
    </form>
  );
}

function explain(error: unknown, usedToken: boolean): string {
  if (!(error instanceof ApiError)) return `hbd cannot be reached: ${(error as Error).message}`;
  if (error.status === 401)
    return usedToken ? `The API token was refused (${error.message}).` : 'Log in again to do this.';
  if (error.status === 403) return `Refused: ${error.message}`;
  return error.message;
}
