import type { Config } from '../config/schema.js';
import { createChannels as createListedChannels } from '../notify/channels/index.js';
import type { Notifier } from '../notify/types.js';

/**
 * The notifiers for the channels the config sets up and `pushsrv` allows. The config's `notify:`
 * sections are the channel list's own schemas, so they go to the list as they are; what the
 * daemon adds is its wall clock, against which a provider's "retry after this date" is read.
 */
export function createChannels(
  config: Pick<Config, 'notify' | 'pushsrv'>,
  now: () => number = Date.now,
): Notifier[] {
  return createListedChannels(config, { now });
}
