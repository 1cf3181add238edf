// Wiring only: config, telemetry (via --import), db, bus, grpc, public webhook HTTP, shutdown.
import { base64Key32, port, url, z } from '@domiq/config';
import { Platform } from '@domiq/runtime';
import { DEV_ENCRYPTION_KEY, encryptionKeysConfig, SecretBox } from '@domiq/secrets';
import { database } from './db/channel-gateway.database.ts';
import { ChannelDirectory } from './db/channel-directory.ts';
import { channelGatewayGrpcService } from './grpc/channel-gateway.server.ts';
import { createInboundCommitter, createReceiptRecorder, createWebhookServer } from './http/webhook.http.ts';
import { OutboundGuard, allowedTargetsConfig } from '@domiq/outbound';
import { replyRequestedConsumer } from './events/reply-requested.consumer.ts';
import { customerDataErasedConsumer } from './events/customer-data-erased.consumer.ts';
import { OutboundDeliveryRunner } from './queue/outbound-delivery.runner.ts';
import { WebhookRateLimiter } from './http/webhook-rate-limit.ts';
import { createProviderRegistry } from './providers/registry.ts';

// `node src/main.ts` starts the service. Imported by anything else (scripts/compile-cache.ts, which fills Node's
// compile cache with every module's stripped source), it starts nothing.
if (import.meta.main) await main();

async function main(): Promise<void> {
  const platform = await Platform.start({
    name: 'channel-gateway',
    config: {
      HTTP_PORT: port(8080),
      PUBLIC_BASE_URL: url(['http', 'https']).default('http://127.0.0.1:8080'),
      DOMIQ_ENCRYPTION_KEY: base64Key32(DEV_ENCRYPTION_KEY),
      DOMIQ_ENCRYPTION_KEYS: encryptionKeysConfig(),
      // Webhook requests per minute (in memory, so per replica; see http/webhook-rate-limit.ts): per client address
      // (generous: providers send every tenant's webhooks from a few shared addresses), failed ones (4xx) per client
      // address (strict: unknown keys, bad or missing signatures, malformed requests), verified ones per channel key.
      WEBHOOK_RATE_LIMIT_PER_SOURCE: z.coerce.number().int().min(1).default(6000),
      WEBHOOK_FAILURE_LIMIT_PER_SOURCE: z.coerce.number().int().min(1).default(60),
      WEBHOOK_RATE_LIMIT_PER_CHANNEL: z.coerce.number().int().min(1).default(6000),
      // Group commit of verified inbound webhooks (http/group-commit.ts): up to MAX_SIZE messages, or whatever was
      // queued MAX_WAIT_MS after the first, in one transaction (one commit, one fsync); at most CONCURRENCY groups
      // committing at once, each holding one of the DB_POOL_MAX connections (keep it well below that).
      WEBHOOK_GROUP_COMMIT_MAX_SIZE: z.coerce.number().int().min(1).max(500).default(50),
      WEBHOOK_GROUP_COMMIT_MAX_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(2),
      WEBHOOK_GROUP_COMMIT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
      // Reverse proxies in front that append to X-Forwarded-For; 0 ignores the header (anyone can send it).
      TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
      // Replies (queue/outbound-delivery.runner.ts): Twilio's REST API (the simulator's URL in tests and `npm start`;
      // an http or private address must also be in DOMIQ_ALLOWED_TARGETS), per-request timeout, attempts in flight per
      // process, attempts before a reply fails, backoff between them, the claim's lease (longer than two requests).
      TWILIO_API_BASE_URL: url(['http', 'https']).default('https://api.twilio.com'),
      DOMIQ_ALLOWED_TARGETS: allowedTargetsConfig(),
      OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
      OUTBOUND_WORKERS: z.coerce.number().int().min(0).max(64).default(8),
      OUTBOUND_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
      OUTBOUND_RETRY_INITIAL_MS: z.coerce.number().int().min(10).default(1000),
      OUTBOUND_RETRY_MAX_MS: z.coerce.number().int().min(10).default(300_000),
      OUTBOUND_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
      OUTBOUND_POLL_MS: z.coerce.number().int().min(10).default(1000),
    },
    entities: database.entities,
    migrationsPath: database.migrationsPath,
  });
  const { config, logger } = platform;
  const box = SecretBox.fromConfig(config);
  const channels = new ChannelDirectory(platform.orm, box);
  // A claim must outlive its attempt (a look-up and a send, each up to the timeout), or a second worker would take a
  // live attempt over and could send the reply again.
  if (config.OUTBOUND_LEASE_MS < 2 * config.OUTBOUND_TIMEOUT_MS + 1000) {
    logger.fatal({ OUTBOUND_LEASE_MS: config.OUTBOUND_LEASE_MS, OUTBOUND_TIMEOUT_MS: config.OUTBOUND_TIMEOUT_MS }, 'OUTBOUND_LEASE_MS must be at least 2 x OUTBOUND_TIMEOUT_MS + 1000');
    process.exit(78);
  }
  const outboundHttp = new OutboundGuard({ allowedTargets: config.DOMIQ_ALLOWED_TARGETS, connectTimeoutMs: config.OUTBOUND_TIMEOUT_MS });
  const providers = createProviderRegistry({ twilio: { apiBaseUrl: config.TWILIO_API_BASE_URL, http: outboundHttp, timeoutMs: config.OUTBOUND_TIMEOUT_MS } });
  await platform.serveGrpc([channelGatewayGrpcService(platform.orm, box, channels, providers, logger)]);
  const rateLimiter = new WebhookRateLimiter({
    perSourcePerMinute: config.WEBHOOK_RATE_LIMIT_PER_SOURCE,
    failuresPerSourcePerMinute: config.WEBHOOK_FAILURE_LIMIT_PER_SOURCE,
    perChannelPerMinute: config.WEBHOOK_RATE_LIMIT_PER_CHANNEL,
    trustProxyHops: config.TRUST_PROXY_HOPS,
  });
  const inbound = createInboundCommitter(platform.orm, {
    maxSize: config.WEBHOOK_GROUP_COMMIT_MAX_SIZE,
    maxWaitMs: config.WEBHOOK_GROUP_COMMIT_MAX_WAIT_MS,
    maxInFlight: config.WEBHOOK_GROUP_COMMIT_CONCURRENCY,
  });
  const http = createWebhookServer({ logger, channels, providers, publicBaseUrl: config.PUBLIC_BASE_URL, rateLimiter, inbound, receipts: createReceiptRecorder(platform.orm) });
  const runner = new OutboundDeliveryRunner({
    orm: platform.orm, databaseUrl: config.DATABASE_URL, logger, workers: config.OUTBOUND_WORKERS, leaseMs: config.OUTBOUND_LEASE_MS, pollMs: config.OUTBOUND_POLL_MS,
    deps: {
      orm: platform.orm, channels, providers, publicBaseUrl: config.PUBLIC_BASE_URL, maxAttempts: config.OUTBOUND_MAX_ATTEMPTS, logger, timeoutMs: config.OUTBOUND_TIMEOUT_MS,
      backoff: { initialDelayMs: config.OUTBOUND_RETRY_INITIAL_MS, maxDelayMs: config.OUTBOUND_RETRY_MAX_MS },
    },
  });
  await platform.consume([replyRequestedConsumer(), customerDataErasedConsumer()]);
  runner.start();
  // Before the ORM closes: attempts in flight record their outcome (or their lease runs out for the next claimer).
  platform.onStop(async () => {
    await runner.stop();
    await outboundHttp.close();
  });
  platform.trackHttp(http);
  // Shutdown stops the webhook server (which waits for the requests in flight) before these hooks run; this commits
  // anything still queued, before the outbox's last flush and the ORM closing.
  platform.onStop(() => inbound.close());
  const httpPort = await new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.HTTP_PORT, config.BIND_HOST, () => {
      http.off('error', reject);
      const address = http.address();
      resolve(typeof address === 'object' && address ? address.port : config.HTTP_PORT);
    });
  });
  platform.ready({ http_port: httpPort, public_base_url: config.PUBLIC_BASE_URL });
}
