import { Command } from 'commander';
import { DEFAULT_CONFIG_YAML } from '../config/example.js';
import { createUpdater } from '../dns/create-updater.js';
import { createChannels } from '../notify/channels.js';
import { printConfigError, readConfig } from './config-loading.js';

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('validate the config and list every problem (exit 0 when it is valid)')
    .option('-c, --config <file>', 'config file (else $HBD_CONFIG, else ~/.hb.yaml, else built-in defaults)')
    .option('--example', 'print a documented example config with every key and its default')
    .action((options: { config?: string; example?: boolean }) => {
      if (options.example) {
        process.stdout.write(DEFAULT_CONFIG_YAML);
        return;
      }
      let loaded: ReturnType<typeof readConfig>;
      try {
        loaded = readConfig(options.config);
      } catch (error) {
        printConfigError(error);
        process.exitCode = 1;
        return;
      }
      for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
      if (loaded.config.dyndomains.length > 0) {
        // Reads the TSIG key file and checks the key, as hbd does when it starts.
        try {
          createUpdater(loaded.config);
        } catch (error) {
          process.stderr.write(`hbd: the config has 1 problem(s):\n  ${(error as Error).message}\n`);
          process.exitCode = 1;
          return;
        }
      }
      // Builds every notification channel, whose factories check what the schema leaves to them.
      try {
        createChannels(loaded.config);
      } catch (error) {
        process.stderr.write(`hbd: the config has 1 problem(s):\n  ${(error as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`ok: ${loaded.source ?? 'no config file; built-in defaults'}\n`);
    });
}
