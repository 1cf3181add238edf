// Wiring only: config, telemetry (via --import), db, bus, grpc, consumers, shutdown.
import { base64Key32, grpcAddress, z } from '@domiq/config';
import { createClient } from '@domiq/grpc';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { Platform } from '@domiq/runtime';
import { DEV_ENCRYPTION_KEY, SecretBox } from '@domiq/secrets';
import { database } from './db/resman-connector.database.ts';
import { messageCreatedHandler } from './events/message-created.consumer.ts';
import { resmanConnectorGrpcService } from './grpc/resman-connector.server.ts';
import { ResmanConnections } from './resman/resman.client.ts';

const platform = await Platform.start({
  name: 'resman-connector',
  config: {
    IDENTITY_GRPC_ADDR: grpcAddress('127.0.0.1:50051'),
    DOMIQ_ENCRYPTION_KEY: base64Key32(DEV_ENCRYPTION_KEY),
    RESMAN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  },
  entities: database.entities,
  migrationsPath: database.migrationsPath,
  streams: ['RESMAN'],
  defaultGrpcPort: 50055,
  defaultOpsPort: 9105,
});
const { config, logger } = platform;
const box = new SecretBox(config.DOMIQ_ENCRYPTION_KEY);
const identity = createClient(IdentityServiceClient, config.IDENTITY_GRPC_ADDR);
platform.onStop(() => identity.close());
const resman = new ResmanConnections({ timeoutMs: config.RESMAN_TIMEOUT_MS, logger: logger.child({ component: 'resman-client' }) });

await platform.serveGrpc([resmanConnectorGrpcService({ orm: platform.orm, identity: identity.client, box, logger })]);
await platform.consume([messageCreatedHandler({ orm: platform.orm, identity: identity.client, resman, box, logger })]);
platform.ready();
