import { randomBytes } from 'node:crypto';
import { Command } from 'commander';

const SECRET_BYTES = 32;

export function keygenCommand(): Command {
  return new Command('keygen')
    .description(`print a new random secret for signing heartbeats (${SECRET_BYTES} bytes, base64url)`)
    .addHelpText(
      'after',
      `
Example:
  $ (umask 077; hbd keygen > /etc/hbd/key)    a key file only its owner can read`,
    )
    .action(() => {
      process.stdout.write(`${randomBytes(SECRET_BYTES).toString('base64url')}\n`);
    });
}
