/** What a host carries besides its timing; absent for hosts that send none of it. */
export interface HostExtras {
  readonly msg: string | undefined;
  readonly fields: Readonly<Record<string, string>> | undefined;
  readonly ip4: string | undefined;
  readonly ip6: string | undefined;
}

interface ExtrasSource {
  msg?: string | null;
  fields?: Readonly<Record<string, string>>;
  ip4?: string | null;
  ip6?: string | null;
}

/**
 * The extras to keep after a heartbeat: `previous` itself when nothing changed (so
 * the caller can tell a content change from a routine beat by identity), else a new
 * object of detached strings.
 *
 * Detached, because the decoder's values are slices of the whole datagram text, and
 * V8 keeps that text alive for as long as any slice of it lives: a 12-character
 * message would pin up to 8 KiB per host.
 */
export function nextExtras(previous: HostExtras | undefined, source: ExtrasSource): HostExtras | undefined {
  const msg = source.msg ?? undefined;
  const ip4 = source.ip4 ?? undefined;
  const ip6 = source.ip6 ?? undefined;
  const fields = source.fields && hasKeys(source.fields) ? source.fields : undefined;
  if (msg === undefined && fields === undefined && ip4 === undefined && ip6 === undefined) return undefined;
  if (
    previous !== undefined &&
    previous.msg === msg &&
    previous.ip4 === ip4 &&
    previous.ip6 === ip6 &&
    sameFields(previous.fields, fields)
  ) {
    return previous;
  }
  return {
    msg: detached(msg),
    fields:
      fields && Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, detached(value)])),
    ip4: detached(ip4),
    ip6: detached(ip6),
  };
}

/** A copy of `text` that shares no memory with the string it came from. */
export function detached<T extends string | undefined>(text: T): T {
  return (text === undefined ? undefined : Buffer.from(text, 'utf8').toString('utf8')) as T;
}

function sameFields(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  let count = 0;
  for (const key in b) {
    if (a[key] !== b[key]) return false;
    count++;
  }
  for (const _ in a) count--;
  return count === 0;
}

function hasKeys(object: Readonly<Record<string, string>>): boolean {
  for (const _ in object) return true;
  return false;
}
