// `npm start`: every service and simulator as a child process on the default ports, a demo seeded through
// the public APIs, a little demo traffic, and a summary of where to look. Ctrl-C stops everything cleanly.
import {
  DEFAULT_PORTS, DEMO, OtlpCollector, SERVICES, isPortOpen, resmanSimProcess, seedDemo, serviceProcess, expectEventually, simulatorTargets, twilioSimProcess, warmCompileCache,
  type ServiceProcess,
} from '@domiq/testkit';
import { sendInboundSms } from '@domiq/twilio-sim';
import { createClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { existsSync } from 'node:fs';
import { provisionAll, startLocalNats } from './nats-config.ts';
import { mintToken, readSigningKey } from '@domiq/auth';
import { writeDevKeys } from './dev-keys.ts';
import { join } from 'node:path';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

/**
 * `natsUrl` unset: the project's own nats-server with nkey authentication on DOMIQ_NATS_PORT (default 4223), its
 * config and seeds under .data/nats. Set: your own NATS; each service's seed is DOMIQ_NATS_NKEY_DIR/<service>.nk
 * when that is set (otherwise the services connect without credentials), and the streams are provisioned with
 * DOMIQ_NATS_NKEY_DIR/admin.nk when present.
 */
export async function runLocalStack(opts: { databaseUrl: string; natsUrl?: string; natsServerBin?: string }): Promise<void> {
  const ports = DEFAULT_PORTS;
  const busy = [...SERVICES.flatMap((s) => [s.grpc, s.ops]), ports.gatewayHttp, ports.resmanSim, ports.twilioSim];
  for (const port of busy) {
    if (await isPortOpen(port)) {
      say(`port ${port} is already in use: is another DomIQ stack running? Stop it first.`);
      process.exit(1);
    }
  }
  const nats = await startNats(opts);
  const twilioToken = process.env.DOMIQ_DEMO_TWILIO_AUTH_TOKEN ?? 'demo-twilio-token';
  let collector: OtlpCollector | undefined;
  let otlpEndpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!otlpEndpoint) {
    const tracePort = Number(process.env.DOMIQ_TRACES_PORT ?? 4318);
    if (!(await isPortOpen(tracePort))) {
      collector = await OtlpCollector.start(tracePort);
      otlpEndpoint = collector.endpoint;
    }
  }
  const echo = (name: string) => (line: string) => process.stdout.write(`[${name}] ${line}\n`);
  // Development keys (generated on first run, git-ignored): services verify against the JWKS, each calls its
  // peers with its own service token, and the demo is seeded by the demo account's admin.
  const keys = await writeDevKeys();
  const signingKey = readSigningKey(keys.signingKey);
  const authEnv = (service: string) => ({ DOMIQ_JWKS: keys.jwks, DOMIQ_SERVICE_TOKEN_FILE: keys.tokenFile(service) });
  const envOpts = { authEnv, ports, databaseUrl: opts.databaseUrl, natsUrl: nats.url, natsEnv: nats.natsEnv, otlpEndpoint, extra: {
    RESMAN_BASE_URL: `http://127.0.0.1:${ports.resmanSim}`, TWILIO_API_BASE_URL: `http://127.0.0.1:${ports.twilioSim}`, DOMIQ_ALLOWED_TARGETS: simulatorTargets(ports),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  } };
  const procs: ServiceProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping DomIQ ...');
    await Promise.all([...procs].reverse().map((p) => p.stop()));
    await collector?.close();
    await nats.stop();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    // Every module's stripped source into Node's compile cache first: no service then loads the TypeScript stripper.
    warmCompileCache();
    const sim = resmanSimProcess(ports.resmanSim, echo('resman-sim'));
    procs.push(sim);
    await sim.start();
    // The demo channel's Twilio account, so replies sent from the demo are accepted (and its status callbacks signed).
    const twilio = twilioSimProcess(ports.twilioSim, echo('twilio-sim'), { TWILIO_SIM_ACCOUNTS: `${DEMO.twilioAccountSid}:${twilioToken}` });
    procs.push(twilio);
    await twilio.start();
    for (const s of SERVICES) {
      const proc = serviceProcess(s.name, envOpts, echo(s.name));
      procs.push(proc);
      await proc.start(60_000);
      void proc.exited.then((code) => {
        if (!stopping) {
          say(`${s.name} exited with ${code}; stopping the stack`);
          void stopAll(1);
        }
      });
    }
    const addr = (name: string) => `127.0.0.1:${ports.services[name as keyof typeof ports.services].grpc}`;
    const adminToken = await mintToken(signingKey, { userId: DEMO.adminUserId, role: 'admin', accountId: DEMO.accountId }, { ttlSeconds: 12 * 3600 });
    const demo = await seedDemo({
      identity: addr('identity'), routingSla: addr('routing-sla'), resmanConnector: addr('resman-connector'),
      channelGateway: addr('channel-gateway'), resmanBaseUrl: `http://127.0.0.1:${ports.resmanSim}`,
    }, twilioToken, adminToken);
    const webhookUrl = `${process.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${ports.gatewayHttp}`}/webhooks/twilio/${demo.channelKey}`;
    const traffic = [
      { from: '+14155550181', body: 'Hi! Is the 2 bedroom at Sunset Lofts still available?' },
      { from: '+14155550182', body: 'Do you allow dogs? I have a small terrier.' },
      { from: '+14155550181', body: 'Could I tour it this Saturday morning?' },
    ];
    for (const t of traffic) await sendInboundSms(webhookUrl, twilioToken, { accountSid: demo.twilioAccountSid, to: demo.twilioNumber, ...t });
    const conversations = createClient(ConversationsServiceClient, addr('conversations'), { token: adminToken });
    const convs = await expectEventually(async () => {
      const { conversations: list } = await conversations.client.listConversations({ accountId: demo.accountId, customerId: '', limit: 10 });
      if (list.reduce((n, c) => n + c.messageCount, 0) < traffic.length) throw new Error('demo traffic still flowing');
      return list;
    }, { timeoutMs: 30_000 }).catch(() => []);
    conversations.close();
    say(`
DomIQ Omnichannel is running (Ctrl-C stops everything).

  Twilio SMS webhook   POST ${webhookUrl}
                       auth token (DOMIQ_DEMO_TWILIO_AUTH_TOKEN): ${twilioToken}, AccountSid ${demo.twilioAccountSid}
  Demo account         ${demo.accountId} (property ${demo.propertyId}); ${convs.length} demo conversations
  ResMan simulator     http://127.0.0.1:${ports.resmanSim}/_sim/prospects   (guest cards and events the connector wrote)
  Twilio simulator     http://127.0.0.1:${ports.twilioSim}/_sim/messages    (replies the gateway sent, with their status callbacks)
                       reply: grpcurl ... -d '{"account_id":"${demo.accountId}","conversation_id":"<id>","content":"Hi!","idempotency_key":"<uuid>"}' \
                         127.0.0.1:${ports.services.conversations.grpc} domiq.conversations.v1.ConversationsService/SendReply
  Traces               ${collector ? `http://127.0.0.1:${collector.port}/traces` : `exported to ${otlpEndpoint ?? '(none)'}`}
  NATS                 ${nats.url}   ${nats.own ? '(its own nats-server, nkey auth: config and seeds in .data/nats, log .data/nats/nats-server.log)' : '(NATS_URL)'}
  gRPC (reflection on) ${SERVICES.map((s) => `${s.name} :${s.grpc}`).join(', ')}
  Admin token (12 h)   ${adminToken}
                       grpcurl -plaintext -H "authorization: Bearer $TOKEN" -d '{"account_id":"${demo.accountId}","limit":5}' \\
                         127.0.0.1:${ports.services.conversations.grpc} domiq.conversations.v1.ConversationsService/ListConversations
                       other callers: npm run token -- --account ${demo.accountId} --role agent|supervisor|engineer|property_manager [--property ${demo.propertyId}] [--ttl 1h]
  Ops (/healthz /readyz /metrics) ${SERVICES.map((s) => `${s.name} :${s.ops}`).join(', ')}
  Logs                 JSON lines above, prefixed with the service name, each with trace_id/span_id
`);
  } catch (err) {
    say(`start-up failed: ${(err as Error).message}`);
    await stopAll(1);
  }
  await new Promise(() => undefined);
}

/** The stack's NATS: its own authenticated nats-server, or the operator's (NATS_URL), with every stream provisioned as admin. */
async function startNats(opts: { natsUrl?: string; natsServerBin?: string }): Promise<{ url: string; own: boolean; natsEnv?: (name: string) => Record<string, string>; stop(): Promise<void> }> {
  if (!opts.natsUrl) {
    const port = Number(process.env.DOMIQ_NATS_PORT ?? 4223);
    try {
      const local = await startLocalNats({ bin: opts.natsServerBin ?? 'nats-server', dir: join(import.meta.dirname, '..', '.data', 'nats'), port, log: say });
      return { url: local.url, own: true, natsEnv: local.credentialsFor, stop: local.stop };
    } catch (err) {
      say(`could not start the DomIQ nats-server: ${(err as Error).message}`);
      process.exit(1);
    }
  }
  const dir = process.env.DOMIQ_NATS_NKEY_DIR;
  const adminSeed = dir && existsSync(join(dir, 'admin.nk')) ? join(dir, 'admin.nk') : undefined;
  try {
    await provisionAll(opts.natsUrl, { nkeySeedFile: adminSeed });
  } catch (err) {
    // Without admin credentials the operator provisions (node scripts/nats-config.ts --provision); until every stream
    // exists the services wait for theirs (logging which).
    say(`NATS streams not provisioned (${(err as Error).message}): run node scripts/nats-config.ts --provision as the NATS admin (docs/nats-security.md)`);
  }
  return { url: opts.natsUrl, own: false, ...(dir ? { natsEnv: (name: string) => ({ NATS_NKEY_SEED_FILE: join(dir, `${name}.nk`) }) } : {}), stop: async () => undefined };
}
