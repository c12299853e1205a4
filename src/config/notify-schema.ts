import { z } from 'zod';
import { flag, intAtLeast, intRange, nonNegativeSeconds, positive } from '../lib/schema-leaves.js';
import { channelSections } from '../notify/channels/index.js';

/**
 * The `notify:` section (see docs/notify.md): how the notification engine groups, holds, retries
 * and paces messages, and one optional map per channel. Each channel's map is checked by the
 * schema in its own file (src/notify/channels/), the one authority for what a provider accepts.
 */

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
        // One optional section per channel, each defined in its channel's own file.
        ...channelSections(),
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
