import { globMatch, isGlob } from '../lib/glob-match.js';
import type { Config, HostOverride } from './schema.js';

/** The `hosts` overrides that apply to a host; empty when none does. */
export type HostPolicy = (name: string) => HostOverride;

const NO_OVERRIDE: HostOverride = Object.freeze({});

/**
 * Looks up a host's `hosts` entry: an exact name wins, then the longest matching glob (the more
 * a pattern spells out, the more specific it is); equally long globs go by order in the file.
 */
export function hostPolicy(config: Pick<Config, 'hosts'>): HostPolicy {
  const exact = new Map<string, HostOverride>();
  const globs: { pattern: string; override: HostOverride }[] = [];
  for (const [pattern, override] of Object.entries(config.hosts)) {
    if (isGlob(pattern)) globs.push({ pattern, override });
    else exact.set(pattern, override);
  }
  // sort is stable, so equal lengths keep file order.
  globs.sort((a, b) => b.pattern.length - a.pattern.length);
  return (name) => {
    const host = name.toLowerCase();
    return exact.get(host) ?? globs.find((glob) => globMatch(glob.pattern, host))?.override ?? NO_OVERRIDE;
  };
}
