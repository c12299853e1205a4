import { hostname } from 'node:os';
import { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { errorMessage } from '../lib/error-message.js';
import type { Notification } from '../model/notification.js';
import { CHANNEL_NAMES, type ChannelName, createChannels, pushsrvAllows } from '../notify/channels/index.js';
import { type Notifier, NotifyError } from '../notify/types.js';
import { loadConfigOrExit } from './config-loading.js';

export function notifyCommand(): Command {
  const notify = new Command('notify').description('notification channels');
  notify
    .command('test')
    .description('send a test message through every configured channel, or through one')
    .argument('[channel]', `one channel (${CHANNEL_NAMES.join(', ')}); default: every configured one`)
    .option('-c, --config <file>', 'config file (else $HBD_CONFIG, else ~/.hb.yaml)')
    .action((channel: string | undefined, options: { config?: string }) => sendTest(channel, options));
  return notify;
}

export function testNotification(at: number, host = hostname()): Notification {
  return {
    dedupKey: `test-${at}`,
    kind: 'test',
    title: 'hbd test message',
    body: `A test message from hbd on ${host}, sent by "hbd notify test". Nothing is wrong.`,
    hosts: [],
    at,
    resolves: false,
  };
}

async function sendTest(name: string | undefined, options: { config?: string }): Promise<void> {
  const { config, warnings } = loadConfigOrExit(options.config);
  // A misspelt channel key is the likeliest reason for a channel to be missing.
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  // The config was checked when it was loaded, channel sections included: building cannot fail on them.
  const channels = createChannels(config, { now: Date.now });
  try {
    if (channels.length === 0) {
      process.stderr.write(
        'hbd: no notification channel is configured; configure one under notify: (see docs/notify.md)\n',
      );
      process.exitCode = 2;
      return;
    }
    const chosen = name === undefined ? channels : channels.filter((c) => c.channel === name);
    if (chosen.length === 0) {
      process.stderr.write(`hbd: ${whyNotConfigured(name!, config)}; configured: ${listOf(channels)}\n`);
      process.exitCode = 2;
      return;
    }
    const notification = testNotification(Date.now());
    const lines = await Promise.all(chosen.map((channel) => attempt(channel, notification)));
    for (const { line } of lines) process.stdout.write(`${line}\n`);
    if (lines.some(({ ok }) => !ok)) process.exitCode = 1;
  } finally {
    await Promise.all(channels.map((channel) => channel.close?.()));
  }
}

async function attempt(
  channel: Notifier,
  notification: Notification,
): Promise<{ ok: boolean; line: string }> {
  try {
    const receipt = await channel.send(notification);
    return { ok: true, line: `${channel.channel}: ok (${receipt.detail})` };
  } catch (error) {
    const message = errorMessage(error);
    // NotifyError names its channel already, and the line starts with it.
    const reason =
      error instanceof NotifyError && message.startsWith(`${channel.channel}: `)
        ? message.slice(channel.channel.length + 2)
        : message;
    return { ok: false, line: `${channel.channel}: FAILED: ${reason}` };
  }
}

function whyNotConfigured(name: string, config: Pick<Config, 'notify' | 'pushsrv'>): string {
  if (!(CHANNEL_NAMES as readonly string[]).includes(name)) {
    return `"${name}" is not a channel (channels: ${CHANNEL_NAMES.join(', ')})`;
  }
  const channel = name as ChannelName;
  if (config.notify[channel] !== null && !pushsrvAllows(config.pushsrv, channel)) {
    return `${channel} is configured but not used: pushsrv is ${config.pushsrv}`;
  }
  return `${channel} is not configured (no notify.${channel} section)`;
}

function listOf(channels: readonly Notifier[]): string {
  return channels.map((channel) => channel.channel).join(', ');
}
