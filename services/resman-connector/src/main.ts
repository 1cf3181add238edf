// Wiring only: config, telemetry (via --import), db, bus, grpc, consumers, shutdown.
import { base64Key32, z } from '@domiq/config';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { Platform } from '@domiq/runtime';
import { allowedTargetsConfig, OutboundGuard } from '@domiq/outbound';
import { DEV_ENCRYPTION_KEY, encryptionKeysConfig, SecretBox } from '@domiq/secrets';
import { CustomerLocks } from './db/customer-lock.ts';
import { database } from './db/resman-connector.database.ts';
import { messageCreatedHandler } from './events/message-created.consumer.ts';
import { resmanConnectorGrpcService } from './grpc/resman-connector.server.ts';
import { ResmanConnections } from './resman/resman.client.ts';

const platform = await Platform.start({
  name: 'resman-connector',
  config: {
    DOMIQ_ENCRYPTION_KEY: base64Key32(DEV_ENCRYPTION_KEY),
    DOMIQ_ENCRYPTION_KEYS: encryptionKeysConfig(),
    RESMAN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    DOMIQ_ALLOWED_TARGETS: allowedTargetsConfig(),
  },
  entities: database.entities,
  migrationsPath: database.migrationsPath,
});
const { config, logger } = platform;
const box = SecretBox.fromConfig(config);
const identity = platform.peerClient(IdentityServiceClient, 'identity');
const outbound = new OutboundGuard({ allowedTargets: config.DOMIQ_ALLOWED_TARGETS, connectTimeoutMs: config.RESMAN_TIMEOUT_MS });
platform.onStop(() => outbound.close());
const resman = new ResmanConnections({ timeoutMs: config.RESMAN_TIMEOUT_MS, outbound, logger: logger.child({ component: 'resman-client' }) });

await platform.serveGrpc([resmanConnectorGrpcService({ orm: platform.orm, identity: identity.client, box, outbound, logger })]);
// One extra PostgreSQL connection per process, holding the per-customer advisory locks (closed after the consumers stop).
const locks = new CustomerLocks({ databaseUrl: config.DATABASE_URL, logger: logger.child({ component: 'customer-locks' }) });
platform.onStop(() => locks.close());
await platform.consume([messageCreatedHandler({ orm: platform.orm, identity: identity.client, resman, box, logger, locks })]);
platform.ready();
