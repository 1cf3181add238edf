// Wiring only: config, telemetry (via --import), db, bus, grpc, shutdown.
import { Platform } from '@domiq/runtime';
import { database } from './db/identity.database.ts';
import { identityGrpcService } from './grpc/identity.server.ts';

const platform = await Platform.start({
  name: 'identity',
  config: {},
  entities: database.entities,
  migrationsPath: database.migrationsPath,
});
await platform.serveGrpc([identityGrpcService(platform.orm)]);
platform.ready();
