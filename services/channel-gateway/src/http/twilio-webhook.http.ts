import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { MikroORM } from '@domiq/db';
import type { Logger } from '@domiq/logging';
import type { ChannelDirectory } from '../db/channel-directory.ts';
import { verifyTwilioSignature } from '@domiq/webhook-signatures';
import { recordInbound } from '../db/inbound-message.repository.ts';
import { isChannelKey, parseTwilioCredentials } from '../domain/channel.ts';
import { EMPTY_TWIML, InvalidInboundError, parseFormBody, validateTwilioInbound } from '../domain/twilio-inbound.ts';
import { sendTooManyRequests, type RateLimitRefusal, type WebhookRateLimiter } from './webhook-rate-limit.ts';

export const MAX_BODY_BYTES = 64 * 1024;
const ROUTE = /^\/webhooks\/twilio\/([^/?#]+)$/;

export interface TwilioWebhookOptions {
  orm: MikroORM;
  logger: Logger;
  channels: ChannelDirectory;
  /** Scheme, host (and any path prefix) Twilio posts to; the signed URL is this plus the request path and query. */
  publicBaseUrl: string;
  /**
   * Per-source limits (all requests, and failed ones) checked before the body is read and before any database
   * work; the per-channel limit charged once the signature has verified. See webhook-rate-limit.ts.
   */
  rateLimiter: WebhookRateLimiter;
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

function isFormEncoded(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/x-www-form-urlencoded';
}

/**
 * Twilio's inbound SMS webhook, `POST /webhooks/twilio/{channelKey}`: checks the request, verifies
 * X-Twilio-Signature with the channel's auth token, stores the message once and publishes it once, and answers
 * with empty TwiML (a duplicate gets the same answer, so Twilio stops retrying).
 */
export function createTwilioWebhookServer(opts: TwilioWebhookOptions): Server {
  const { orm, logger, channels, rateLimiter } = opts;
  const base = opts.publicBaseUrl.replace(/\/+$/, '');

  /**
   * `admitted.source`: the source key the request counts under, from when it passes the per-source limits until
   * its signature verifies (an HttpError in between is charged to that source's failure budget).
   */
  async function handle(req: IncomingMessage, res: ServerResponse, admitted: { source?: string }): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const match = ROUTE.exec(path);
    if (!match) throw new HttpError(404, 'not found');
    // Per-source limits first: before the body is read, any database work, and the signature check.
    const bySource = await rateLimiter.checkSource(req);
    if (!bySource.allowed) throw new RateLimitedError(bySource);
    admitted.source = bySource.source;
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed', undefined, { allow: 'POST' });
    if (!isFormEncoded(req.headers['content-type'])) throw new HttpError(415, 'content type must be application/x-www-form-urlencoded');
    let channelKey: string;
    try {
      channelKey = decodeURIComponent(match[1]!);
    } catch {
      throw new HttpError(404, 'unknown channel');
    }
    if (!isChannelKey(channelKey)) throw new HttpError(404, 'unknown channel');
    const raw = await readBody(req, MAX_BODY_BYTES);

    let params;
    let sms;
    try {
      params = parseFormBody(raw);
      sms = validateTwilioInbound(params);
    } catch (err) {
      if (err instanceof InvalidInboundError) throw new HttpError(400, err.message, err.field);
      throw err;
    }

    const resolved = await channels.byKey(channelKey);
    const channel = resolved?.channel;
    if (!channel || channel.type !== 'sms') throw new HttpError(404, 'unknown channel');
    if (channel.status === 'inactive') throw new HttpError(410, 'channel is inactive');
    if (!resolved.credentials) {
      logger.warn({ channel_key: channelKey }, 'twilio webhook for a channel without credentials');
      throw new HttpError(403, 'signature cannot be verified');
    }
    const credentials = parseTwilioCredentials(resolved.credentials);
    const url = base + (req.url ?? '');
    const signature = req.headers['x-twilio-signature'];
    if (!verifyTwilioSignature(credentials.auth_token, url, params, typeof signature === 'string' ? signature : undefined)) {
      logger.warn({ channel_key: channelKey, message_sid: sms.messageSid, signature_present: typeof signature === 'string' }, 'twilio webhook signature rejected');
      throw new HttpError(403, 'invalid signature');
    }
    // Authentic: credit for the source, and only now the channel's budget is charged, so requests without the
    // channel's auth token cannot spend it.
    admitted.source = undefined;
    await rateLimiter.verified(bySource.source);
    const byChannel = await rateLimiter.checkChannel('twilio', channelKey);
    if (!byChannel.allowed) throw new RateLimitedError(byChannel);
    if (sms.accountSid !== credentials.account_sid) {
      logger.warn({ channel_key: channelKey, message_sid: sms.messageSid }, 'twilio webhook from another Twilio account');
      throw new HttpError(403, 'AccountSid does not match the channel', 'AccountSid');
    }

    const result = await recordInbound(orm.em.fork({ clear: true }), {
      accountId: channel.accountId,
      propertyId: channel.propertyId,
      channelId: channel.id,
      channelType: channel.type,
      provider: 'twilio',
      providerMessageId: sms.messageSid,
      fromAddress: sms.from,
      toAddress: sms.to,
      body: sms.body,
      senderName: '',
      raw: params,
    });
    logger.info({ channel_key: channelKey, message_sid: sms.messageSid, inbound_id: result.inserted ? result.id : undefined, duplicate: !result.inserted }, 'twilio message received');
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': Buffer.byteLength(EMPTY_TWIML) });
    res.end(EMPTY_TWIML);
  }

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
      logger.error({ err, path: (req.url ?? '').split('?')[0] }, 'twilio webhook failed');
      // Our failure, not the client's: not charged to its source (a database outage must not lock Twilio out after).
      sendJson(res, 500, { error: 'internal error' });
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}
