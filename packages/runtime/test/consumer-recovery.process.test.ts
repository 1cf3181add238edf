// Issue 6: a real service (routing-sla) whose consumer's pull loop ends (its durable deleted on the server, its
// stream gone) restarts it with backoff, reports it on /readyz (503, naming it) while it is not running, and
// processes new events once it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { provisionStreams } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import {
  createTestDatabase, expectEventually, NatsServerProcess, publishTestEvent, randomPorts, serviceProcess, TestAuthority, type ServiceProcess, type StackPorts, type TestDatabase,
} from '@domiq/testkit';

let db: TestDatabase;
let nats: NatsServerProcess;
let admin: NatsConnection;
let proc: ServiceProcess;
let ports: StackPorts;
const durable = 'routing-sla-user-created';

beforeAll(async () => {
  db = await createTestDatabase();
  nats = await NatsServerProcess.start();
  admin = await nats.connectAdmin();
  const auth = await TestAuthority.create();
  ports = await randomPorts();
  proc = serviceProcess('routing-sla', {
    ports, databaseUrl: db.url, natsUrl: nats.url, natsEnv: (n) => nats.credentialsFor(n), authEnv: (n) => auth.envFor(n),
    extra: { LOG_LEVEL: 'info', OTEL_TRACES_EXPORTER: 'none' },
  });
  await proc.start(60_000);
});
afterAll(async () => {
  await proc?.stop();
  await admin?.close();
  await nats?.destroy();
  await db?.drop();
});

const readyz = async () => {
  const r = await fetch(`http://127.0.0.1:${ports.services['routing-sla'].ops}/readyz`);
  return { status: r.status, body: (await r.json()) as { status: string; failures?: Record<string, string> } };
};
async function api(subject: string): Promise<{ error?: { code: number; description: string } }> {
  return JSON.parse((await admin.request(`$JS.API.${subject}`, '', { timeout: 5000 })).string());
}
/** Publishes a user.created event (a role that is not routable: handled, nothing stored but the processed-event row). */
async function userCreated(): Promise<string> {
  const payload = events.identityUserCreated.codec.fromJSON({ accountId: crypto.randomUUID(), userId: crypto.randomUUID(), role: 'ROLE_PROPERTY_MANAGER' });
  return publishTestEvent(nats.url, events.identityUserCreated, payload);
}
const processed = async (eventId: string) =>
  (await db.query(`select 1 from routing_sla.processed_event where consumer = $1 and event_id = $2`, [durable, eventId])).length === 1;

describe('a consumer whose pull loop ends', () => {
  it('comes back after its durable is deleted on the server and processes a new event', async () => {
    expect((await readyz()).status).toBe(200);
    const first = await userCreated();
    await expectEventually(async () => expect(await processed(first)).toBe(true));
    expect((await api(`CONSUMER.DELETE.IDENTITY.${durable}`)).error).toBeUndefined();
    await expectEventually(() => expect(proc.lines.some((l) => l.includes(`consumer ${durable} stopped pulling`))).toBe(true));
    await expectEventually(async () => expect((await api(`CONSUMER.INFO.IDENTITY.${durable}`)).error).toBeUndefined(), { timeoutMs: 20_000 });
    const second = await userCreated();
    await expectEventually(async () => expect(await processed(second)).toBe(true), { timeoutMs: 20_000 });
    expect(proc.lines.some((l) => l.includes(`consumer ${durable} is pulling again`))).toBe(true);
    await expectEventually(async () => expect((await readyz()).status).toBe(200));
  });

  it('is reported by /readyz (503, naming it) while it cannot run (its stream deleted), and recovers when the stream is back', async () => {
    expect((await api('STREAM.DELETE.IDENTITY')).error).toBeUndefined();
    const down = await expectEventually(async () => {
      const r = await readyz();
      expect(r.status).toBe(503);
      expect(r.body.failures?.consumers).toContain(durable);
      return r;
    }, { timeoutMs: 20_000 });
    expect(down.body.failures?.consumers).toMatch(/not running: routing-sla-user-created \(/);
    // Its other consumer (on CONVERSATIONS) is unaffected.
    expect(down.body.failures?.consumers).not.toContain('routing-sla-conversation-created');
    await provisionStreams(admin, ['IDENTITY']);
    await expectEventually(async () => expect((await readyz()).status).toBe(200), { timeoutMs: 40_000 });
    const event = await userCreated();
    await expectEventually(async () => expect(await processed(event)).toBe(true), { timeoutMs: 20_000 });
    expect(proc.lines.join('\n')).not.toMatch(/unhandled/i);
  });
});
