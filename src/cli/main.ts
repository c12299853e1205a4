#!/usr/bin/env node
import { Command } from 'commander';
import { closest } from '../config/suggest.js';
import { hbdVersion } from '../lib/version.js';
import { checkConfigCommand } from './check-config.js';
import { dnsCommand } from './dns.js';
import { eventsCommand } from './events.js';
import { forgetCommand } from './forget.js';
import { hostsCommand } from './hosts.js';
import { keygenCommand } from './keygen.js';
import { notifyCommand } from './notify.js';
import { passwdCommand } from './passwd.js';
import { sendCommand } from './send.js';
import { serveCommand } from './serve.js';
import { silenceCommand, silencesCommand, unsilenceCommand } from './silence.js';
import { statusCommand } from './status.js';
import { storeCommand } from './store-copy.js';
import { exitOnUsageError } from './usage-exit.js';

// `hbd events --follow | head` closes the pipe under us: that ends the command, not in a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('hbd')
  .description('hbd, the heartbeat daemon: knows which hosts are up, went quiet, or came back')
  .version(hbdVersion())
  .showHelpAfterError()
  // `hbd -c FILE -f -v` (no subcommand) means `hbd serve -c FILE -f -v`, as with the older daemon.
  .addCommand(serveCommand(), { isDefault: true })
  .addCommand(sendCommand())
  .addCommand(keygenCommand())
  .addCommand(passwdCommand())
  .addCommand(checkConfigCommand())
  .addCommand(hostsCommand())
  .addCommand(statusCommand())
  .addCommand(eventsCommand())
  .addCommand(forgetCommand())
  .addCommand(dnsCommand())
  .addCommand(notifyCommand())
  .addCommand(silenceCommand())
  .addCommand(silencesCommand())
  .addCommand(unsilenceCommand())
  .addCommand(storeCommand());
exitOnUsageError(program);

// A word where a command goes would otherwise reach `serve`, the default, and be refused as
// "too many arguments for 'serve'".
const [word] = process.argv.slice(2);
const names = [...program.commands.map((command) => command.name()), 'help'];
if (word !== undefined && !word.startsWith('-') && !names.includes(word)) {
  const near = closest(word, names);
  program.error(`error: unknown command '${word}'${near ? ` (did you mean ${near}?)` : ''}`);
}

await program.parseAsync(process.argv);
