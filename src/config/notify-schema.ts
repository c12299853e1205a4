import { z } from 'zod';
import {
  flag,
  intAtLeast,
  intRange,
  nonEmptyString,
  nonNegativeSeconds,
  oneOf,
  positive,
} from './schema-leaves.js';

/**
 * The `notify:` section (see docs/notify.md): how the notification engine groups, holds, retries
 * and paces messages, and one optional map per channel. Channel maps get shape checks only (types,
 * required keys, URL schemes); the channel factories check the rest when hbd or check-config
 * builds them, so there is one authority for what a provider accepts.
 */

/**
 * The channels the top-level `pushsrv` chooses among (it is one of them, `all` or `none`); the other
 * channels are used whenever they are configured.
 */
export const PUSH_SERVICE_NAMES = ['pushover', 'mattermost', 'signal'] as const;

function httpUrl(what: string) {
  return z.url({ protocol: /^https?$/, error: `expected ${what}` });
}

function optionalString(what: string) {
  return nonEmptyString(`null or ${what}`).nullable().default(null);
}

function timeout(seconds: number) {
  return positive('seconds').default(seconds);
}

/** Heartbeat fields are written lower-case (`role=web`), so only such names can match one. */
const FIELD_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const GROUP_BY = 'expected null or a host field name (a-z, 0-9 and _, up to 32 characters)';

/** `false` reads better than null for "off" in a file, so both turn a rule off. */
function switchable<T extends z.ZodType>(rule: T) {
  return z.preprocess((value) => (value === false ? null : value), rule.nullable()).prefault({});
}

const SHARE = 'expected a share greater than 0 and at most 1';

const isolation = switchable(
  z.object(
    {
      share: z.number(SHARE).gt(0, SHARE).max(1, SHARE).default(0.5),
      min_hosts: intAtLeast(1).default(10),
    },
    'expected false, null, or a map with share and min_hosts',
  ),
);

const flapping = switchable(
  z
    .object(
      {
        window: positive('seconds').default(600),
        threshold: intAtLeast(2).default(6),
        settle: intAtLeast(0).default(2),
      },
      'expected false, null, or a map with window, threshold and settle',
    )
    .superRefine(({ threshold, settle }, ctx) => {
      if (settle < threshold) return;
      ctx.addIssue({
        code: 'custom',
        path: ['settle'],
        message: `expected fewer changes than threshold (${threshold}), got ${settle}`,
      });
    }),
);

const email = z.object(
  {
    smtp: z.url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' }),
    from: nonEmptyString('the sender address'),
    to: z
      .array(nonEmptyString('an email address'), 'expected a list of email addresses')
      .min(1, 'expected a list of at least one email address'),
    tls_reject_unauthorized: flag.default(true),
    timeout: timeout(15),
  },
  'expected a map with smtp, from and to',
);

const PRIORITY = 'expected null or an integer from -2 to 2';

const pushover = z.object(
  {
    token: nonEmptyString('the application API token'),
    user: nonEmptyString('the user or group key'),
    priority: intRange(-2, 2).default(0),
    // null: the same as priority.
    down_priority: z.int(PRIORITY).min(-2, PRIORITY).max(2, PRIORITY).nullable().default(null),
    sound: optionalString('a sound name'),
    device: optionalString('device names, separated by commas'),
    retry: intAtLeast(30).default(60),
    expire: intRange(1, 10_800).default(3600),
    api_url: httpUrl('an http(s) URL').default('https://api.pushover.net'),
    timeout: timeout(10),
  },
  'expected a map with token and user',
);

const mattermost = z
  .object(
    {
      webhook: httpUrl('the incoming webhook URL').optional(),
      // Other tools call the same setting url.
      url: httpUrl('the incoming webhook URL').optional(),
      channel: optionalString('a channel name or @user'),
      username: optionalString('a user name to post as'),
      icon_url: httpUrl('null or an http(s) URL').nullable().default(null),
      timeout: timeout(10),
    },
    'expected a map with webhook',
  )
  .superRefine(({ webhook, url }, ctx) => {
    if (webhook === undefined && url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'expected the incoming webhook URL' });
    } else if (webhook !== undefined && url !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'url is the same setting as webhook; set one' });
    }
  })
  .transform(({ webhook, url, ...rest }) => ({ webhook: (webhook ?? url)!, ...rest }));

const signal = z
  .object(
    {
      url: httpUrl('the http(s) URL of signal-cli'),
      account: nonEmptyString('the sending account, +<country code><number>'),
      recipients: z
        .array(nonEmptyString('a phone number'), 'expected null or a list of phone numbers')
        .min(1, 'expected null or a list of at least one phone number')
        .nullable()
        .default(null),
      group: optionalString('a base64 group id'),
      api: oneOf(['jsonrpc', 'rest']).default('jsonrpc'),
      timeout: timeout(10),
    },
    'expected a map with url, account, and recipients or group',
  )
  .superRefine(({ recipients, group }, ctx) => {
    if ((recipients === null) !== (group === null)) return;
    ctx.addIssue({
      code: 'custom',
      path: [recipients === null ? 'recipients' : 'group'],
      message: 'set either recipients or group, not both and not neither',
    });
  });

const HEADERS = 'expected a map of header name to value';

const webhook = z.object(
  {
    url: httpUrl('an http(s) URL'),
    secret: optionalString('a secret'),
    headers: z.record(z.string(), z.string('expected a header value'), HEADERS).default({}),
    timeout: timeout(10),
  },
  'expected a map with url',
);

const NTFY_URL = 'expected the http(s) URL of the topic, such as https://ntfy.sh/mytopic';

const ntfy = z.object(
  {
    // The topic is the last path segment; anything before it is the server (which may sit under a path).
    url: z.url({ protocol: /^https?$/, error: NTFY_URL }).regex(/^[^?#]*\/[-_A-Za-z0-9]{1,64}\/?$/, NTFY_URL),
    token: optionalString('an access token'),
    timeout: timeout(10),
  },
  'expected a map with url',
);

function channel<T extends z.ZodType>(schema: T) {
  return schema.nullable().default(null);
}

export function notifySection() {
  return z
    .object(
      {
        group_wait: nonNegativeSeconds().default(10),
        group_by: z.string(GROUP_BY).regex(FIELD_NAME, GROUP_BY).nullable().default(null),
        repeat: nonNegativeSeconds().default(0),
        restart_grace: nonNegativeSeconds().default(60),
        // A host whose first heartbeat already reports warn or fail is a problem like any other.
        announce_new_problems: flag.default(true),
        deadline: positive('seconds').default(86_400),
        retry_min: positive('seconds').default(5),
        retry_max: positive('seconds').default(300),
        rate_limit: intAtLeast(0).default(20),
        concurrency: intRange(1, 32).default(2),
        isolation,
        flapping,
        channel_alert_after: positive('seconds').default(300),
        email: channel(email),
        pushover: channel(pushover),
        mattermost: channel(mattermost),
        signal: channel(signal),
        webhook: channel(webhook),
        ntfy: channel(ntfy),
      },
      'expected a map of notification settings',
    )
    .superRefine(
      (notify, ctx) => {
        // With `when` below, invalid values get here too; those already have their own problem.
        const { retry_min: min, retry_max: max } = notify as { retry_min: unknown; retry_max: unknown };
        if (typeof min !== 'number' || typeof max !== 'number' || !(min > 0) || max >= min) return;
        ctx.addIssue({
          code: 'custom',
          path: ['retry_max'],
          message: `expected at least retry_min (${min} s), got ${max}`,
        });
      },
      // Run even when other keys are invalid, so this problem is reported with the rest.
      { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
    )
    .prefault({});
}

export type NotifyConfig = z.output<ReturnType<typeof notifySection>>;
export type IsolationConfig = NonNullable<NotifyConfig['isolation']>;
export type FlappingConfig = NonNullable<NotifyConfig['flapping']>;
export type EmailChannelConfig = NonNullable<NotifyConfig['email']>;
export type PushoverChannelConfig = NonNullable<NotifyConfig['pushover']>;
export type MattermostChannelConfig = NonNullable<NotifyConfig['mattermost']>;
export type SignalChannelConfig = NonNullable<NotifyConfig['signal']>;
export type WebhookChannelConfig = NonNullable<NotifyConfig['webhook']>;
export type NtfyChannelConfig = NonNullable<NotifyConfig['ntfy']>;
