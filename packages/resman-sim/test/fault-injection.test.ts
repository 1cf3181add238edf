import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROPERTY_ID, FaultInjector, startResmanSim } from '../src/index.ts';
import { getV2, guestCardXml, postLegacy } from './resman-client.helper.ts';

const POST = 'MITS/PostLeadManagement4_0';
const sim = await startResmanSim();
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const card = () => ({ Xml: guestCardXml({ customers: [{ firstName: 'Jane', lastName: 'Doe' }] }) });
const employees = () => postLegacy(sim, 'Leasing/GetEmployees');

describe('fault injection', () => {
  it('adds latency to matching requests', async () => {
    sim.faults.latency(150, { times: 1 });
    const started = performance.now();
    const res = await employees();
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(sim.requests.list()[0]).toMatchObject({ status: 200, fault: null });
    expect(sim.requests.list()[0]?.durationMs).toBeGreaterThanOrEqual(145);
    // times: 1 — the rule is spent.
    expect(sim.faults.list()).toEqual([]);
  });

  it('holds a timed-out request open until the client gives up, without applying it', async () => {
    sim.faults.timeout({ path: POST, times: 1 });
    await expect(postLegacy(sim, POST, card(), { signal: AbortSignal.timeout(200) })).rejects.toThrow(/timeout|aborted/i);
    expect(sim.requests.list(POST)).toEqual([expect.objectContaining({ status: null, fault: 'timeout' })]);
    expect(sim.state.size).toBe(0);
    // The next call goes through.
    expect((await postLegacy(sim, POST, card())).status).toBe(200);
    expect(sim.state.size).toBe(1);
  });

  it('can time out after committing, as an overloaded ResMan does', async () => {
    sim.faults.timeout({ path: POST, times: 1, commit: true });
    await expect(postLegacy(sim, POST, card(), { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(sim.state.size).toBe(1);
  });

  it('closes cleanly while a request is held', async () => {
    const other = await startResmanSim();
    other.faults.timeout();
    const pending = postLegacy(other, 'Leasing/GetEmployees');
    pending.catch(() => undefined);
    await vi.waitFor(() => expect(other.requests.count()).toBe(1), { timeout: 2000, interval: 10 });
    await other.close();
    await expect(pending).rejects.toThrow();
  });

  it.each([
    [500, 'http500'],
    [503, 'http503'],
  ] as const)('answers HTTP %i for the next N requests without applying them', async (status, kind) => {
    sim.faults.serverError(status, { path: POST, times: 2 });
    expect((await postLegacy(sim, POST, card())).status).toBe(status);
    expect((await postLegacy(sim, POST, card())).status).toBe(status);
    expect(sim.state.size).toBe(0);
    expect((await postLegacy(sim, POST, card())).status).toBe(200);
    expect(sim.requests.list(POST).map((e) => [e.status, e.fault])).toEqual([[status, kind], [status, kind], [200, null]]);
  });

  it('answers HTTP 429 with Retry-After', async () => {
    sim.faults.rateLimit(7, { times: 1 });
    const res = await employees();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('truncates the body of a malformed answer (JSON and XML) after applying the request', async () => {
    sim.faults.malformed({ path: POST, times: 2 });
    const asJson = await postLegacy(sim, POST, card());
    expect(asJson.status).toBe(200);
    expect(asJson.body.startsWith('{"MethodName"')).toBe(true);
    expect(() => JSON.parse(asJson.body)).toThrow();
    const asXml = await postLegacy(sim, POST, card(), { accept: 'application/xml' });
    expect(asXml.body.startsWith('<?xml')).toBe(true);
    expect(XMLValidator.validate(asXml.body)).not.toBe(true);
    expect(sim.state.size).toBe(2);
  });

  it('scopes a fault to one method path', async () => {
    sim.faults.serverError(503, { path: '/MITS/SearchProspects' });
    expect((await employees()).status).toBe(200);
    expect((await postLegacy(sim, 'MITS/SearchProspects', { Email: 'a@b.c' })).status).toBe(503);
    expect((await postLegacy(sim, 'mits/searchprospects', { Email: 'a@b.c' })).status).toBe(503);
  });

  it('applies faults to the v2 API too', async () => {
    sim.faults.serverError(500, { path: 'Prospects', times: 1 });
    expect((await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, modifiedSince: new Date(Date.now() - 60_000).toISOString() })).status).toBe(500);
    expect((await getV2(sim, { propertyId: DEFAULT_PROPERTY_ID, modifiedSince: new Date(Date.now() - 60_000).toISOString() })).status).toBe(200);
  });

  it('fires a probabilistic fault per the random source', () => {
    const rolls = [0.1, 0.9, 0.4, 0.6];
    const faults = new FaultInjector(() => rolls.shift() ?? 1);
    faults.serverError(500, { probability: 0.5 });
    expect(['x', 'x', 'x', 'x'].map((p) => faults.decide(p).fault?.kind ?? null)).toEqual(['http500', null, 'http500', null]);
  });

  it('is settable over HTTP: POST, GET and DELETE /_sim/faults', async () => {
    const created = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify([{ kind: 'http429', retryAfterSeconds: 3, path: 'Leasing/GetEmployees', times: 1 }, { kind: 'latency', latencyMs: 1 }]),
    });
    expect(created.status).toBe(201);
    expect(await (await fetch(`${sim.url}/_sim/faults`)).json()).toHaveLength(2);
    const res = await employees();
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '3']);
    expect((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(200);
    expect(sim.faults.list()).toEqual([]);
    const bad = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify([{ kind: 'http500' }, { kind: 'explode' }]) });
    expect(bad.status).toBe(400);
    expect(sim.faults.list()).toEqual([]);
  });

  it('logs every API call with its path, time and status, and counts them', async () => {
    await employees();
    await employees();
    await postLegacy(sim, POST, card());
    await postLegacy(sim, 'MITS/Nope');
    await fetch(`${sim.url}/_sim/prospects`);
    expect(sim.requests.count('Leasing/GetEmployees')).toBe(2);
    const log = await (await fetch(`${sim.url}/_sim/requests`)).json() as any;
    expect(log.total).toBe(4);
    expect(log.counts).toEqual({ 'Leasing/GetEmployees': 2, [POST]: 1, 'MITS/Nope': 1 });
    expect(log.requests[3]).toMatchObject({ seq: 4, httpMethod: 'POST', path: 'MITS/Nope', status: 404, time: expect.any(String) });
    const filtered = await (await fetch(`${sim.url}/_sim/requests?path=${encodeURIComponent(POST)}`)).json() as any;
    expect(filtered.requests).toEqual([expect.objectContaining({ path: POST, status: 200 })]);
  });
});
