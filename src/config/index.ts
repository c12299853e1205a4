export { ConfigError } from './errors.js';
export { DEFAULT_CONFIG_YAML } from './example.js';
export { type HostPolicy, hostPolicy } from './host-policy.js';
export { type LoadResult, loadConfig, locateConfigFile, type ParseOptions, parseConfig } from './load.js';
export type { Env } from './paths.js';
export { describeReloadChanges } from './reload.js';
export {
  type Config,
  configSchema,
  type HostOverride,
  type JournalConfig,
  type SchemaContext,
} from './schema.js';
