// How a DomIQ message becomes a ResMan communication-log entry (a MITS Event on the guest card).
import type { Channel } from '@domiq/proto/vocabulary';
import { redactSensitive } from './redaction.ts';

export type CommunicationType = 'chat' | 'email' | 'sms' | 'voice';

/** MITS EventType for a message the prospect sent us, by DomIQ channel (RESMAN.md's event types). */
export const INBOUND_EVENT_TYPE: Record<Channel, string> = {
  sms: 'TextFromProspect',
  email: 'EmailFromProspect',
  voice: 'CallFromProspect',
  web_chat: 'Contact',
  whatsapp: 'Contact',
  facebook: 'Contact',
  instagram: 'Contact',
  twitter: 'Contact',
  api: 'Contact',
};

export function inboundEventType(channel: Channel): string {
  return INBOUND_EVENT_TYPE[channel];
}

/** The seed's communication_type for a DomIQ channel. */
export const COMMUNICATION_TYPE: Record<Channel, CommunicationType> = {
  sms: 'sms', email: 'email', voice: 'voice', web_chat: 'chat', whatsapp: 'chat', facebook: 'chat', instagram: 'chat', twitter: 'chat', api: 'chat',
};

export function communicationType(channel: Channel): CommunicationType {
  return COMMUNICATION_TYPE[channel];
}

/** Why a DomIQ message is not logged to ResMan, or null when it is: only what a customer sent us about a property. */
export function notLoggedReason(message: { direction: string; senderType: string; propertyId: string }): string | null {
  if (message.direction !== 'inbound' || message.senderType !== 'customer') return 'not an inbound customer message';
  if (!message.propertyId) return 'message has no property';
  return null;
}

const MARKER_PREFIX = '[domiq:';

/** The marker every event we post carries, so a retry can tell whether ResMan already has it. */
export function messageMarker(messageId: string): string {
  return `${MARKER_PREFIX}${messageId}]`;
}

export function hasMessageMarker(comments: string | null | undefined, messageId: string): boolean {
  return (comments ?? '').includes(messageMarker(messageId));
}

// ResMan's comment field is not unbounded; long emails are cut, the marker always survives.
export const MAX_COMMENT_CHARS = 4000;

/** Comments for the event: the message text with card numbers and SSNs removed, then the marker. */
export function eventComments(content: string, messageId: string): string {
  const marker = messageMarker(messageId);
  let text = redactSensitive(content.trim());
  const room = MAX_COMMENT_CHARS - marker.length - 2;
  if (text.length > room) text = `${text.slice(0, room - 1)}…`;
  return text === '' ? marker : `${text}\n\n${marker}`;
}
