import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { inTransaction, type EventActor } from '@domiq/bus';
import type { MikroORM } from '@domiq/db';
import type { Logger } from '@domiq/logging';
import { Counter } from 'prom-client';
import { acceptInboundMessages, type AcceptedInboundMessage, type AcceptInboundMessageInput } from '../app/accept-inbound-messages.ts';
import { recordReceipts, type ReceiptsOutcome } from '../app/record-receipts.ts';
import type { ChannelDirectory } from '../db/channel-directory.ts';
import { isDatabaseUnavailable } from '../db/database-errors.ts';
import { isChannelKey } from '../domain/channel.ts';
import {
  InvalidInboundError, isProviderId, storedProvider, type DeliveryReceipt, type ProviderAdapter, type ProviderInboundMessage, type ProviderRegistry,
  type WebhookReply, type WebhookRequest,
} from '../providers/provider.ts';
import { GroupCommitClosedError, GroupCommitter, type GroupCommitFn, type GroupCommitOptions } from './group-commit.ts';
import { sendTooManyRequests, type RateLimitRefusal, type WebhookRateLimiter } from './webhook-rate-limit.ts';

export const MAX_BODY_BYTES = 64 * 1024;
/** `/webhooks/<provider>/<channel_key>` (inbound messages) and `.../status` (delivery receipts). */
const ROUTE = /^\/webhooks\/([^/?#]+)\/([^/?#]+)(\/status)?$/;

// A provider's webhook is nobody's in DomIQ: the events it causes are the system's.
const PROVIDER_WEBHOOK: EventActor = { actorType: 'system', actorId: null };

const receiptsReceived = new Counter({
  name: 'domiq_delivery_receipts_total',
  help: 'Verified provider delivery receipts (status callbacks), by provider and neutral status (duplicates included)',
  labelNames: ['provider', 'status'],
});

/** Stores a verified status webhook's receipts and publishes those of known replies (app/record-receipts.ts). */
export type ReceiptRecorder = (channel: { accountId: string; channelId: string }, adapter: ProviderAdapter, receipts: readonly DeliveryReceipt[]) => Promise<ReceiptsOutcome>;

export function createReceiptRecorder(orm: MikroORM): ReceiptRecorder {
  return (channel, adapter, receipts) => inTransaction(orm, PROVIDER_WEBHOOK, (uow) => recordReceipts(uow, channel, adapter, receipts));
}

/** Verified inbound messages, committed in groups (one transaction for many concurrent webhooks). */
export type InboundCommitter = GroupCommitter<Omit<AcceptInboundMessageInput, 'emit'>, AcceptedInboundMessage>;

/**
 * The webhook server's group commit: each group is one transaction (`acceptInboundMessages`: one multi-row insert,
 * one event per stored message, each event emitted in its own request's context so it carries that request's
 * trace). The group's statements run in its first member's context. A failed group is split to isolate the
 * member at fault, unless the database itself is unavailable. `close()` it on shutdown, before the ORM closes.
 */
export function createInboundCommitter(orm: MikroORM, opts: GroupCommitOptions): InboundCommitter {
  const commit: GroupCommitFn<Omit<AcceptInboundMessageInput, 'emit'>, AcceptedInboundMessage> = (members) =>
    members[0]!.inContext(() => inTransaction(orm, PROVIDER_WEBHOOK, (uow) => acceptInboundMessages(uow, members.map((m) => ({
      ...m.item,
      emit: (contract, payload, o) => m.inContext(() => uow.emit(contract, payload, o)),
    })))));
  return new GroupCommitter('webhook-inbound', opts, commit, (err) => !isDatabaseUnavailable(err));
}

export interface WebhookServerOptions {
  logger: Logger;
  channels: ChannelDirectory;
  /** The providers whose webhooks are accepted, by the id in the URL. */
  providers: ProviderRegistry;
  /** Scheme, host (and any path prefix) providers post to; the signed URL is this plus the request path and query. */
  publicBaseUrl: string;
  /**
   * Per-source limits (all requests, and failed ones) checked before the body is read and before any database
   * work; the per-channel limit charged once the signature has verified. See webhook-rate-limit.ts.
   */
  rateLimiter: WebhookRateLimiter;
  /**
   * Where verified inbound messages go: each request is answered once every message of it has committed (its
   * group's transaction), with the provider's answer for a stored message and for a duplicate alike.
   */
  inbound: InboundCommitter;
  /** Where verified delivery receipts go; the request is answered once they are stored. */
  receipts: ReceiptRecorder;
}

/** Answered with 429 and Retry-After by the server's error path. */
class RateLimitedError extends Error {
  readonly decision: RateLimitRefusal;
  constructor(decision: RateLimitRefusal) {
    super(`rate limited (${decision.scope})`);
    this.decision = decision;
  }
}

/** A 4xx answer; charged to the source's failure budget when it was admitted. */
class HttpError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, field?: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.field = field;
    this.headers = headers;
  }
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `body exceeds ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      reject(new HttpError(413, `body exceeds ${limit} bytes`));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * After an early answer, reads (and drops) what the client is still sending so it sees the answer rather than a
 * reset, but only up to a bound: past it the connection is cut.
 */
function discardRest(req: IncomingMessage, bound = 1024 * 1024): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > bound) req.socket.destroy();
  });
  req.resume();
}

function hasMediaType(contentType: string | undefined, mediaType: string): boolean {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return media === mediaType;
}

function sendReply(res: ServerResponse, reply: WebhookReply): void {
  res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

/** Payload problems are the sender's: 400 naming the field. */
function parsed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InvalidInboundError) throw new HttpError(400, err.message, err.field);
    throw err;
  }
}

type Parsed = { kind: 'inbound'; items: ProviderInboundMessage[] } | { kind: 'receipt'; items: DeliveryReceipt[] };

/**
 * Every provider's webhooks: `POST /webhooks/{provider}/{channelKey}` (inbound messages: stored once, published
 * once) and `POST /webhooks/{provider}/{channelKey}/status` (delivery receipts: stored once, published as delivery
 * updates of the replies they are about). Checks the request, verifies the provider's signature with the channel's credentials, and answers what
 * the provider expects (a duplicate gets the same answer, so the provider stops retrying).
 */
export function createWebhookServer(opts: WebhookServerOptions): Server {
  const { logger, channels, rateLimiter, providers, inbound, receipts } = opts;
  const base = opts.publicBaseUrl.replace(/\/+$/, '');

  /**
   * `admitted.source`: the source key the request counts under, from when it passes the per-source limits until
   * its signature verifies (an HttpError in between is charged to that source's failure budget).
   */
  async function handle(req: IncomingMessage, res: ServerResponse, admitted: { source?: string }): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const match = ROUTE.exec(path);
    const providerId = match?.[1];
    if (!match || providerId === undefined || !isProviderId(providers, providerId)) throw new HttpError(404, 'not found');
    // Widened to the interface every adapter implements (its credentials come from its own parseCredentials).
    const adapter: ProviderAdapter = providers[providerId];
    const kind = match[3] ? 'receipt' : 'inbound';
    // Per-source limits first: before the body is read, any database work, and the signature check.
    const bySource = await rateLimiter.checkSource(req);
    if (!bySource.allowed) throw new RateLimitedError(bySource);
    admitted.source = bySource.source;
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed', undefined, { allow: 'POST' });
    if (!hasMediaType(req.headers['content-type'], adapter.mediaType)) throw new HttpError(415, `content type must be ${adapter.mediaType}`);
    let channelKey: string;
    try {
      channelKey = decodeURIComponent(match[2]!);
    } catch {
      throw new HttpError(404, 'unknown channel');
    }
    if (!isChannelKey(channelKey)) throw new HttpError(404, 'unknown channel');
    const request: WebhookRequest = { url: req.url ?? '/', headers: req.headers, body: await readBody(req, MAX_BODY_BYTES) };
    const payload: Parsed = kind === 'inbound'
      ? { kind, items: parsed(() => adapter.parseInbound(request)) }
      : { kind, items: parsed(() => adapter.parseReceipt(request)) };

    const resolved = await channels.byKey(channelKey);
    const channel = resolved?.channel;
    if (!channel || !(adapter.channelTypes as readonly string[]).includes(channel.type)) throw new HttpError(404, 'unknown channel');
    if (channel.status === 'inactive') throw new HttpError(410, 'channel is inactive');
    if (!resolved.credentials) {
      logger.warn({ provider: adapter.id, channel_key: channelKey }, 'webhook for a channel without credentials');
      throw new HttpError(403, 'signature cannot be verified');
    }
    // A channel set up with another provider's credentials is not this provider's channel.
    if (storedProvider(resolved.credentials) !== adapter.id) throw new HttpError(404, 'unknown channel');
    const credentials = adapter.parseCredentials(resolved.credentials);
    const firstId = payload.items[0]?.providerMessageId;
    if (!adapter.verify(request, credentials, base + request.url)) {
      logger.warn({ provider: adapter.id, channel_key: channelKey, provider_message_id: firstId }, 'webhook signature rejected');
      throw new HttpError(403, 'invalid signature');
    }
    // Authentic: credit for the source, and only now the channel's budget is charged, so requests without the
    // channel's credentials cannot spend it. Receipts have their own budget: a burst of them cannot starve inbound.
    admitted.source = undefined;
    await rateLimiter.verified(bySource.source);
    const byChannel = await rateLimiter.checkChannel(kind === 'inbound' ? adapter.id : `${adapter.id}/status`, channelKey);
    if (!byChannel.allowed) throw new RateLimitedError(byChannel);
    const account = adapter.accountOf(credentials);
    for (const item of payload.items) {
      if (item.providerAccount && item.providerAccount.value !== account) {
        logger.warn({ provider: adapter.id, channel_key: channelKey, provider_message_id: item.providerMessageId }, 'webhook from another provider account');
        throw new HttpError(403, `${item.providerAccount.field} does not match the channel`, item.providerAccount.field);
      }
    }

    if (payload.kind === 'receipt') {
      // Stored (once) before the answer: a provider that gets no 2xx may send it again, which changes nothing.
      const outcome = await receipts({ accountId: channel.accountId, channelId: channel.id }, adapter, payload.items);
      for (const receipt of payload.items) {
        receiptsReceived.inc({ provider: adapter.id, status: receipt.status });
        logger.info({
          provider: adapter.id, channel_key: channelKey, channel_id: channel.id, provider_message_id: receipt.providerMessageId,
          status: receipt.status, provider_status: receipt.providerStatus, error_code: receipt.errorCode, stored: outcome.stored, applied: outcome.applied,
        }, 'delivery receipt received');
      }
      sendReply(res, adapter.reply.receipt);
      return;
    }
    // Queued for the next group transaction; answered only once every message of the request is durable.
    const accepted = await Promise.allSettled(payload.items.map((message) => inbound.submit({ channel, provider: adapter.id, message })));
    accepted.forEach((result, i) => {
      if (result.status !== 'fulfilled') return;
      logger.info({
        provider: adapter.id, channel_key: channelKey, provider_message_id: payload.items[i]!.providerMessageId,
        inbound_id: result.value.duplicate ? undefined : result.value.inboundId, duplicate: result.value.duplicate,
      }, 'webhook message received');
    });
    const failed = accepted.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    sendReply(res, adapter.reply.inbound);
  }

  // process.getBuiltinModule, not an ES import of node:http (which loads Node's bundled undici: ops.server.ts says why).
  const { createServer } = process.getBuiltinModule('node:http');
  const server = createServer((req, res) => {
    const admitted: { source?: string } = {};
    handle(req, res, admitted).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof RateLimitedError) {
        // One line per limited key and window, not one per refused request.
        if (err.decision.firstInWindow) logger.warn({ scope: err.decision.scope, key: err.decision.key, retry_after_s: err.decision.retryAfterSeconds }, 'webhook rate limit reached');
        sendTooManyRequests(res, err.decision);
        if (!req.complete) discardRest(req);
        return;
      }
      if (err instanceof HttpError) {
        // Charged before the answer goes out, so the client's next request already sees it.
        if (admitted.source !== undefined) {
          rateLimiter.failed(admitted.source).catch((chargeErr: unknown) => logger.error({ err: chargeErr }, 'webhook failure budget not charged'));
        }
        sendJson(res, err.status, err.field ? { error: err.message, field: err.field } : { error: err.message }, err.headers);
        // Closing on an unread body would reset a client that is still sending it (EPIPE instead of our answer).
        if (!req.complete) discardRest(req);
        return;
      }
      if (err instanceof GroupCommitClosedError) {
        // Verified after shutdown began (the server waits for requests in flight, so this is rare): the provider retries.
        sendJson(res, 503, { error: 'shutting down' }, { 'retry-after': '1' });
        return;
      }
      logger.error({ err, path: (req.url ?? '').split('?')[0] }, 'webhook failed');
      // Our failure, not the client's: not charged to its source (a database outage must not lock a provider out after).
      sendJson(res, 500, { error: 'internal error' });
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}
