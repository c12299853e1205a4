import { Command } from 'commander';
import { DEFAULT_CONFIG_YAML } from '../config/example.js';
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
      process.stdout.write(`ok: ${loaded.source ?? 'no config file; built-in defaults'}\n`);
    });
}
