import type { ProviderRegistry } from './provider.ts';
import { createTwilioProvider, type TwilioProviderOptions } from './twilio.provider.ts';

/** Every provider the gateway speaks, by the id in its webhook URLs and stored credentials. */
export function createProviderRegistry(opts: { twilio?: TwilioProviderOptions } = {}): ProviderRegistry {
  return { twilio: createTwilioProvider(opts.twilio) };
}
