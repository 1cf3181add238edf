import type { MikroORM } from '@domiq/db';
import {
  ChannelGatewayServiceService, type ChannelGatewayServiceServer, type Channel as ChannelMsg, type InboundMessage as InboundMessageMsg,
} from '@domiq/proto/channel-gateway';
import {
  AlreadyExistsError, defineGrpcService, InvalidArgumentError, NotFoundError, requireEnum, requireString, requireUuid, type AccessTable, type GrpcService,
} from '@domiq/grpc';
import { inTransaction, readModel } from '@domiq/bus';
import { auditActor } from '@domiq/auth';
import type { Logger } from '@domiq/logging';
import type { SecretBox } from '@domiq/secrets';
import { getInboundMessage, lookupChannel } from '../app/channel.queries.ts';
import { upsertChannel } from '../app/upsert-channel.ts';
import type { ChannelDirectory } from '../db/channel-directory.ts';
import type { ChannelRow, InboundMessageRow } from '../db/channel-gateway.entities.ts';
import { channels as channelVocabulary } from '@domiq/proto/vocabulary';
import { ChannelKeyTakenError, InvalidChannelError, isChannelKey, normaliseE164 } from '../domain/channel.ts';
import { validateProviderCredentials, type ProviderRegistry } from '../providers/provider.ts';

function toChannelMsg(c: ChannelRow): ChannelMsg {
  return {
    id: c.id, accountId: c.accountId, propertyId: c.propertyId, channelKey: c.channelKey, type: channelVocabulary.toProto(c.type), name: c.name,
    address: c.address ?? '', status: c.status, hasCredentials: !!c.credentialsEncrypted,
  };
}

function toInboundMsg(m: InboundMessageRow): InboundMessageMsg {
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
  return defineGrpcService<ChannelGatewayServiceServer>({
    name: 'domiq.channel_gateway.v1.ChannelGatewayService',
    definition: ChannelGatewayServiceService,
    access: channelGatewayAccess,
    handlers: {
    async upsertChannel(req, ctx) {
      const { accountId } = ctx;
      const propertyId = requireUuid(req.propertyId, 'property_id');
      const type = requireEnum(channelVocabulary, req.type, 'type');
      // Left empty, the use case picks the key (and the name defaults to it).
      const channelKey = req.channelKey.trim() ? requireChannelKey(req.channelKey) : null;
      const name = req.name.trim() ? requireString(req.name, 'name', 100) : null;
      let address: string | null;
      if (type === 'sms') address = domain(() => normaliseE164(req.address, 'address'));
      else address = req.address.trim() ? requireString(req.address, 'address', 320) : null;
      // The credentials oneof's case is the provider id; the provider's adapter says where they apply and checks them.
      const given = req.credentials;
      if (type === 'sms' && !given) throw new InvalidArgumentError('twilio', 'credentials are required for an sms channel');
      const credentials = given ? domain(() => validateProviderCredentials(providers, given, type)) : undefined;
      const credentialsEncrypted = credentials ? box.encrypt(JSON.stringify(credentials)) : undefined;

      let channel: ChannelRow;
      try {
        ({ channel } = await inTransaction(orm, auditActor(ctx.caller), (uow) => upsertChannel(uow, { accountId, propertyId, type, channelKey, name, address, credentialsEncrypted })));
      } catch (err) {
        if (err instanceof ChannelKeyTakenError) throw new AlreadyExistsError(err.message);
        throw err;
      }
      channels.invalidate(channel.channelKey);
      logger.info({ channel_id: channel.id, channel_key: channel.channelKey, account_id: accountId, type }, 'channel upserted');
      return { channel: toChannelMsg(channel) };
    },

    async lookupChannel(req, ctx) {
      const channelKey = requireChannelKey(req.channelKey);
      const channel = await lookupChannel(readModel(orm), ctx.accountId, channelKey);
      if (!channel) throw new NotFoundError(`channel ${channelKey} not found`);
      return { channel: toChannelMsg(channel) };
    },

    async getInboundMessage(req, ctx) {
      const provider = requireString(req.provider, 'provider', 30);
      const providerMessageId = requireString(req.providerMessageId, 'provider_message_id', 100);
      const message = await getInboundMessage(readModel(orm), ctx.accountId, { provider, providerMessageId });
      if (!message) throw new NotFoundError(`inbound message ${provider}/${providerMessageId} not found`);
      return { message: toInboundMsg(message) };
    },
    },
  });
}
