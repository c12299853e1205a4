/** Names and addresses of the simulated fleet, the same in every measurement. */

/** 21 characters, like a real FQDN: `h000123.bench.example`. */
export function hostName(index: number): string {
  return `h${String(index).padStart(6, '0')}.bench.example`;
}

/** A distinct source address per host: `10.x.y.z`. */
export function sourceAddress(index: number): string {
  return `10.${(index >>> 16) & 255}.${(index >>> 8) & 255}.${index & 255}`;
}
