// `npm start`: every service and simulator as a child process on the default ports, a demo seeded through
// the public APIs, a little demo traffic, and a summary of where to look. Ctrl-C stops everything cleanly.
import {
  DEFAULT_PORTS, OtlpCollector, SERVICES, isPortOpen, resmanSimProcess, seedDemo, serviceProcess, expectEventually, type ServiceProcess,
} from '@domiq/testkit';
import { sendInboundSms } from '@domiq/twilio-sim';
import { createClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

export async function runLocalStack(opts: { databaseUrl: string; natsUrl: string }): Promise<void> {
  const ports = DEFAULT_PORTS;
  const busy = [...SERVICES.flatMap((s) => [s.grpc, s.ops]), ports.gatewayHttp, ports.resmanSim];
  for (const port of busy) {
    if (await isPortOpen(port)) {
      say(`port ${port} is already in use: is another DomIQ stack running? Stop it first.`);
      process.exit(1);
    }
  }
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
  const envOpts = { ports, databaseUrl: opts.databaseUrl, natsUrl: opts.natsUrl, otlpEndpoint, extra: { RESMAN_BASE_URL: `http://127.0.0.1:${ports.resmanSim}`, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } };
  const procs: ServiceProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('\nstopping DomIQ ...');
    await Promise.all([...procs].reverse().map((p) => p.stop()));
    await collector?.close();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const sim = resmanSimProcess(ports.resmanSim, echo('resman-sim'));
    procs.push(sim);
    await sim.start();
    for (const s of SERVICES) {
      const proc = serviceProcess(s.name, envOpts, echo(s.name));
      procs.push(proc);
      await proc.start(60_000);
      proc.exited.then((code) => {
        if (!stopping) {
          say(`${s.name} exited with ${code}; stopping the stack`);
          void stopAll(1);
        }
      });
    }
    const addr = (name: string) => `127.0.0.1:${ports.services[name as keyof typeof ports.services].grpc}`;
    const demo = await seedDemo({
      identity: addr('identity'), routingSla: addr('routing-sla'), resmanConnector: addr('resman-connector'),
      channelGateway: addr('channel-gateway'), resmanBaseUrl: `http://127.0.0.1:${ports.resmanSim}`,
    }, twilioToken);
    const webhookUrl = `${process.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${ports.gatewayHttp}`}/webhooks/twilio/${demo.channelKey}`;
    const traffic = [
      { from: '+14155550181', body: 'Hi! Is the 2 bedroom at Sunset Lofts still available?' },
      { from: '+14155550182', body: 'Do you allow dogs? I have a small terrier.' },
      { from: '+14155550181', body: 'Could I tour it this Saturday morning?' },
    ];
    for (const t of traffic) await sendInboundSms(webhookUrl, twilioToken, { accountSid: demo.twilioAccountSid, to: demo.twilioNumber, ...t });
    const conversations = createClient(ConversationsServiceClient, addr('conversations'));
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
  Traces               ${collector ? `http://127.0.0.1:${collector.port}/traces` : `exported to ${otlpEndpoint ?? '(none)'}`}
  gRPC (reflection on) ${SERVICES.map((s) => `${s.name} :${s.grpc}`).join(', ')}
  Ops (/healthz /readyz /metrics) ${SERVICES.map((s) => `${s.name} :${s.ops}`).join(', ')}
  Logs                 JSON lines above, prefixed with the service name, each with trace_id/span_id
`);
  } catch (err) {
    say(`start-up failed: ${(err as Error).message}`);
    await stopAll(1);
  }
  await new Promise(() => undefined);
}
