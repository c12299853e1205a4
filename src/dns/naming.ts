import { isValidHostName } from '../protocol/hostname.js';

export type Placement = { ok: true; name: string; zone: string } | { ok: false; reason: string };

/**
 * Where a host's records go. A host whose name lies inside one of the dyndomains is
 * published under its own name (in the most specific one); a bare, one-label name is
 * published as `<name>.<first dyndomain>`; anything else is not published, so no
 * heartbeat can touch a name outside the dyndomains. `zone` overrides the zone to
 * update (when the dyndomain is a delegated part of a larger zone, say).
 */
export function placeRecord(host: string, dyndomains: readonly string[], zone?: string): Placement {
  const name = host.toLowerCase();
  if (!isValidHostName(name)) return { ok: false, reason: `"${host}" is not a valid host name` };
  if (dyndomains.length === 0) return { ok: false, reason: 'no dyndomains are configured' };
  const domains = dyndomains.map(relativeDomain);
  const zoneName = zone === undefined ? undefined : relativeDomain(zone);
  let home: string | undefined;
  for (const domain of domains) {
    if (name.endsWith(`.${domain}`) && (home === undefined || domain.length > home.length)) home = domain;
  }
  if (home !== undefined) return { ok: true, name, zone: zoneName ?? home };
  if (!name.includes('.')) {
    const first = domains[0]!;
    return { ok: true, name: `${name}.${first}`, zone: zoneName ?? first };
  }
  return { ok: false, reason: `"${name}" is outside the dyndomains (${domains.join(', ')})` };
}

/** DNS admins write absolute names (`dyn.example.com.`); host names arrive relative, so compare them that way. */
function relativeDomain(domain: string): string {
  const lower = domain.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
