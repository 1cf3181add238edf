// Wiring only: config, telemetry (via --import), db, bus, grpc, shutdown.
import { IdentityServiceClient } from '@domiq/proto/identity';
import { Platform } from '@domiq/runtime';
import { database } from './db/conversations.database.ts';
import { conversationsGrpcService } from './grpc/conversations.server.ts';
import { messageReceivedConsumer } from './events/message-received.consumer.ts';
import { deliveryUpdatedConsumer } from './events/delivery-updated.consumer.ts';
import { customerMergedConsumer, customerUnmergedConsumer } from './events/customer-merges.consumer.ts';
import { customerErasedConsumer } from './events/customer-erased.consumer.ts';
import { messageAnnotateConsumer } from './events/message-annotate.consumer.ts';
import { consentChangedConsumer } from './events/consent-changed.consumer.ts';
import { createAnnotator } from '@domiq/annotator';

// `node src/main.ts` starts the service. Imported by anything else (scripts/compile-cache.ts, which fills Node's
// compile cache with every module's stripped source), it starts nothing.
if (import.meta.main) await main();

async function main(): Promise<void> {
  const platform = await Platform.start({
    name: 'conversations',
    config: {},
    entities: database.entities,
    migrationsPath: database.migrationsPath,
  });
  const identity = platform.peerClient(IdentityServiceClient, 'identity');
  await platform.serveGrpc([conversationsGrpcService(platform.orm)]);
  await platform.consume([
    messageReceivedConsumer(identity.client), deliveryUpdatedConsumer(), customerMergedConsumer(), customerUnmergedConsumer(), customerErasedConsumer(),
    // The default annotator: offline, in-process (packages/annotator); one instance (and one NLP model) per process.
    messageAnnotateConsumer(createAnnotator()), consentChangedConsumer(),
  ]);
  platform.ready();
}
