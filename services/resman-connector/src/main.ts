// Wiring only: config, telemetry (via --import), db, bus, grpc, consumers, shutdown.
import { base64Key32, grpcAddress, z } from '@domiq/config';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { Platform } from '@domiq/runtime';
import { allowedTargetsConfig, OutboundGuard } from '@domiq/outbound';
import { DEV_ENCRYPTION_KEY, encryptionKeysConfig, SecretBox } from '@domiq/secrets';
import { database } from './db/resman-connector.database.ts';
import { messageCreatedHandler } from './events/message-created.consumer.ts';
import { resmanConnectorGrpcService } from './grpc/resman-connector.server.ts';
import { ResmanConnections } from './resman/resman.client.ts';

const platform = await Platform.start({
  name: 'resman-connector',
  config: {
    IDENTITY_GRPC_ADDR: grpcAddress('127.0.0.1:50051'),
    DOMIQ_ENCRYPTION_KEY: base64Key32(DEV_ENCRYPTION_KEY),
    DOMIQ_ENCRYPTION_KEYS: encryptionKeysConfig(),
    RESMAN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    DOMIQ_ALLOWED_TARGETS: allowedTargetsConfig(),
  },
  entities: database.entities,
  migrationsPath: database.migrationsPath,
  streams: ['RESMAN'],
  defaultGrpcPort: 50055,
  defaultOpsPort: 9105,
});
const { config, logger } = platform;
const box = SecretBox.fromConfig(config);
const identity = platform.peerClient(IdentityServiceClient, config.IDENTITY_GRPC_ADDR);
const outbound = new OutboundGuard({ allowedTargets: config.DOMIQ_ALLOWED_TARGETS, connectTimeoutMs: config.RESMAN_TIMEOUT_MS });
platform.onStop(() => outbound.close());
const resman = new ResmanConnections({ timeoutMs: config.RESMAN_TIMEOUT_MS, outbound, logger: logger.child({ component: 'resman-client' }) });

await platform.serveGrpc([resmanConnectorGrpcService({ orm: platform.orm, identity: identity.client, box, outbound, logger })]);
await platform.consume([messageCreatedHandler({ orm: platform.orm, identity: identity.client, resman, box, logger })]);
platform.ready();
