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
  const globs: { pattern: string; regex: RegExp; override: HostOverride }[] = [];
  for (const [pattern, override] of Object.entries(config.hosts)) {
    if (/[*?]/.test(pattern)) globs.push({ pattern, regex: globToRegExp(pattern), override });
    else exact.set(pattern, override);
  }
  // sort is stable, so equal lengths keep file order.
  globs.sort((a, b) => b.pattern.length - a.pattern.length);
  return (name) => {
    const host = name.toLowerCase();
    return exact.get(host) ?? globs.find((glob) => glob.regex.test(host))?.override ?? NO_OVERRIDE;
  };
}

/** `*` is any run of characters, `?` any one; everything else is literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split(/([*?])/)
    .map((part) => (part === '*' ? '.*' : part === '?' ? '.' : part.replace(/[\\^$.|+()[\]{}*?]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
