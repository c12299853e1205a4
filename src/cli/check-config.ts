import { Command } from 'commander';
import { DEFAULT_CONFIG_YAML } from '../config/example.js';
import { CONFIG_EXIT_CODE, checkStartupFiles, printConfigError, readConfig } from './config-loading.js';

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('validate the config and list every problem (exit 0 when it is valid, 2 when not)')
    .option('-c, --config <file>', 'config file (else $HBD_CONFIG, else ~/.hb.yaml, else built-in defaults)')
    .option('--example', 'print a documented example config with every key and its default')
    .option('--strict', 'unknown keys are problems (exit 2), not warnings')
    .action((options: { config?: string; example?: boolean; strict?: boolean }) => {
      if (options.example) {
        process.stdout.write(DEFAULT_CONFIG_YAML);
        return;
      }
      let source: string | null;
      let warnings: string[];
      try {
        const loaded = readConfig(options.config, { strict: options.strict });
        source = loaded.source;
        // The TLS files, the DNS key file and the channels, as hbd checks them when it starts.
        warnings = checkStartupFiles(loaded);
      } catch (error) {
        printConfigError(error);
        process.exitCode = CONFIG_EXIT_CODE;
        return;
      }
      for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(`ok: ${source ?? 'no config file; built-in defaults'}\n`);
    });
}
