// Wiring only: config, telemetry (via --import), db, bus, grpc, shutdown.
import { IdentityServiceClient } from '@domiq/proto/identity';
import { Platform } from '@domiq/runtime';
import { database } from './db/conversations.database.ts';
import { conversationsGrpcService } from './grpc/conversations.server.ts';
import { messageReceivedConsumer } from './events/message-received.consumer.ts';

const platform = await Platform.start({
  name: 'conversations',
  config: {},
  entities: database.entities,
  migrationsPath: database.migrationsPath,
});
const identity = platform.peerClient(IdentityServiceClient, 'identity');
await platform.serveGrpc([conversationsGrpcService(platform.orm)]);
await platform.consume([messageReceivedConsumer(identity.client)]);
platform.ready();
