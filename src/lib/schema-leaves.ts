import { z } from 'zod';

// The leaves of every schema: the config file's own keys and the sections that drivers (channels,
// push protocols, DNS updaters) define next to their code. Every leaf gives one "expected …"
// message for both a wrong type and an out-of-range value, so a user reads the whole requirement
// at once; the config loader appends what it found instead.

export function intRange(min: number, max: number) {
  const error = `expected an integer from ${min} to ${max}`;
  return z.int(error).min(min, error).max(max, error);
}

export function intAtLeast(min: number) {
  const error = `expected an integer of at least ${min}`;
  return z.int(error).min(min, error);
}

export function positive(unit: string) {
  const error = `expected a number of ${unit} greater than 0`;
  return z.number(error).gt(0, error);
}

export function nonNegativeSeconds() {
  const error = 'expected a number of seconds, 0 or more';
  return z.number(error).min(0, error);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, `expected one of ${values.join(', ')}`);
}

export function nonEmptyString(what: string) {
  const error = `expected ${what}`;
  return z.string(error).min(1, error);
}

export const flag = z.boolean('expected true or false');
