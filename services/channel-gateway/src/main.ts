// Wiring only: config, telemetry (via --import), db, bus, grpc, public webhook HTTP, shutdown.
import { base64Key32, port, url } from '@domiq/config';
import { Platform } from '@domiq/runtime';
import { DEV_ENCRYPTION_KEY, SecretBox } from '@domiq/secrets';
import { database } from './db/channel-gateway.database.ts';
import { ChannelDirectory } from './db/channel-directory.ts';
import { channelGatewayGrpcService } from './grpc/channel-gateway.server.ts';
import { createTwilioWebhookServer } from './http/twilio-webhook.http.ts';

const platform = await Platform.start({
  name: 'channel-gateway',
  config: {
    HTTP_PORT: port(8080),
    PUBLIC_BASE_URL: url(['http', 'https']).default('http://127.0.0.1:8080'),
    DOMIQ_ENCRYPTION_KEY: base64Key32(DEV_ENCRYPTION_KEY),
  },
  entities: database.entities,
  migrationsPath: database.migrationsPath,
  streams: ['GATEWAY'],
  defaultGrpcPort: 50056,
  defaultOpsPort: 9106,
});
const { config, logger } = platform;
const box = new SecretBox(config.DOMIQ_ENCRYPTION_KEY);
const channels = new ChannelDirectory(platform.orm, box);
await platform.serveGrpc([channelGatewayGrpcService(platform.orm, box, channels, logger)]);
const http = createTwilioWebhookServer({ orm: platform.orm, logger, channels, publicBaseUrl: config.PUBLIC_BASE_URL });
platform.trackHttp(http);
const httpPort = await new Promise<number>((resolve, reject) => {
  http.once('error', reject);
  http.listen(config.HTTP_PORT, config.BIND_HOST, () => {
    http.off('error', reject);
    const address = http.address();
    resolve(typeof address === 'object' && address ? address.port : config.HTTP_PORT);
  });
});
platform.ready({ http_port: httpPort, public_base_url: config.PUBLIC_BASE_URL });
