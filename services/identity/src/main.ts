// Wiring only: config, telemetry (via --import), db, bus, grpc, shutdown.
import { Platform } from '@domiq/runtime';
import { database } from './db/identity.database.ts';
import { identityGrpcService } from './grpc/identity.server.ts';

// `node src/main.ts` starts the service. Imported by anything else (scripts/compile-cache.ts, which fills Node's
// compile cache with every module's stripped source), it starts nothing.
if (import.meta.main) await main();

async function main(): Promise<void> {
  const platform = await Platform.start({
    name: 'identity',
    config: {},
    entities: database.entities,
    migrationsPath: database.migrationsPath,
  });
  await platform.serveGrpc([identityGrpcService(platform.orm)]);
  platform.ready();
}
