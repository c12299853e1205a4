/**
 * The checks both update methods run before anything is written into a packet or an
 * nsupdate script: whatever a heartbeat, a config value or an API call carries, only
 * plain names inside the zone and well-formed addresses get through.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { DnsUpdateError, type RecordChange } from './update-types.js';

const MAX_TTL = 2 ** 31 - 1;

// Host-name style labels (plus '_'): strict on purpose, these bytes go into zone files and logs.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function invalid(message: string): DnsUpdateError {
  return new DnsUpdateError('OTHER', message, { retryable: false });
}

/** Lower-cased, without the trailing dot; throws for anything that is not a plain DNS name. */
export function normalizeName(name: unknown, what: string): string {
  if (typeof name !== 'string') throw invalid(`${what} is not a string`);
  const lower = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  if (lower === '' || lower.length > 253)
    throw invalid(`${what} ${JSON.stringify(name)} is not a valid DNS name`);
  for (const label of lower.split('.')) {
    if (!LABEL.test(label)) throw invalid(`${what} ${JSON.stringify(name)} is not a valid DNS name`);
  }
  return lower;
}

/** The change with its name normalised, once every part of it is known to be safe; throws otherwise. */
export function checkChange(change: RecordChange, zone: string): RecordChange {
  const name = normalizeName(change.name, 'record name');
  if (name !== zone && !name.endsWith(`.${zone}`)) throw invalid(`${name} is not inside zone ${zone}`);
  if (change.type !== 'A' && change.type !== 'AAAA')
    throw invalid(`unsupported record type ${String(change.type)}`);
  if (!Number.isInteger(change.ttl) || change.ttl < 0 || change.ttl > MAX_TTL) {
    throw invalid(`TTL ${String(change.ttl)} for ${name} is not an integer in 0..${MAX_TTL}`);
  }
  const address: unknown = change.address;
  if (address === null) return { name, type: change.type, address: null, ttl: change.ttl };
  if (typeof address !== 'string') throw invalid(`address for ${name} is not a string`);
  if (change.type === 'A' && !isIPv4(address))
    throw invalid(`${JSON.stringify(address)} is not an IPv4 address`);
  // isIPv6 accepts zone ids (fe80::1%eth0), which have no place in a AAAA record.
  if (change.type === 'AAAA' && (!isIPv6(address) || address.includes('%')))
    throw invalid(`${JSON.stringify(address)} is not an IPv6 address`);
  return { name, type: change.type, address, ttl: change.ttl };
}
