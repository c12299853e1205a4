import { z } from 'zod';
import { DEFAULT_STORE_DRIVER, STORE_DRIVERS, type StoreSpec, storeDriver } from '../store/drivers.js';
import { type PathContext, resolvePath } from './paths.js';
import { mapShape } from './schema-shape.js';

const DRIVER_NAMES = STORE_DRIVERS.map((driver) => driver.name).join(', ');
const EXPECTED = `expected a store driver (${DRIVER_NAMES}), or a map with driver and its options`;

/**
 * `store:` — where hbd keeps its state: a driver's name (`store: sqlite`, the default), or a map
 * of `driver` and that driver's own options, which its schema in src/store/ checks (errors name
 * `store.<key>`). The SQLite file is `pickfile` unless `store.path` says otherwise.
 */
export function storeSection(ctx: PathContext) {
  return z
    .preprocess(
      (value) => (typeof value === 'string' ? { driver: value } : value),
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
            message: `expected one of ${DRIVER_NAMES}, got ${typeof name === 'string' ? JSON.stringify(name) : String(name)}`,
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
        for (const key of driver.files ?? []) {
          const path = resolved[key];
          if (typeof path === 'string') resolved[key] = resolvePath(path, ctx);
        }
        return { driver: driver.name, options: resolved };
      }),
    )
    .default({ driver: DEFAULT_STORE_DRIVER, options: {} });
}
