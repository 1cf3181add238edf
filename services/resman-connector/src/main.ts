// Wiring only: config, telemetry (via --import), db, bus, grpc, consumers, the lead-sync queue worker, shutdown.
import { hostname } from 'node:os';
import { base64Key32, z } from '@domiq/config';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { inTransaction } from '@domiq/bus';
import { Platform } from '@domiq/runtime';
import { allowedTargetsConfig, OutboundGuard } from '@domiq/outbound';
import { DEV_ENCRYPTION_KEY, encryptionKeysConfig, SecretBox } from '@domiq/secrets';
import { archiveSyncHistory } from './app/archive-sync-history.ts';
import { pushQueuedRound } from './app/push-queued-leads.ts';
import { AdvisoryLocks } from './db/advisory-locks.ts';
import { database } from './db/resman-connector.database.ts';
import { messageCreatedHandler } from './events/message-created.consumer.ts';
import { resmanConnectorGrpcService } from './grpc/resman-connector.server.ts';
import { LeadSyncQueueRunner } from './queue/lead-sync-queue.runner.ts';
import { ResmanConnections } from './resman/resman.client.ts';

// `node src/main.ts` starts the service. Imported by anything else (scripts/compile-cache.ts, which fills Node's
// compile cache with every module's stripped source), it starts nothing.
if (import.meta.main) await main();

async function main(): Promise<void> {
  const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

  const platform = await Platform.start({
    name: 'resman-connector',
    config: {
      DOMIQ_ENCRYPTION_KEY: base64Key32(DEV_ENCRYPTION_KEY),
      DOMIQ_ENCRYPTION_KEYS: encryptionKeysConfig(),
      RESMAN_TIMEOUT_MS: ms(10_000),
      // Tries of one ResMan call within a push (the queue retries the push itself later).
      RESMAN_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
      // How long an account's circuit stays open after consecutive failures (pushes meanwhile wait, spending no retry).
      RESMAN_BREAKER_HALF_OPEN_MS: ms(10_000),
      DOMIQ_ALLOWED_TARGETS: allowedTargetsConfig(),
      // The lead-sync queue worker: push rounds in flight per process (each to another ResMan account; 0: this process
      // only queues), the backstop poll, messages per push, customers per round, and the retries of a failed push
      // (exponential with jitter).
      LEAD_SYNC_WORKERS: z.coerce.number().int().min(0).max(64).default(4),
      LEAD_SYNC_POLL_MS: ms(1_000),
      LEAD_SYNC_MAX_MESSAGES_PER_PUSH: z.coerce.number().int().min(1).max(100).default(25),
      LEAD_SYNC_GROUPS_PER_ROUND: z.coerce.number().int().min(1).max(100).default(20),
      LEAD_SYNC_MAX_RETRIES: z.coerce.number().int().min(0).max(1000).default(12),
      LEAD_SYNC_RETRY_INITIAL_MS: ms(1_000),
      LEAD_SYNC_RETRY_MAX_MS: ms(300_000),
      // How long a claimed push holds without its worker renewing it (a dead worker's rows are taken back after it).
      // Default three ResMan timeouts; at least two, so a dead worker's last request is answered before anyone retries.
      LEAD_SYNC_LEASE_MS: z.coerce.number().int().positive().optional(),
      // How often the seed's archive functions run (old sync logs, resolved conflicts, finished queue rows); 0: never.
      RESMAN_ARCHIVE_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
    },
    entities: database.entities,
    migrationsPath: database.migrationsPath,
  });
  const { config, logger } = platform;
  const leaseMs = config.LEAD_SYNC_LEASE_MS ?? 3 * config.RESMAN_TIMEOUT_MS;
  if (leaseMs < 2 * config.RESMAN_TIMEOUT_MS) {
    process.stderr.write(`resman-connector: invalid configuration: LEAD_SYNC_LEASE_MS (${leaseMs}) must be at least twice RESMAN_TIMEOUT_MS (${config.RESMAN_TIMEOUT_MS})\n`);
    process.exit(78);
  }

  // Stop hooks run in order: the worker first (its pushes in flight finish), while its lock connection, identity
  // and ResMan connections are still open.
  let worker: LeadSyncQueueRunner | undefined;
  platform.onStop(() => worker?.stop());
  // One extra PostgreSQL connection per process: the ResMan-account advisory locks, and the queue's LISTEN.
  const locks = new AdvisoryLocks({
    databaseUrl: config.DATABASE_URL, namespace: 'domiq:resman-connector:resman-account:', applicationName: 'resman-connector lead-sync queue',
    logger: logger.child({ component: 'advisory-locks' }),
  });
  platform.onStop(() => locks.close());
  const box = SecretBox.fromConfig(config);
  const identity = platform.peerClient(IdentityServiceClient, 'identity');
  const outbound = new OutboundGuard({ allowedTargets: config.DOMIQ_ALLOWED_TARGETS, connectTimeoutMs: config.RESMAN_TIMEOUT_MS });
  platform.onStop(() => outbound.close());
  const resman = new ResmanConnections({
    timeoutMs: config.RESMAN_TIMEOUT_MS, maxAttempts: config.RESMAN_MAX_ATTEMPTS, breakerHalfOpenMs: config.RESMAN_BREAKER_HALF_OPEN_MS,
    outbound, logger: logger.child({ component: 'resman-client' }),
  });

  await platform.serveGrpc([resmanConnectorGrpcService({ orm: platform.orm, identity: identity.client, box, outbound, logger })]);
  await platform.consume([messageCreatedHandler({ maxRetries: config.LEAD_SYNC_MAX_RETRIES })]);
  const deps = {
    orm: platform.orm, identity: identity.client, resman, box,
    worker: `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`,
    retry: { initialDelayMs: config.LEAD_SYNC_RETRY_INITIAL_MS, maxDelayMs: config.LEAD_SYNC_RETRY_MAX_MS },
    maxMessagesPerPush: config.LEAD_SYNC_MAX_MESSAGES_PER_PUSH, leaseMs,
  };
  worker = new LeadSyncQueueRunner({
    orm: platform.orm, locks, logger: logger.child({ component: 'lead-sync-queue' }), workers: config.LEAD_SYNC_WORKERS, pollMs: config.LEAD_SYNC_POLL_MS, leaseMs,
    groupsPerRound: config.LEAD_SYNC_GROUPS_PER_ROUND,
    push: (groups, accountKey, log) => pushQueuedRound(deps, groups, accountKey, log),
  });
  await worker.start();

  if (config.RESMAN_ARCHIVE_INTERVAL_MS > 0) {
    const archiveLog = logger.child({ component: 'archive' });
    const archive = () => inTransaction(platform.orm, { actorType: 'system' }, ({ em }) => archiveSyncHistory(em))
      .then((ran) => archiveLog.debug({ ran }, 'sync history archived'))
      .catch((err: unknown) => archiveLog.warn({ err: String(err) }, 'archiving the sync history failed; the next run tries again'));
    const timer = setInterval(() => void archive(), config.RESMAN_ARCHIVE_INTERVAL_MS);
    timer.unref();
    platform.onStop(() => clearInterval(timer));
  }
  platform.ready({ lead_sync_workers: config.LEAD_SYNC_WORKERS });
}
