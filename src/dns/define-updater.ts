/**
 * The shape of a DNS updater: how hbd sends an RFC 2136 update to the primary server. Each lives
 * in one file under ./updaters/ that calls `defineDnsUpdater`, and the list in ./updaters/index.ts
 * is the only place it is registered: the choices of `dns.method`, the keys of the `dns:` section
 * beside the publisher's own, and which of them are secrets all derive from it.
 */

import type { z } from 'zod';
import type { DnsUpdater } from './update-types.js';

/** What an updater gets besides its keys of the `dns:` section. */
export interface DnsUpdaterContext {
  /** The nsupdate program (`nsupdate_bin`, a top-level key for historical reasons). */
  nsupdateBin: string;
}

export interface DnsUpdaterDefinition<
  Name extends string = string,
  Shape extends z.ZodRawShape = z.ZodRawShape,
> {
  /** The value of `dns.method`, and `DnsUpdater.method`. */
  readonly name: Name;
  /**
   * The keys it reads from `dns:`, with their defaults and "expected …" messages. Updaters may
   * share a key (`server`, say), but only as the same schema: the section holds each key once.
   */
  readonly schema: Shape;
  /** Keys whose values are credentials: config messages describe them but never echo them. */
  readonly secretKeys?: readonly Extract<keyof Shape, string>[];
  /** Keys that are file paths: the config resolves them like its other paths (`~`, relative to the file). */
  readonly files?: readonly Extract<keyof Shape, string>[];
  /**
   * The updater for settings the schema accepted. Throws an Error whose message starts with
   * `dns.<key>:` for a problem the schema cannot see (a key file that does not parse, say).
   */
  create(options: z.output<z.ZodObject<Shape>>, context: DnsUpdaterContext): DnsUpdater;
}

/** An updater of the list, whatever its options: the list only hands it a section its schema built. */
export interface AnyDnsUpdater {
  readonly name: string;
  readonly schema: z.ZodRawShape;
  readonly secretKeys?: readonly string[];
  readonly files?: readonly string[];
  create(options: never, context: DnsUpdaterContext): DnsUpdater;
}

/** Declares a DNS updater; add it to the list in ./updaters/index.ts. */
export function defineDnsUpdater<const Name extends string, const Shape extends z.ZodRawShape>(
  definition: DnsUpdaterDefinition<Name, Shape>,
): DnsUpdaterDefinition<Name, Shape> {
  return definition;
}
