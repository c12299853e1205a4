import type { PingJson } from './api.js';
import { dateTime } from './format.js';

/** The words a ping's kind is shown with: what the job said. */
const KIND_LABELS: Record<PingJson['kind'], string> = {
  success: 'success',
  warn: 'warning',
  fail: 'failure',
  start: 'started',
  log: 'log',
};

/** The badge colour of each kind, as the status it reports is coloured. */
const KIND_TONES: Record<PingJson['kind'], string> = {
  success: 'up',
  warn: 'warn',
  fail: 'fail',
  start: 'start',
  log: 'log',
};

const PROTOCOL_LABELS: Record<string, string> = {
  healthchecks: 'Healthchecks.io',
  'uptime-kuma': 'Uptime Kuma',
  consul: 'Consul',
};

/** A host's last HTTP pings, newest first: when, what each said, its body, from where and how. */
export function PingList({ pings }: { pings: PingJson[] }) {
  return (
    <ol class="pings">
      {pings.map((ping, index) => (
        <li class="ping" data-kind={ping.kind} key={`${ping.at}-${index}`}>
          <time dateTime={ping.at}>{dateTime(ping.at)}</time>
          <span class={`badge b-${KIND_TONES[ping.kind]}`}>
            {KIND_LABELS[ping.kind]}
            {ping.exit_code !== null ? `, exit code ${ping.exit_code}` : ''}
          </span>
          <span class="reason">
            from {ping.addr || 'an unknown address'} ({PROTOCOL_LABELS[ping.protocol] ?? ping.protocol}
            {ping.rid ? `, run ${ping.rid}` : ''})
          </span>
          {ping.body !== null && <pre class="ping-body">{ping.body}</pre>}
        </li>
      ))}
    </ol>
  );
}
