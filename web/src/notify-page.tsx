import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, type OutboxMessageJson, sendJson } from './api.js';
import { useNow } from './clock.js';
import { dateTime, duration } from './format.js';
import { useObservable } from './observable.js';
import { storedToken, writeHeaders } from './session.js';
import { SilenceForm } from './silence-form.js';
import { refreshSilences, silences } from './silences.js';

const OUTBOX_REFRESH_MS = 10_000;

/** What waits or failed in the notification outbox, and the silences in force. */
export function NotifyPage() {
  const list = useObservable(silences);
  const now = useNow();
  const [outbox, setOutbox] = useState<
    { pending: OutboxMessageJson[]; failed: OutboxMessageJson[] } | string
  >('Loading…');
  const [removeError, setRemoveError] = useState<string | null>(null);

  useEffect(() => {
    const load = async () => {
      try {
        const [pending, failed] = await Promise.all(
          ['pending', 'failed'].map((state) =>
            getJson<{ messages: OutboxMessageJson[] }>(`/api/outbox?state=${state}&limit=100`),
          ),
        );
        setOutbox({ pending: pending!.messages, failed: failed!.messages });
      } catch (error) {
        setOutbox(
          error instanceof ApiError && error.status === 404
            ? 'Notifications are not configured on this hbd.'
            : `Cannot load the outbox: ${(error as Error).message}`,
        );
      }
    };
    void load();
    void refreshSilences();
    const timer = setInterval(() => {
      void load();
      void refreshSilences();
    }, OUTBOX_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const remove = async (id: number) => {
    setRemoveError(null);
    try {
      await sendJson('DELETE', `/api/silences/${id}`, undefined, writeHeaders(storedToken()));
      await refreshSilences();
    } catch (error) {
      setRemoveError(
        error instanceof ApiError && error.status === 401
          ? 'Removing a silence needs an admin login or the API token (enter it when adding a silence).'
          : (error as Error).message,
      );
    }
  };

  return (
    <section class="notify-page" aria-label="Notifications">
      <h1>Silences</h1>
      {list.problem && <p class="error-text">{list.problem}</p>}
      {list.silences && list.silences.length === 0 && <p class="empty">No silence in force.</p>}
      {list.silences && list.silences.length > 0 && (
        <ul class="silences">
          {list.silences.map((silence) => (
            <li key={silence.id} class="silence" data-pattern={silence.pattern}>
              <strong>{silence.pattern}</strong>
              <span>
                until {dateTime(silence.until)} ({duration(silence.until_ms - now)} left)
              </span>
              {silence.reason && <span class="reason">{silence.reason}</span>}
              <button type="button" onClick={() => remove(silence.id)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {removeError && <p class="error-text">{removeError}</p>}
      <details class="add-silence">
        <summary>Add a silence</summary>
        <SilenceForm pattern="" />
      </details>

      <h1>Outbox</h1>
      {typeof outbox === 'string' ? (
        <p class="empty">{outbox}</p>
      ) : (
        <>
          <OutboxList title="Waiting to be sent" messages={outbox.pending} now={now} />
          <OutboxList title="Failed" messages={outbox.failed} now={now} />
        </>
      )}
    </section>
  );
}

function OutboxList({ title, messages, now }: { title: string; messages: OutboxMessageJson[]; now: number }) {
  return (
    <>
      <h2>
        {title} ({messages.length})
      </h2>
      {messages.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <ul class="outbox">
          {messages.map((message) => (
            <li key={message.id} class={`message n-${message.state}`}>
              <span class={`badge n-${message.state}`}>{message.channel}</span>
              <strong>{message.title}</strong>
              <span>
                {message.attempts} attempt{message.attempts === 1 ? '' : 's'}
                {message.next_attempt ? `; next in ${duration(Date.parse(message.next_attempt) - now)}` : ''}
                {message.last_error ? `; ${message.last_error}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
