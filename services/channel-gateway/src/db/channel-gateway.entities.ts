import { CHANNELS, sqlIn, type Channel as ChannelType } from '@domiq/proto/vocabulary';
import { defineEntity, p } from '@mikro-orm/core';

/**
 * Seed §14 channels, plus the tenancy columns, the key that names the channel in its public webhook URL, the
 * provider address, and the credentials as SecretBox ciphertext (never plaintext, never returned).
 * default_team_id references identity's teams by ID only (no cross-service foreign key).
 */
export const Channel = defineEntity({
  name: 'Channel',
  tableName: 'channels',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_channels_account'),
    propertyId: p.uuid().index('idx_channels_property'),
    channelKey: p.string().length(63).unique('uq_channels_channel_key'),
    type: p.string().length(30).$type<ChannelType>().index('idx_channels_type'),
    name: p.string().length(100),
    address: p.string().length(320).nullable(),
    config: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    credentialsEncrypted: p.text().nullable(),
    status: p.string().length(20).default('active').index('idx_channels_status'),
    lastError: p.text().nullable(),
    lastErrorAt: p.datetime().nullable(),
    defaultTeamId: p.uuid().nullable(),
    defaultSkills: p.array().default([]),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  checks: [
    { name: 'channels_type_check', expression: sqlIn('type', CHANNELS) },
    { name: 'channels_status_check', expression: `status in ('active', 'inactive', 'error')` },
  ],
});

/**
 * Every provider message as it arrived. UNIQUE(provider, provider_message_id) is the dedupe key: a provider's
 * retry of the same message inserts nothing and publishes nothing.
 */
export const InboundMessage = defineEntity({
  name: 'InboundMessage',
  tableName: 'inbound_messages',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    channelId: p.uuid().index('idx_inbound_messages_channel'),
    provider: p.string().length(30),
    providerMessageId: p.string().length(100),
    fromAddress: p.string().length(320),
    toAddress: p.string().length(320),
    body: p.text(),
    raw: p.json<Record<string, unknown>>(),
    receivedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  uniques: [{ name: 'uq_inbound_messages_provider_message', properties: ['provider', 'providerMessageId'] }],
  indexes: [{ name: 'idx_inbound_messages_account_received', properties: ['accountId', 'receivedAt'] }],
});

export type ChannelRow = InstanceType<typeof Channel.class>;
export type InboundMessageRow = InstanceType<typeof InboundMessage.class>;

export const channelGatewayEntities = [Channel, InboundMessage];
