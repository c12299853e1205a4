import { z } from 'zod';
import { defineStoreDriver } from '../driver.js';

/** `store: sqlite` (the default) or `store: { driver: sqlite, path: … }`. */
export const sqliteDriver = defineStoreDriver({
  name: 'sqlite',
  schema: z.strictObject({
    /** By default the config's `pickfile`. */
    path: z.string('expected a file path').min(1, 'expected a file path').optional(),
  }),
  files: ['path'],
  async open(options, context) {
    const { openSqliteStore } = await import('./store.js');
    return openSqliteStore(options, context);
  },
  async transfer(options, context) {
    const { openSqliteTransfer } = await import('./transfer.js');
    return openSqliteTransfer(options, context);
  },
});
