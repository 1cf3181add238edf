// The one shape every messaging provider takes in the gateway (Twilio today; Meta, email, web chat... next).
// An adapter knows its provider's wire formats and nothing else: no database, no rate limits, no HTTP server.
// The webhook server (http/webhook.http.ts) and UpsertChannel (grpc/channel-gateway.server.ts) call it.
import type { IncomingHttpHeaders } from 'node:http';
import { InvalidChannelError, type ChannelType } from '../domain/channel.ts';
import type { TwilioChannelCredentials, TwilioCredentialsInput } from './twilio.provider.ts';

/**
 * Each provider: what UpsertChannel receives (the proto `credentials` oneof case of the same name) and what is
 * stored, encrypted, in channels.credentials_encrypted (JSON with `provider` set to the provider's id).
 * Adding a provider adds a line here, so every `ProviderRegistry` fails the type check until it has an adapter.
 */
export interface ProviderTypes {
  twilio: { input: TwilioCredentialsInput; credentials: TwilioChannelCredentials };
}
export type ProviderId = keyof ProviderTypes;

/** A provider payload as received, kept verbatim in inbound_messages.raw. */
export type RawPayload = Record<string, unknown>;

/** A webhook request once the server has read it (method, route, content type and size already checked). */
export interface WebhookRequest {
  /** Path and query exactly as requested: signatures over the URL cover it. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The provider account a payload names (Twilio's AccountSid), checked against the channel's credentials. */
export interface ProviderAccountRef {
  /** The payload field, named in the 403 when it is another account. */
  field: string;
  value: string;
}

/** One customer message, provider-neutral. */
export interface ProviderInboundMessage {
  /** The dedupe key together with the provider id. */
  providerMessageId: string;
  providerAccount?: ProviderAccountRef;
  from: string;
  to: string;
  body: string;
  /** The sender's display name when the provider sends one ('' otherwise). */
  senderName: string;
  raw: RawPayload;
}

/** Neutral delivery states; `providerStatus` keeps the provider's own word. */
export const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'canceled', 'unknown'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A status callback about a message we sent. */
export interface DeliveryReceipt {
  providerMessageId: string;
  providerAccount?: ProviderAccountRef;
  status: DeliveryStatus;
  providerStatus: string;
  /** The provider's error code for a failed or undelivered message. */
  errorCode?: string;
  raw: RawPayload;
}

/** A message to send through the provider. */
export interface OutboundMessage {
  /** The channel's own address (for SMS its E.164 number). */
  from: string;
  to: string;
  body: string;
  /** Where the provider posts delivery receipts: `<public base>/webhooks/<provider>/<channel_key>/status`. */
  statusCallbackUrl?: string;
}

/** The HTTP answer the provider expects from a webhook it delivered successfully (and for a duplicate). */
export interface WebhookReply {
  status: number;
  contentType: string;
  body: string;
}

/** A payload the gateway cannot accept (answered 400, naming the field when there is one). */
export class InvalidInboundError extends Error {
  override name = 'InvalidInboundError';
  readonly field: string | undefined;
  constructor(problem: string, field?: string) {
    super(field ? `${field}: ${problem}` : problem);
    this.field = field;
  }
}

/** The provider refused or could not take an outbound message. */
export class ProviderDeliveryError extends Error {
  override name = 'ProviderDeliveryError';
  /** HTTP status from the provider (0: no answer: network error or timeout). */
  readonly status: number;
  /** The provider's own error code, when it sent one. */
  readonly code: string | undefined;
  /** Worth sending again later (rate limited, provider-side failure, no answer); otherwise fix the message. */
  readonly retryable: boolean;
  /**
   * The request may have reached the provider (no answer after it was sent: a timeout, a reset connection): the
   * message may be on its way to the customer, so look (`findSent`) before sending it again.
   */
  readonly outcomeUnknown: boolean;
  constructor(message: string, status: number, code: string | undefined, retryable: boolean, outcomeUnknown = false) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryable = retryable;
    this.outcomeUnknown = outcomeUnknown;
  }
}

/** A message the provider holds (what `findSent` finds). */
export interface SentMessage {
  providerMessageId: string;
  status: DeliveryStatus;
  providerStatus: string;
}

export interface ProviderAdapter<P extends ProviderId = ProviderId> {
  readonly id: P;
  /** Channel types this provider serves: its credentials apply to them and its webhooks are accepted for them. */
  readonly channelTypes: readonly ChannelType[];
  /** The media type its webhooks arrive with (anything else is answered 415). */
  readonly mediaType: string;
  /** What it expects back from a handled webhook. */
  readonly reply: { inbound: WebhookReply; receipt: WebhookReply };

  /** UpsertChannel's credentials, checked; throws InvalidChannelError naming the field (`<provider>.<field>`). */
  validateCredentials(input: ProviderTypes[P]['input']): ProviderTypes[P]['credentials'];
  /** The decrypted credentials JSON as stored (written by validateCredentials). */
  parseCredentials(plaintext: string): ProviderTypes[P]['credentials'];
  /** The provider account the credentials belong to, compared with a payload's `providerAccount`. */
  accountOf(credentials: ProviderTypes[P]['credentials']): string;
  /** The request's signature, checked with the channel's credentials; `publicUrl` is the URL the provider called. */
  verify(request: WebhookRequest, credentials: ProviderTypes[P]['credentials'], publicUrl: string): boolean;
  /** Customer messages in an inbound webhook; throws InvalidInboundError. */
  parseInbound(request: WebhookRequest): ProviderInboundMessage[];
  /** Delivery receipts in a status webhook; throws InvalidInboundError. */
  parseReceipt(request: WebhookRequest): DeliveryReceipt[];
  /** Sends one message; resolves to the provider's message id, throws ProviderDeliveryError. */
  deliver(credentials: ProviderTypes[P]['credentials'], outbound: OutboundMessage): Promise<{ providerMessageId: string }>;
  /**
   * After an attempt whose outcome is unknown: the messages the provider accepted from `from` to `to` with this body
   * since `since`, newest first (none: sending again cannot duplicate it). Throws ProviderDeliveryError when it cannot
   * tell (then nothing may be sent yet).
   */
  findSent(credentials: ProviderTypes[P]['credentials'], outbound: OutboundMessage, since: Date): Promise<SentMessage[]>;
  /** What one of the provider's error codes means, in words an agent understands (undefined for a code it does not know). */
  errorReason(code: string): string | undefined;
}

/** Exhaustive: a provider added to ProviderTypes needs its adapter here. */
export type ProviderRegistry = { [P in ProviderId]: ProviderAdapter<P> };

export function isProviderId(registry: ProviderRegistry, value: string): value is ProviderId {
  return Object.hasOwn(registry, value);
}

/**
 * UpsertChannel's credentials oneof (`{ $case: <provider id>, value }`), checked by that provider's adapter for a
 * channel of `channelType`; throws InvalidChannelError naming the field. Generic over the id so that each case's
 * value goes to its own adapter (the mapped ProviderRegistry keeps the pair correlated).
 */
export function validateProviderCredentials<P extends ProviderId>(
  registry: ProviderRegistry, given: { $case: P; value: ProviderTypes[P]['input'] }, channelType: string,
): ProviderTypes[P]['credentials'] {
  const adapter: ProviderAdapter<P> = registry[given.$case];
  if (!(adapter.channelTypes as readonly string[]).includes(channelType)) {
    throw new InvalidChannelError(given.$case, `credentials do not apply to a ${channelType} channel`);
  }
  return adapter.validateCredentials(given.value);
}

/** The `provider` a stored credentials JSON names (undefined when it names none). */
export function storedProvider(plaintext: string): string | undefined {
  const value: unknown = JSON.parse(plaintext);
  if (typeof value !== 'object' || value === null || !('provider' in value)) return undefined;
  return typeof value.provider === 'string' ? value.provider : undefined;
}
