// The system under test: all six services and the ResMan simulator on a fresh database (the machine's PostgreSQL)
// and a private nats-server. One account with a Twilio SMS channel whose property has
//   - a ResMan integration pointing at the simulator, so resman-connector logs every inbound text to a guest card
//     there (as services/resman-connector/test/replicas.test.ts configures it);
//   - an SLA policy and three available agents, so routing-sla starts a clock for every new conversation and
//     assigns it while an agent has room.
import { jetstreamManager } from '@nats-io/jetstream';
import { createClient } from '@domiq/grpc';
import { CreateUserRequest, IdentityServiceClient } from '@domiq/proto/identity';
import { ResmanConnectorServiceClient } from '@domiq/proto/resman-connector';
import { RoutingSlaServiceClient, UpsertSlaPolicyRequest } from '@domiq/proto/routing-sla';
import { DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID } from '@domiq/resman-sim';
import { expectEventually, registerTestSecret, SERVICES, startTestStack, warmCompileCache, type ServiceName, type TestStack } from '@domiq/testkit';
import { createSmsChannel, UNTHROTTLED_WEBHOOKS, type SmsChannel } from '../support/sms-stack.ts';
import { progress, residentMb, sidOf, stackProcesses, type System } from './measure.ts';

export const SERVICE_NAMES: ServiceName[] = SERVICES.map((s) => s.name);

export interface FullStack extends System {
  stack: TestStack;
  channel: SmsChannel;
  /** Webhooks the gateway accepted (200) so far. */
  accepted(): number;
  /** Messages resman-connector has logged to the simulator so far. */
  loggedToResman(): Promise<number>;
  /** Resident set of each service process, in MiB. */
  resident(): Array<{ service: ServiceName; rss: number; peak: number; anon: number }>;
  stop(): Promise<void>;
}

/**
 * Starts the stack. `senders` > 0 makes message i of a phase come from sender i % senders of that phase (known
 * customers texting again); 0, every message from a sender of its own (a new customer, conversation, guest card).
 */
export async function startFullStack(opts: { senders: number; drainTimeoutMs: number; env?: Record<string, string> }): Promise<FullStack> {
  // As the image runs them: every module's stripped source in the compile cache (scripts/compile-cache.ts), so the
  // idle and loaded memory figures hold no TypeScript stripper.
  // BENCH_SERVICE_ENV: a JSON object of extra variables for every service (experiments: settings, batch sizes). The
  // warm-up gets them too: V8 flags in NODE_OPTIONS name another cache folder.
  const extra = { ...(JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}') as Record<string, string>), ...opts.env };
  warmCompileCache(extra);
  // Unthrottled webhooks (thousands from one address), and logs at warn (the suite logs at trace).
  const stack = await startTestStack({
    services: SERVICE_NAMES, resmanSim: true,
    env: { ...UNTHROTTLED_WEBHOOKS, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...extra },
  });
  const nc = await stack.nats.connectAdmin();
  try {
    const channel = await createSmsChannel(stack, 'bench-sms');
    await configureProperty(stack, channel);
    let accepted = 0;
    const loggedToResman = async () => (await stack.db.query<{ n: number }>(
      `select count(*)::int as n from resman_connector.communication_log_sync where property_id = $1 and sync_status = 'success'`, [channel.propertyId]))[0]!.n;
    const consumersIdle = async () => {
      const jsm = await jetstreamManager(nc);
      for await (const s of jsm.streams.list()) {
        for await (const c of jsm.consumers.list(s.config.name)) if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
      }
      return true;
    };
    return {
      stack,
      channel,
      processes: stackProcesses(stack),
      accepted: () => accepted,
      loggedToResman,
      async send(tag, i, sentAt) {
        const sid = sidOf(tag, i);
        const n = opts.senders > 0 ? i % opts.senders : i;
        // +1 415 <2 digits of the phase> <5 digits of the sender>: each phase has senders of its own.
        const from = `+1415${String(parseInt(tag, 16)).padStart(2, '0')}${String(n % 100_000).padStart(5, '0')}`;
        sentAt?.set(sid, Date.now());
        const res = await channel.send({ from, body: `bench ${tag} ${i}`, messageSid: sid });
        if (res.status !== 200) throw new Error(`gateway answered ${res.status}`);
        accepted++;
      },
      // By the unique index on (account, channel, provider id) of inbound messages: cheap even with a preload.
      stored: (tag) => stack.db.query<{ sid: string; t: Date }>(
        `select channel_message_id as sid, stored_at as t from conversations.messages
          where account_id = $1 and channel = 'sms' and direction = 'inbound' and channel_message_id between $2 and $3`,
        [channel.accountId, sidOf(tag, 0), `SM${tag}${'9'.repeat(31)}`]),
      // Every accepted text logged to ResMan, and every consumer of every stream (routing-sla's too) idle.
      async settle() {
        await expectEventually(async () => {
          const logged = await loggedToResman();
          if (logged < accepted) throw new Error(`resman-connector logged ${logged}/${accepted}`);
          if (!(await consumersIdle())) throw new Error('consumers still busy');
        }, { timeoutMs: opts.drainTimeoutMs, intervalMs: 500, message: 'downstream consumers drained' })
          .catch((err: unknown) => progress(`not drained, going on: ${err instanceof Error ? err.message : String(err)}`));
      },
      resident: () => SERVICE_NAMES.flatMap((service) => {
        const pid = stack.services[service]?.pid;
        const mem = pid ? residentMb(pid) : undefined;
        return mem ? [{ service, ...mem }] : [];
      }),
      async stop() {
        // At warn, a healthy run logs next to nothing: say so when it did not.
        for (const service of SERVICE_NAMES) {
          const lines = stack.services[service]?.lines ?? [];
          if (lines.length > 0) progress(`${service} logged ${lines.length} lines; the last: ${lines.at(-1)!.slice(0, 400)}`);
        }
        await nc.close();
        await stack.stop();
      },
    };
  } catch (err) {
    await nc.close();
    await stack.stop();
    throw err;
  }
}

/** The channel's property: its ResMan integration (the simulator), an SLA policy, three available agents. */
async function configureProperty(stack: TestStack, channel: SmsChannel): Promise<void> {
  const { accountId, propertyId } = channel;
  registerTestSecret(DEFAULT_API_KEY, 'ResMan simulator API key (test/bench)');
  const token = { token: await stack.token({ accountId }) };
  const identity = createClient(IdentityServiceClient, stack.grpcAddr('identity'), token);
  const routing = createClient(RoutingSlaServiceClient, stack.grpcAddr('routing-sla'), token);
  const resman = createClient(ResmanConnectorServiceClient, stack.grpcAddr('resman-connector'), token);
  try {
    await resman.client.upsertIntegration({
      accountId, propertyId, baseUrl: `http://127.0.0.1:${stack.ports.resmanSim}`, resmanAccountId: DEFAULT_ACCOUNT_ID, resmanPropertyId: DEFAULT_PROPERTY_ID,
      integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY, defaultAgentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
    });
    await routing.client.upsertSlaPolicy(UpsertSlaPolicyRequest.fromPartial({
      policy: { accountId, propertyId, name: 'Bench standard', tier: 'SLA_TIER_STANDARD', firstResponseMinutes: 15, resolutionMinutes: 24 * 60, businessHoursOnly: false, timezone: 'America/New_York' },
    }));
    for (const name of ['Ava', 'Ben', 'Chloe']) {
      const id = crypto.randomUUID();
      // Identity's most (100 each): the first 300 conversations get an agent, later ones wait unassigned, as they
      // would on a busy day (routing still starts their clock).
      await identity.client.createUser(CreateUserRequest.fromPartial({
        id, accountId, email: `${name.toLowerCase()}@bench.example`, firstName: name, lastName: 'Bench', role: 'ROLE_AGENT', maxConcurrentConversations: 100,
      }));
      // Agents reach routing-sla as identity.user.created events.
      await expectEventually(() => routing.client.setAgentStatus({ accountId, agentId: id, status: 'available' }), { timeoutMs: 30_000, message: `agent ${name} never reached routing-sla` });
    }
  } finally {
    for (const c of [identity, routing, resman]) c.close();
  }
}
