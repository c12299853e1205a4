#!/usr/bin/env node
import { Command } from 'commander';
import { checkConfigCommand } from './check-config.js';
import { dnsCommand } from './dns.js';
import { hostsCommand } from './hosts.js';
import { keygenCommand } from './keygen.js';
import { notifyCommand } from './notify.js';
import { passwdCommand } from './passwd.js';
import { sendCommand } from './send.js';
import { serveCommand } from './serve.js';
import { silenceCommand, silencesCommand, unsilenceCommand } from './silence.js';
import { hbdVersion } from './version.js';

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
  .addCommand(dnsCommand())
  .addCommand(notifyCommand())
  .addCommand(silenceCommand())
  .addCommand(silencesCommand())
  .addCommand(unsilenceCommand());

await program.parseAsync(process.argv);
