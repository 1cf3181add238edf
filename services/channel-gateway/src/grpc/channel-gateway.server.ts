import { lockForTransaction, type MikroORM } from '@domiq/db';
import {
  ChannelGatewayServiceService, type ChannelGatewayServiceServer, type Channel as ChannelMsg, type InboundMessage as InboundMessageMsg,
} from '@domiq/proto/channel-gateway';
import {
  AlreadyExistsError, implement, InvalidArgumentError, NotFoundError, requireOneOf, requireString, requireUuid, type GrpcService,
} from '@domiq/grpc';
import type { Logger } from '@domiq/logging';
import type { ChannelDirectory } from '../db/channel-directory.ts';
import type { SecretBox } from '@domiq/secrets';
import { Channel, InboundMessage } from '../db/channel-gateway.entities.ts';
import { CHANNEL_TYPES, InvalidChannelError, isChannelKey, normaliseE164, validateTwilioCredentials } from '../domain/channel.ts';

function toChannelMsg(c: InstanceType<typeof Channel.class>): ChannelMsg {
  return {
    id: c.id, accountId: c.accountId, propertyId: c.propertyId, channelKey: c.channelKey, type: c.type, name: c.name,
    address: c.address ?? '', status: c.status, hasCredentials: !!c.credentialsEncrypted,
  };
}

function toInboundMsg(m: InstanceType<typeof InboundMessage.class>): InboundMessageMsg {
  return {
    id: m.id, accountId: m.accountId, channelId: m.channelId, provider: m.provider, providerMessageId: m.providerMessageId,
    fromAddress: m.fromAddress, toAddress: m.toAddress, body: m.body, receivedAt: m.receivedAt.toISOString(), rawJson: JSON.stringify(m.raw),
  };
}

function requireChannelKey(value: string): string {
  const key = requireString(value, 'channel_key', 63);
  if (!isChannelKey(key)) throw new InvalidArgumentError('channel_key', 'must be 2-63 characters of a-z, 0-9 and -, starting with a letter or digit');
  return key;
}

/** Domain validation errors become INVALID_ARGUMENT naming the field. */
function domain<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InvalidChannelError) throw new InvalidArgumentError(err.field, err.message.slice(err.field.length + 2));
    throw err;
  }
}

export function channelGatewayGrpcService(orm: MikroORM, box: SecretBox, channels: ChannelDirectory, logger: Logger): GrpcService {
  const em = () => orm.em.fork({ clear: true });
  const impl = implement<ChannelGatewayServiceServer>({
    async upsertChannel(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
      const propertyId = requireUuid(req.propertyId, 'property_id');
      const channelKey = requireChannelKey(req.channelKey);
      const type = requireOneOf(req.type, 'type', CHANNEL_TYPES);
      const name = req.name.trim() ? requireString(req.name, 'name', 100) : channelKey;
      let address: string | null;
      if (type === 'sms') address = domain(() => normaliseE164(req.address, 'address'));
      else address = req.address.trim() ? requireString(req.address, 'address', 320) : null;
      const twilio = req.credentials?.$case === 'twilio' ? req.credentials.value : undefined;
      if (type === 'sms' && !twilio) throw new InvalidArgumentError('twilio', 'credentials are required for an sms channel');
      if (twilio && type !== 'sms' && type !== 'whatsapp') throw new InvalidArgumentError('twilio', `credentials do not apply to a ${type} channel`);
      const credentials = twilio ? domain(() => validateTwilioCredentials(twilio)) : undefined;
      const credentialsEncrypted = credentials ? box.encrypt(JSON.stringify(credentials)) : undefined;

      const channel = await em().transactional(async (tx) => {
        // Serialises concurrent upserts of one key; the unique index backs it up.
        await lockForTransaction(tx, `channel-key|${channelKey}`);
        const existing = await tx.findOne(Channel, { channelKey });
        if (existing) {
          // Keys are global (they are in the public URL); another tenant's key is taken, whatever it is.
          if (existing.accountId !== accountId) throw new AlreadyExistsError(`channel_key ${channelKey} is taken`);
          existing.propertyId = propertyId;
          existing.type = type;
          existing.name = name;
          existing.address = address;
          if (credentialsEncrypted) existing.credentialsEncrypted = credentialsEncrypted;
          return existing;
        }
        return tx.create(Channel, { accountId, propertyId, channelKey, type, name, address, credentialsEncrypted: credentialsEncrypted ?? null });
      });
      channels.invalidate(channelKey);
      logger.info({ channel_id: channel.id, channel_key: channelKey, account_id: accountId, type }, 'channel upserted');
      return { channel: toChannelMsg(channel) };
    },

    async lookupChannel(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
      const channelKey = requireChannelKey(req.channelKey);
      const channel = await em().findOne(Channel, { accountId, channelKey });
      if (!channel) throw new NotFoundError(`channel ${channelKey} not found`);
      return { channel: toChannelMsg(channel) };
    },

    async getInboundMessage(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
      const provider = requireString(req.provider, 'provider', 30);
      const providerMessageId = requireString(req.providerMessageId, 'provider_message_id', 100);
      const message = await em().findOne(InboundMessage, { accountId, provider, providerMessageId });
      if (!message) throw new NotFoundError(`inbound message ${provider}/${providerMessageId} not found`);
      return { message: toInboundMsg(message) };
    },
  }, logger);
  return { name: 'domiq.channel_gateway.v1.ChannelGatewayService', definition: ChannelGatewayServiceService, implementation: impl };
}
