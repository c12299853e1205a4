import { defineDnsUpdater } from '../define-updater.js';
import { createNsupdateUpdater } from '../nsupdate.js';
import { serverKeys, serverOf, tsigSourceOf, withServerErrors } from './server-keys.js';

/** BIND's own client: hbd writes the script, nsupdate signs and sends it (../nsupdate.ts). */
export const nsupdate = defineDnsUpdater({
  name: 'nsupdate',
  schema: serverKeys,
  secretKeys: ['tsig_secret'],
  files: ['tsig_file'],
  create(options, context) {
    const tsig = tsigSourceOf(options);
    // nsupdate -k rejects a file with several keys ("'key' redefined") and then sends the update
    // unsigned, so insist on one; the secret itself stays in the file.
    if (tsig.kind === 'file' && tsig.keysInFile > 1)
      throw new Error(
        `dns.tsig_file: ${tsig.path} holds ${tsig.keysInFile} keys, but nsupdate reads only a file with exactly one`,
      );
    return withServerErrors(() =>
      createNsupdateUpdater({
        binary: context.nsupdateBin,
        server: serverOf(options),
        key: tsig.kind === 'inline' ? tsig.key : null,
        keyFile: tsig.kind === 'file' ? tsig.path : null,
      }),
    );
  },
});
