import { lockForTransaction, type MikroORM } from '@domiq/db';
import {
  ChannelGatewayServiceService, type ChannelGatewayServiceServer, type Channel as ChannelMsg, type InboundMessage as InboundMessageMsg,
} from '@domiq/proto/channel-gateway';
import {
  AlreadyExistsError, defineGrpcService, InvalidArgumentError, NotFoundError, requireOneOf, requireString, requireUuid, type AccessTable, type GrpcService,
} from '@domiq/grpc';
import { appendEvent } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { auditActor } from '@domiq/auth';
import type { Logger } from '@domiq/logging';
import type { ChannelDirectory } from '../db/channel-directory.ts';
import type { SecretBox } from '@domiq/secrets';
import { Channel, InboundMessage } from '../db/channel-gateway.entities.ts';
import { CHANNEL_TYPES, generateChannelKey, InvalidChannelError, isChannelKey, normaliseE164 } from '../domain/channel.ts';
import { validateProviderCredentials, type ProviderRegistry } from '../providers/provider.ts';

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

/** Who may call each method. */
export const channelGatewayAccess: AccessTable<ChannelGatewayServiceServer> = {
  upsertChannel: { roles: ['admin'] },
  lookupChannel: { roles: ['admin', 'supervisor'] },
  getInboundMessage: { roles: ['admin', 'supervisor', 'engineer'] },
};

export function channelGatewayGrpcService(orm: MikroORM, box: SecretBox, channels: ChannelDirectory, providers: ProviderRegistry, logger: Logger): GrpcService {
  const em = () => orm.em.fork({ clear: true });
  return defineGrpcService<ChannelGatewayServiceServer>({
    name: 'domiq.channel_gateway.v1.ChannelGatewayService',
    definition: ChannelGatewayServiceService,
    access: channelGatewayAccess,
    handlers: {
    async upsertChannel(req, ctx) {
      const { accountId } = ctx;
      const propertyId = requireUuid(req.propertyId, 'property_id');
      const type = requireOneOf(req.type, 'type', CHANNEL_TYPES);
      // Left empty: DomIQ picks a random, unguessable key (it is part of the public webhook URL).
      const channelKey = req.channelKey.trim() ? requireChannelKey(req.channelKey) : generateChannelKey(type);
      const name = req.name.trim() ? requireString(req.name, 'name', 100) : channelKey;
      let address: string | null;
      if (type === 'sms') address = domain(() => normaliseE164(req.address, 'address'));
      else address = req.address.trim() ? requireString(req.address, 'address', 320) : null;
      // The credentials oneof's case is the provider id; the provider's adapter says where they apply and checks them.
      const given = req.credentials;
      if (type === 'sms' && !given) throw new InvalidArgumentError('twilio', 'credentials are required for an sms channel');
      const credentials = given ? domain(() => validateProviderCredentials(providers, given, type)) : undefined;
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
        }
        const saved = existing ?? tx.create(Channel, { id: crypto.randomUUID(), accountId, propertyId, channelKey, type, name, address, credentialsEncrypted: credentialsEncrypted ?? null });
        appendEvent(tx, events.gatewayChannelUpserted, {
          accountId, propertyId, channelId: saved.id, channelKey, type, name, created: !existing, credentialsChanged: !!credentialsEncrypted,
        }, { entityId: saved.id, accountId, ...auditActor(ctx.caller) });
        return saved;
      });
      channels.invalidate(channelKey);
      logger.info({ channel_id: channel.id, channel_key: channelKey, account_id: accountId, type }, 'channel upserted');
      return { channel: toChannelMsg(channel) };
    },

    async lookupChannel(req, ctx) {
      const { accountId } = ctx;
      const channelKey = requireChannelKey(req.channelKey);
      const channel = await em().findOne(Channel, { accountId, channelKey });
      if (!channel) throw new NotFoundError(`channel ${channelKey} not found`);
      return { channel: toChannelMsg(channel) };
    },

    async getInboundMessage(req, ctx) {
      const { accountId } = ctx;
      const provider = requireString(req.provider, 'provider', 30);
      const providerMessageId = requireString(req.providerMessageId, 'provider_message_id', 100);
      const message = await em().findOne(InboundMessage, { accountId, provider, providerMessageId });
      if (!message) throw new NotFoundError(`inbound message ${provider}/${providerMessageId} not found`);
      return { message: toInboundMsg(message) };
    },
    },
  });
}
