// Wiring only: config, telemetry (via --import), db, bus, grpc, consumers, shutdown.
import { Platform } from '@domiq/runtime';
import { database } from './db/resolutions.database.ts';
import { resolutionsGrpcService } from './grpc/resolutions.server.ts';
import { conversationEscalatedConsumer } from './events/conversation-escalated.consumer.ts';

// `node src/main.ts` starts the service. Imported by anything else (scripts/compile-cache.ts, which fills Node's
// compile cache with every module's stripped source), it starts nothing.
if (import.meta.main) await main();

async function main(): Promise<void> {
  const platform = await Platform.start({
    name: 'resolutions',
    config: {},
    entities: database.entities,
    migrationsPath: database.migrationsPath,
  });
  await platform.serveGrpc([resolutionsGrpcService(platform.orm)]);
  await platform.consume([conversationEscalatedConsumer]);
  platform.ready();
}
