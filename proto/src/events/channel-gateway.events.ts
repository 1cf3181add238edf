// Events channel-gateway owns (stream CHANNEL_GATEWAY).
import { ChannelUpserted, MessageDeliveryUpdated, MessageReceived } from '../../gen/domiq/channel_gateway/v1/events.ts';
import { ownedEvents } from '../event-contract.ts';

const event = ownedEvents('channel-gateway');

export const channelGatewayEvents = {
  gatewayMessageReceived: event('message.received', 'inbound_message', MessageReceived),
  gatewayChannelUpserted: event('channel.upserted', 'channel', ChannelUpserted),
  gatewayMessageDeliveryUpdated: event('message.delivery_updated', 'outbound_message', MessageDeliveryUpdated),
} as const;
