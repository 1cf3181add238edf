// Wiring only: config, telemetry (via --import), db, bus, grpc, shutdown.
import { grpcAddress } from '@domiq/config';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { Platform } from '@domiq/runtime';
import { database } from './db/conversations.database.ts';
import { conversationsGrpcService } from './grpc/conversations.server.ts';
import { messageReceivedConsumer } from './events/message-received.consumer.ts';

const platform = await Platform.start({
  name: 'conversations',
  config: { IDENTITY_GRPC_ADDR: grpcAddress('127.0.0.1:50051') },
  entities: database.entities,
  migrationsPath: database.migrationsPath,
  streams: ['CONVERSATIONS'],
  defaultGrpcPort: 50052,
  defaultOpsPort: 9102,
});
const identity = platform.peerClient(IdentityServiceClient, platform.config.IDENTITY_GRPC_ADDR);
await platform.serveGrpc([conversationsGrpcService(platform.orm)]);
await platform.consume([messageReceivedConsumer(identity.client)]);
platform.ready();
