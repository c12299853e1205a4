import { defineDnsUpdater } from '../define-updater.js';
import { createRfc2136Updater } from '../rfc2136.js';
import { serverKeys, serverOf, tsigSourceOf, withServerErrors } from './server-keys.js';

/** The native method (the default): builds, signs and sends the UPDATE itself (../rfc2136.ts). */
export const rfc2136 = defineDnsUpdater({
  name: 'rfc2136',
  schema: serverKeys,
  secretKeys: ['tsig_secret'],
  files: ['tsig_file'],
  create(options) {
    const tsig = tsigSourceOf(options);
    const key = tsig.kind === 'none' ? null : tsig.key;
    return withServerErrors(() => createRfc2136Updater({ server: serverOf(options), key }));
  },
});
