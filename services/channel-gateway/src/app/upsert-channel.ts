// Use case: an admin creates or changes a channel, found by its key; audited by channel-gateway.channel.upserted.
import type { UnitOfWork } from '@domiq/bus';
import { lockForTransaction } from '@domiq/db';
import { events } from '@domiq/proto/events';
import { channels } from '@domiq/proto/vocabulary';
import { Channel, type ChannelRow } from '../db/channel-gateway.entities.ts';
import { ChannelKeyTakenError, generateChannelKey, type ChannelType } from '../domain/channel.ts';

export interface UpsertChannelInput {
  accountId: string;
  propertyId: string;
  type: ChannelType;
  /** Null: DomIQ picks a random, unguessable key (it is part of the public webhook URL). */
  channelKey: string | null;
  /** Null: the key. */
  name: string | null;
  address: string | null;
  /** SecretBox ciphertext of the provider credentials; undefined keeps those stored. */
  credentialsEncrypted: string | undefined;
}

/** Throws ChannelKeyTakenError when another account has the key. */
export async function upsertChannel(uow: UnitOfWork, input: UpsertChannelInput): Promise<{ channel: ChannelRow; created: boolean }> {
  const { em } = uow;
  const { accountId, propertyId, type, address, credentialsEncrypted } = input;
  const channelKey = input.channelKey ?? generateChannelKey(type);
  const name = input.name ?? channelKey;
  // Serialises concurrent upserts of one key; the unique index backs it up.
  await lockForTransaction(em, `channel-key|${channelKey}`);
  const existing = await em.findOne(Channel, { channelKey });
  if (existing) {
    if (existing.accountId !== accountId) throw new ChannelKeyTakenError(channelKey);
    existing.propertyId = propertyId;
    existing.type = type;
    existing.name = name;
    existing.address = address;
    if (credentialsEncrypted) existing.credentialsEncrypted = credentialsEncrypted;
  }
  const channel = existing ?? em.create(Channel, { id: crypto.randomUUID(), accountId, propertyId, channelKey, type, name, address, credentialsEncrypted: credentialsEncrypted ?? null });
  uow.emit(events.gatewayChannelUpserted, {
    accountId, propertyId, channelId: channel.id, channelKey, type: channels.toProto(type), name, created: !existing, credentialsChanged: !!credentialsEncrypted,
  }, { entityId: channel.id, accountId });
  return { channel, created: !existing };
}
