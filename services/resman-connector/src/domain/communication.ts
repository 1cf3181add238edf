// How a DomIQ message becomes a ResMan communication-log entry (a MITS Event on the guest card).
import { redactSensitive } from './redaction.ts';

export type CommunicationType = 'chat' | 'email' | 'sms' | 'voice';

/** MITS EventType for a message the prospect sent us, by DomIQ channel. */
export function inboundEventType(channel: string): string {
  switch (channel) {
    case 'sms':
      return 'TextFromProspect';
    case 'email':
      return 'EmailFromProspect';
    case 'voice':
      return 'CallFromProspect';
    default:
      return 'Contact';
  }
}

/** The seed's communication_type for a DomIQ channel. */
export function communicationType(channel: string): CommunicationType {
  if (channel === 'email' || channel === 'sms' || channel === 'voice') return channel;
  return 'chat';
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
