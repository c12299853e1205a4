import { useState } from 'preact/hooks';
import { ApiError, type SilenceJson, sendJson } from './api.js';
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
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const needToken = writesNeedToken();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
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
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="silence-form" onSubmit={submit}>
      <label>
        Host or pattern
        <input
          name="pattern"
          required
          value={pattern}
          placeholder="web1 or web*"
          onInput={(event) => setPattern(event.currentTarget.value)}
        />
      </label>
      <label>
        For
        <input
          name="duration"
          required
          list="silence-durations"
          value={duration}
          onInput={(event) => setDuration(event.currentTarget.value)}
        />
        <datalist id="silence-durations">
          {DURATIONS.map((value) => (
            <option key={value} value={value} />
          ))}
        </datalist>
      </label>
      <label class="wide">
        Reason
        <input
          name="reason"
          maxLength={500}
          value={reason}
          placeholder="kernel upgrade"
          onInput={(event) => setReason(event.currentTarget.value)}
        />
      </label>
      {needToken && (
        <label class="wide">
          API token
          <input
            name="token"
            type="password"
            autocomplete="off"
            required
            value={token}
            placeholder="api_token from hbd's config"
            onInput={(event) => setToken(event.currentTarget.value)}
          />
        </label>
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
