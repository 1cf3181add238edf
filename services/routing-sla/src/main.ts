// Wiring only: config, telemetry (via --import), db, bus, grpc, consumers, shutdown.
import { Platform } from '@domiq/runtime';
import { database } from './db/routing-sla.database.ts';
import { routingSlaGrpcService } from './grpc/routing-sla.server.ts';
import { conversationCreatedConsumer } from './events/conversation-created.consumer.ts';
import { userCreatedConsumer } from './events/user-created.consumer.ts';

// `node src/main.ts` starts the service. Imported by anything else (scripts/compile-cache.ts, which fills Node's
// compile cache with every module's stripped source), it starts nothing.
if (import.meta.main) await main();

async function main(): Promise<void> {
  const platform = await Platform.start({
    name: 'routing-sla',
    config: {},
    entities: database.entities,
    migrationsPath: database.migrationsPath,
  });
  await platform.serveGrpc([routingSlaGrpcService(platform.orm)]);
  await platform.consume([userCreatedConsumer, conversationCreatedConsumer]);
  platform.ready();
}
