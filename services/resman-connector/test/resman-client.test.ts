// The ResMan client and the guest-card push (logOnGuestCard) against the in-process simulator (real HTTP, real wire format).
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID, startResmanSim,
} from '@domiq/resman-sim';
import { OutboundGuard } from '@domiq/outbound';
import { ResmanConnections, type ResmanTarget } from '../src/resman/resman.client.ts';
import { ResmanApiError, ResmanAuthError, ResmanTargetRefusedError, ResmanTransientError } from '../src/resman/resman.errors.ts';
import { buildGuestCardXml } from '../src/resman/mits.ts';
import { logOnGuestCard, type GuestCardInput } from '../src/app/log-on-guest-card.ts';

const OTHER_ACCOUNT = 401;
const OTHER_PROPERTY = '0b7c3a7e-1d1b-4c53-9f59-2d0b5a1e8c22';
const POST = 'MITS/PostLeadManagement4_0';
const sim = await startResmanSim({
  accounts: [{ accountId: DEFAULT_ACCOUNT_ID, propertyIds: [DEFAULT_PROPERTY_ID] }, { accountId: OTHER_ACCOUNT, propertyIds: [OTHER_PROPERTY] }],
});
// The simulator is plain http on loopback: allowed only because DOMIQ_ALLOWED_TARGETS names it.
const outbound = new OutboundGuard({ allowedTargets: new URL(sim.url).host });
afterAll(async () => {
  await outbound.close();
  await sim.close();
});
beforeEach(() => sim.reset());

const target = (over: Partial<ResmanTarget> = {}): ResmanTarget => ({
  baseUrl: sim.url, accountId: DEFAULT_ACCOUNT_ID, propertyId: DEFAULT_PROPERTY_ID,
  credentials: { integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY }, ...over,
});
const connections = (over: Partial<ConstructorParameters<typeof ResmanConnections>[0]> = {}) =>
  new ResmanConnections({ timeoutMs: 2000, initialBackoffMs: 10, maxBackoffMs: 50, outbound, ...over });

describe('ResmanClient', () => {
  it('posts form fields with the credentials and reads the JSON envelope', async () => {
    const envelope = await connections().client(target()).call('Leasing/GetEmployees', {});
    expect(envelope).toMatchObject({ Status: 'Success', AccountID: DEFAULT_ACCOUNT_ID });
    expect((envelope['Employees'] as unknown[]).length).toBeGreaterThan(0);
  });

  it('turns HTTP 401 into an auth error, not retried, without the key in the message', async () => {
    const client = connections().client(target({ credentials: { integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: 'wrong-secret-key' } }));
    const err = await client.call('Leasing/GetEmployees', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResmanAuthError);
    expect(String((err as Error).message)).not.toContain('wrong-secret-key');
    expect(sim.requests.count()).toBe(1);
  });

  it('refuses a base_url that resolves to a loopback address when nothing allows it: permanent, never sent', async () => {
    const strict = new OutboundGuard({ allowedTargets: '' });
    const port = new URL(sim.url).port;
    for (const baseUrl of [`https://localhost:${port}`, `http://localhost:${port}`, sim.url]) {
      const err = await connections({ outbound: strict }).client(target({ baseUrl })).call('Leasing/GetEmployees', {}).catch((e: unknown) => e);
      expect(err, baseUrl).toBeInstanceOf(ResmanTargetRefusedError);
      expect(err).toMatchObject({ retryable: false, code: 'target_refused' });
    }
    expect(sim.requests.count()).toBe(0);
    await strict.close();
  });

  it('turns Status Error into a typed error carrying ErrorDescription', async () => {
    const xml = buildGuestCardXml({
      customer: { firstName: 'Jane' },
      events: [{ eventType: 'Contact', eventDate: new Date(), agentId: DEMO_AGENT_ID, firstContact: true, transactionSource: 'not-a-source' }],
    });
    const err = await connections().client(target()).postLeadManagement(xml).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResmanApiError);
    expect((err as ResmanApiError).description).toBe('Transaction Source could not be found');
    expect(sim.state.size).toBe(0);
  });

  it('retries 5xx and 429 with backoff until it gets through', async () => {
    sim.faults.serverError(503, { times: 2 });
    sim.faults.rateLimit(0, { times: 1 });
    await expect(connections().client(target()).call('Leasing/GetEmployees', {})).resolves.toMatchObject({ Status: 'Success' });
    expect(sim.requests.list().map((r) => r.status)).toEqual([503, 503, 429, 200]);
  });

  it('gives up after its attempts with a transient error', async () => {
    sim.faults.serverError(500, {});
    const err = await connections({ maxAttempts: 3 }).client(target()).call('Leasing/GetEmployees', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResmanTransientError);
    expect(sim.requests.count()).toBe(3);
  });

  it('times out a request ResMan never answers', async () => {
    sim.faults.timeout({ times: 1 });
    const err = await connections({ timeoutMs: 200 }).client(target()).call('Leasing/GetEmployees', {}, { retry: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResmanTransientError);
    expect((err as ResmanTransientError).code).toBe('timeout');
  });

  it('treats a cut-off body as transient', async () => {
    sim.faults.malformed({ times: 1 });
    await expect(connections().client(target()).call('Leasing/GetEmployees', {})).resolves.toMatchObject({ Status: 'Success' });
    expect(sim.requests.count()).toBe(2);
  });

  it('opens the circuit after consecutive failures and stops calling ResMan', async () => {
    sim.faults.serverError(503, {});
    const client = connections({ maxAttempts: 1, breakerThreshold: 2, breakerHalfOpenMs: 60_000 }).client(target());
    for (let i = 0; i < 2; i++) await expect(client.call('Leasing/GetEmployees', {})).rejects.toBeInstanceOf(ResmanTransientError);
    const err = await client.call('Leasing/GetEmployees', {}).catch((e: unknown) => e);
    expect((err as ResmanTransientError).code).toBe('circuit_open');
    expect(sim.requests.count()).toBe(2);
  });

  it('sends one request at a time per ResMan account, accounts in parallel', async () => {
    sim.faults.latency(80, {});
    const conn = connections();
    const a = conn.client(target());
    const b = conn.client(target({ accountId: OTHER_ACCOUNT, propertyId: OTHER_PROPERTY }));
    await Promise.all([a.call('Leasing/GetEmployees', {}), a.call('Leasing/GetEmployees', {}), a.call('Leasing/GetEmployees', {}), b.call('Leasing/GetEmployees', {})]);
    const spans = sim.requests.list().map((r) => ({ start: Date.parse(r.time), end: Date.parse(r.time) + (r.durationMs ?? 0) }));
    // Peak number of requests in flight at once (5 ms of slack for touching intervals). Account 400's three are
    // queued one behind the other, so whatever the scheduling, at most its one plus account 401's one overlap.
    const edges = spans.flatMap((x) => [[x.start, 1], [x.end - 5, -1]] as const).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    let inFlight = 0;
    let peak = 0;
    for (const [, delta] of edges) peak = Math.max(peak, (inFlight += delta));
    expect(spans).toHaveLength(4);
    expect(peak).toBe(2);
  });
});

describe('logOnGuestCard', () => {
  const message = (content = 'Is the 2 bedroom available?') => ({ messageId: crypto.randomUUID(), channel: 'sms' as const, content, createdAt: new Date() });
  const input = (over: Partial<GuestCardInput> = {}): GuestCardInput => ({
    messages: [message()],
    contact: { firstName: 'Jane', lastName: 'Doe', email: 'jane@acme.test', phone: '4155550100' },
    mapping: null, mayAlreadyExist: false, agentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID, ...over,
  });

  it('creates the guest card with a first-contact event', async () => {
    const client = connections().client(target());
    const outcome = await logOnGuestCard(client, input());
    expect(outcome).toMatchObject({ created: true, attached: false, alreadyInResman: false });
    expect(outcome.messages).toEqual([expect.objectContaining({ eventType: 'TextFromProspect', created: true, alreadyInResman: false })]);
    const [prospect] = sim.state.snapshot();
    expect(prospect!.prospectId).toBe(outcome.prospectId);
    expect(prospect!.people[0]).toMatchObject({ personId: outcome.personId, firstName: 'Jane', lastName: 'Doe', email: 'jane@acme.test' });
    expect(prospect!.events).toEqual([expect.objectContaining({ interactionType: 'TextFromProspect', firstContact: true, agentId: DEMO_AGENT_ID })]);
  });

  it('logs several messages of one customer in one post, in order, the first as the first contact', async () => {
    const messages = [message('one'), { ...message('two'), channel: 'email' as const }, message('three')];
    const outcome = await logOnGuestCard(connections().client(target()), input({ messages }));
    expect(sim.requests.list().filter((r) => r.path === POST)).toHaveLength(1);
    expect(outcome.messages.map((m) => [m.messageId, m.created, m.alreadyInResman])).toEqual([
      [messages[0]!.messageId, true, false], [messages[1]!.messageId, false, false], [messages[2]!.messageId, false, false],
    ]);
    const [prospect] = sim.state.snapshot();
    expect(prospect!.events.map((e, n) => [e.interactionType, e.firstContact, e.description?.includes(`[domiq:${messages[n]!.messageId}]`)])).toEqual([
      ['TextFromProspect', true, true], ['EmailFromProspect', false, true], ['TextFromProspect', false, true],
    ]);
  });

  it('posts only the messages a card lacks when an earlier attempt got part of them through', async () => {
    const client = connections().client(target());
    const [first, second] = [message('first'), message('second')];
    const earlier = await logOnGuestCard(client, input({ messages: [first] }));
    const retry = await logOnGuestCard(client, input({ messages: [first, second], mayAlreadyExist: true }));
    expect(retry).toMatchObject({ prospectId: earlier.prospectId, created: true, attached: false, alreadyInResman: false });
    expect(retry.messages.map((m) => [m.created, m.alreadyInResman])).toEqual([[true, true], [false, false]]);
    const [prospect] = sim.state.snapshot();
    expect(sim.state.size).toBe(1);
    expect(prospect!.events.map((e) => e.description)).toEqual([expect.stringContaining(first.messageId), expect.stringContaining(second.messageId)]);
  });

  it('does not post twice when the post timed out after ResMan applied it', async () => {
    const client = connections({ timeoutMs: 300 }).client(target());
    const first = await logOnGuestCard(client, input());
    sim.faults.timeout({ path: POST, times: 1, commit: true });
    const msg = input({ mapping: { prospectId: first.prospectId, personId: first.personId } });
    const second = await logOnGuestCard(client, msg);
    expect(second).toMatchObject({ prospectId: first.prospectId, alreadyInResman: true });
    expect(sim.state.snapshot()[0]!.events).toHaveLength(2);
  });

  it('finds a card created by a crashed earlier attempt instead of creating another', async () => {
    const client = connections().client(target());
    const msg = input();
    await logOnGuestCard(client, msg);
    const again = await logOnGuestCard(client, { ...msg, mayAlreadyExist: true });
    expect(again).toMatchObject({ created: true, alreadyInResman: true });
    expect(sim.state.size).toBe(1);
    expect(sim.state.snapshot()[0]!.events).toHaveLength(1);
  });

  it('attaches to an existing prospect found by email when the phone finds none', async () => {
    sim.state.seed({ accountId: DEFAULT_ACCOUNT_ID, propertyId: DEFAULT_PROPERTY_ID, people: [{ firstName: 'J', lastName: 'D', email: 'JANE@acme.test' }] });
    const outcome = await logOnGuestCard(connections().client(target()), input());
    expect(outcome).toMatchObject({ attached: true, created: false });
    expect(sim.state.size).toBe(1);
    expect(sim.requests.list().map((r) => r.path)).toEqual(['MITS/SearchProspects', 'MITS/SearchProspects', POST]);
  });
});
