/**
 * The shape of a notification channel: everything hbd needs to know about one lives in one file
 * that calls `defineChannel`, and the list in ./index.ts is the only place it is registered. The
 * config schema of `notify:`, the redaction of secrets in config messages, the channel names, the
 * `pushsrv` choices and the example config are all derived from that list.
 */

import { z } from 'zod';
import { positive } from '../../lib/schema-leaves.js';
import type { Notifier } from '../types.js';

/** What a channel gets from the daemon besides its own config section. */
export interface ChannelContext {
  /** Wall-clock ms: where a provider's "retry after this date" falls. */
  now: () => number;
}

/** A key of the channel's config section, as the user writes it. */
export type SectionKey<Schema extends z.ZodType> = Extract<keyof z.input<Schema>, string>;

export interface ChannelDefinition<
  Name extends string = string,
  Schema extends z.ZodType = z.ZodType,
  Push extends boolean = boolean,
> {
  /** The key under `notify:`, and `Notifier.channel`. */
  readonly name: Name;
  /**
   * The section under `notify.<name>`: the one and only check of the channel's options, with the
   * defaults. Its messages follow the config's "expected …" style; the loader names file, line and
   * key path (`hb.yaml:7: notify.pushover.token: …`).
   */
  readonly schema: Schema;
  /** Keys whose values are credentials: config messages describe them but never echo them. */
  readonly secretKeys: readonly SectionKey<Schema>[];
  /** True for the channels the top-level `pushsrv` chooses among; the others are used whenever configured. */
  readonly pushService: Push;
  /** A one-line flow map for the example config: `{url: "…", token: <access token>}`. */
  readonly example: string;
  /** The notifier for a section the schema accepted. It does not check again: the schema did. */
  create(options: z.output<Schema>, context: ChannelContext): Notifier;
}

export function defineChannel<
  const Name extends string,
  Schema extends z.ZodType,
  const Push extends boolean = false,
>(
  definition: Omit<ChannelDefinition<Name, Schema, Push>, 'pushService'> & { pushService?: Push },
): ChannelDefinition<Name, Schema, Push> {
  return { ...definition, pushService: (definition.pushService ?? false) as Push };
}

/** Config timeouts are seconds; the drivers want whole ms, and a very short timeout still means "very short". */
export function timeoutMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

// Leaves that several channels' sections share. A value gets one message, not one per rule it
// breaks: a string that is empty or not a URL is not also checked against its pattern.

/** `timeout`, the seconds one delivery may take: every channel has it. */
export function timeout(seconds: number) {
  return positive('seconds').default(seconds);
}

/** A non-empty string; with `pattern`, one that matches it, described by `rule` (default: `what`). */
export function text(what: string, pattern?: RegExp, rule = what) {
  const error = `expected ${what}`;
  const string = z.string(error).min(1, { error, abort: true });
  return pattern ? string.regex(pattern, `expected ${rule}`) : string;
}

/** Like `text`, but it may be left out: null is "not set". */
export function optionalText(what: string, pattern?: RegExp, rule = what) {
  return text(`null or ${what}`, pattern, `null or ${rule}`).nullable().default(null);
}

export function httpUrl(what: string) {
  return z.url({ protocol: /^https?$/, error: `expected ${what}`, abort: true });
}
