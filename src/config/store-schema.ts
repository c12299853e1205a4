import { z } from 'zod';
import { DEFAULT_STORE_DRIVER, STORE_DRIVERS, type StoreSpec, storeDriver } from '../store/drivers.js';
import { schemeOf, urlWithoutPassword } from '../store/url.js';
import { type PathContext, resolvePath } from './paths.js';
import { mapShape } from './schema-shape.js';

const DRIVER_NAMES = STORE_DRIVERS.map((driver) => driver.name).join(', ');
const URL_FORMS = STORE_DRIVERS.flatMap((driver) => driver.urlSchemes?.slice(0, 1) ?? []).map(
  (scheme) => `${scheme}://…`,
);
const EXPECTED =
  `expected a store driver (${DRIVER_NAMES})${URL_FORMS.length > 0 ? `, a URL (${URL_FORMS.join(', ')})` : ''}` +
  ', or a map with driver and its options';

/** `store.url` and the like: the store options config errors describe and never show. */
export const STORE_SECRET_KEYS: readonly string[] = [
  ...new Set(STORE_DRIVERS.flatMap((driver) => (driver.secretKeys ?? []).map((key) => `store.${key}`))),
];

/** `store: <scheme>://…` as the map it means; any other string is a driver's name. */
function storeOfString(text: string): Record<string, unknown> {
  const scheme = schemeOf(text);
  const driver = scheme && STORE_DRIVERS.find((candidate) => candidate.urlSchemes?.includes(scheme));
  return driver ? { driver: driver.name, url: text } : { driver: text };
}

/** A driver name as an error may show it: a URL (which may hold a password) never in full. */
function shownName(name: unknown): string {
  if (typeof name !== 'string') return String(name);
  if (/^[\w.-]*$/.test(name)) return JSON.stringify(name);
  const url = urlWithoutPassword(name);
  return url === undefined
    ? `a ${name.length}-character string`
    : `${JSON.stringify(url)} (password not shown)`;
}

/**
 * `store:` — where hbd keeps its state: a driver's name (`store: sqlite`, the default), a URL
 * (`store: postgresql://…`, the driver whose scheme it is, with that `url`), or a map of `driver`
 * and that driver's own options, which its schema in src/store/ checks (errors name
 * `store.<key>`). The SQLite file is `pickfile` unless `store.path` says otherwise.
 */
export function storeSection(ctx: PathContext) {
  return z
    .preprocess(
      (value) => (typeof value === 'string' ? storeOfString(value) : value),
      // Opaque to the unknown-key check: the driver's own (strict) schema reports unknown keys.
      z.unknown().transform((value, issues): StoreSpec => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          issues.addIssue({ code: 'custom', message: EXPECTED, input: value });
          return z.NEVER;
        }
        const { driver: name, ...options } = value as Record<string, unknown>;
        const driver = typeof name === 'string' ? storeDriver(name) : undefined;
        if (!driver) {
          issues.addIssue({
            code: 'custom',
            path: ['driver'],
            message: `expected one of ${DRIVER_NAMES}, got ${shownName(name)}`,
            input: name,
          });
          return z.NEVER;
        }
        const parsed = driver.schema.safeParse(options, { reportInput: true });
        if (!parsed.success) {
          for (const issue of parsed.error.issues) {
            if (issue.code === 'unrecognized_keys') {
              const shape = mapShape(driver.schema);
              const known = shape.kind === 'fixed' ? Object.keys(shape.keys).join(', ') : '';
              for (const key of issue.keys) {
                issues.addIssue({
                  code: 'custom',
                  path: [...issue.path, key],
                  message: `the ${driver.name} store driver has no such option${known ? ` (it has: ${known})` : ''}`,
                });
              }
            } else {
              issues.addIssue({ ...issue, message: `${issue.message} (store driver ${driver.name})` });
            }
          }
          return z.NEVER;
        }
        const resolved: Record<string, unknown> = { ...(parsed.data as Record<string, unknown>) };
        for (const key of driver.files ?? []) resolveFileOption(resolved, key.split('.'), ctx);
        return { driver: driver.name, options: resolved };
      }),
    )
    .default({ driver: DEFAULT_STORE_DRIVER, options: {} });
}

/** Resolves the path at `keys` (`['tls', 'ca']`) in place, copying the maps on the way. */
function resolveFileOption(
  options: Record<string, unknown>,
  keys: readonly string[],
  ctx: PathContext,
): void {
  const [key, ...rest] = keys;
  if (key === undefined) return;
  const value = options[key];
  if (rest.length === 0) {
    if (typeof value === 'string') options[key] = resolvePath(value, ctx);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const inner = { ...(value as Record<string, unknown>) };
    resolveFileOption(inner, rest, ctx);
    options[key] = inner;
  }
}
