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

/** Where a reply is in its delivery (the queue's own states; the provider's word is in delivery_status). */
export const OUTBOUND_STATES = ['queued', 'sending', 'accepted', 'failed'] as const;
export type OutboundState = (typeof OUTBOUND_STATES)[number];

/**
 * A reply to deliver (conversations.message.reply_requested), and the durable work queue that delivers it: one row per
 * conversations message (UNIQUE account_id, message_id), so a redelivered event queues nothing twice. The runner
 * (queue/outbound-delivery.runner.ts) claims due rows with SKIP LOCKED, marks the attempt (`sending`, attempts + 1,
 * a lease) in its own commit before it calls the provider, and records the answer after: a row found `sending` with its
 * lease run out, or one whose call got no answer (`outcome_unknown`), is reconciled with the provider before any new
 * send, so a retry never reaches the customer twice.
 */
export const OutboundMessage = defineEntity({
  name: 'OutboundMessage',
  tableName: 'outbound_messages',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    channelId: p.uuid(),
    conversationId: p.uuid(),
    messageId: p.uuid(),
    provider: p.string().length(30).nullable(),
    toAddress: p.string().length(320),
    fromAddress: p.string().length(320).nullable(),
    body: p.text(),
    state: p.string().length(20).$type<OutboundState>().default('queued'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().defaultRaw('now()'),
    /** While `sending`: until when the attempt's worker owns it. */
    lockedUntil: p.datetime().nullable(),
    lastAttemptAt: p.datetime().nullable(),
    /** An attempt may have reached the provider without our knowing (no answer): look before sending again. */
    outcomeUnknown: p.boolean().default(false),
    providerMessageId: p.string().length(100).nullable(),
    /** The provider's last word, neutral (queued, sent, delivered, read, undelivered, failed, canceled). */
    deliveryStatus: p.string().length(20).nullable(),
    errorCode: p.string().length(50).nullable(),
    errorMessage: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  uniques: [
    { name: 'uq_outbound_messages_message', properties: ['accountId', 'messageId'] },
    // Per account: one tenant's callbacks naming another's message id cannot take its slot.
    { name: 'uq_outbound_messages_provider_message', properties: ['accountId', 'provider', 'providerMessageId'] },
  ],
  indexes: [{ name: 'idx_outbound_messages_due', properties: ['state', 'nextAttemptAt'] }],
  checks: [{ name: 'outbound_messages_state_check', expression: sqlIn('state', OUTBOUND_STATES) }],
});

/**
 * Every verified delivery receipt (status callback) as it arrived, once: UNIQUE(provider, provider_message_id,
 * provider_status) drops a provider's duplicates. A receipt can arrive before the send's answer has been recorded
 * (the provider calls back at once): it waits here, unapplied, and the send's record applies it.
 */
export const DeliveryReceipt = defineEntity({
  name: 'DeliveryReceipt',
  tableName: 'delivery_receipts',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    channelId: p.uuid(),
    provider: p.string().length(30),
    providerMessageId: p.string().length(100),
    status: p.string().length(20),
    providerStatus: p.string().length(30),
    errorCode: p.string().length(50).nullable(),
    raw: p.json<Record<string, unknown>>(),
    applied: p.boolean().default(false),
    receivedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  uniques: [{ name: 'uq_delivery_receipts_provider_status', properties: ['accountId', 'provider', 'providerMessageId', 'providerStatus'] }],
});

/**
 * Replies of erased customers (conversations.customer.data_erased): a reply_requested for one of them that arrives
 * after the erasure (it was already in flight) is not queued, so nothing personal is stored or sent again.
 */
export const ErasedMessage = defineEntity({
  name: 'ErasedMessage',
  tableName: 'erased_messages',
  properties: {
    accountId: p.uuid().primary(),
    messageId: p.uuid().primary(),
    erasedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});

export type ChannelRow = InstanceType<typeof Channel.class>;
export type InboundMessageRow = InstanceType<typeof InboundMessage.class>;

export type OutboundMessageRow = InstanceType<typeof OutboundMessage.class>;

export const channelGatewayEntities = [Channel, InboundMessage, OutboundMessage, DeliveryReceipt, ErasedMessage];
