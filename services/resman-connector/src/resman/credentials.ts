// resman_integration.api_credentials: the partner id and API key, sealed together with SecretBox.
import type { SecretBox } from '@domiq/secrets';
import type { ResmanCredentials } from './resman.client.ts';

export function sealCredentials(box: SecretBox, credentials: ResmanCredentials): string {
  return box.encrypt(JSON.stringify({ integrationPartnerId: credentials.integrationPartnerId, apiKey: credentials.apiKey }));
}

export function openCredentials(box: SecretBox, ciphertext: string): ResmanCredentials {
  const value = JSON.parse(box.decrypt(ciphertext)) as Partial<ResmanCredentials>;
  if (typeof value.integrationPartnerId !== 'string' || typeof value.apiKey !== 'string') {
    throw new Error('api_credentials does not hold {integrationPartnerId, apiKey}');
  }
  return { integrationPartnerId: value.integrationPartnerId, apiKey: value.apiKey };
}
