/** `hbd events`: the event log of a running hbd, oldest first, and with --follow as it happens. */
import { Command, InvalidArgumentError } from 'commander';
import { type ApiOptions, connectApi, reportApiFailure, withApiOptions } from './api-client.js';
import { followEvents } from './event-follow.js';
import { type EventJson, formatEvent, MAX_EVENTS, readLatest } from './event-log.js';

const DEFAULT_EVENTS = 20;

interface EventsOptions extends ApiOptions {
  host?: string;
  limit: number;
  follow?: boolean;
  json?: boolean;
}

export function eventsCommand(): Command {
  return withApiOptions(
    new Command('events')
      .description('print the event log of a running hbd (with --follow, live as it happens)')
      .option('--host <name>', 'only the events of this host')
      .option(
        '--limit <n>',
        `how many of the latest events to print first (1 to ${MAX_EVENTS})`,
        parseLimit,
        DEFAULT_EVENTS,
      )
      .option('-f, --follow', 'then keep printing new events as they happen, until stopped (Ctrl-C)')
      .option('--json', 'print each event as one line of JSON, as the API has it')
      .addHelpText(
        'after',
        `
With --follow, hbd's live feed (/ws) brings each event as it is stored. When hbd goes away
(a restart, say), hbd events says so on stderr, reconnects, and prints what it missed.

Examples:
  $ hbd events --host web1 --limit 50
  $ hbd events --follow | grep -w down`,
      ),
  ).action((options: EventsOptions) => events(options));
}

async function events(options: EventsOptions): Promise<void> {
  const api = connectApi(options);
  if (!api) return;
  const print = (event: EventJson) =>
    process.stdout.write(`${options.json ? JSON.stringify(event) : formatEvent(event)}\n`);
  // `hbd events | head` closes the pipe early: that ends the command, it is not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  if (options.follow) {
    try {
      await followEvents({ ...api, host: options.host, limit: options.limit, print });
    } catch (error) {
      reportApiFailure('events', error);
    }
    return;
  }
  try {
    for (const event of await readLatest(api, options.host, options.limit)) print(event);
  } catch (error) {
    reportApiFailure('events: cannot read the events', error);
  }
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_EVENTS) {
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_EVENTS}`);
  }
  return n;
}
