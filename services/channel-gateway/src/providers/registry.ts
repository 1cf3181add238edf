import type { ProviderRegistry } from './provider.ts';
import { createTwilioProvider } from './twilio.provider.ts';

/** Every provider the gateway speaks, by the id in its webhook URLs and stored credentials. */
export function createProviderRegistry(): ProviderRegistry {
  return { twilio: createTwilioProvider() };
}
