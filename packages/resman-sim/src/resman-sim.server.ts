// The simulator's HTTP server: ResMan's legacy partner API (form POST), the Partners API v2 read,
// and the /_sim/ control endpoints (inspection, reset, faults) that real ResMan does not have.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FaultInjector, validateFaultSpec } from './fault-injector.ts';
import type { FaultRule } from './fault-injector.ts';
import { mitsData, pickFormat, renderEnvelope } from './legacy-envelope.ts';
import type { EnvelopeData, EnvelopeHead, ResponseFormat } from './legacy-envelope.ts';
import { postLeadManagement } from './lead-management.service.ts';
import { customerTypeOf, identificationTree, leadManagementTree, parseLeadManagementXml, prospectTree } from './mits-lead.xml.ts';
import { searchProspects } from './prospect-search.service.ts';
import { ProspectStore } from './prospect-store.ts';
import { RequestLog } from './request-log.ts';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_EMPLOYEES, DEFAULT_HOST, DEFAULT_LOST_PROSPECT_REASONS,
  DEFAULT_MAX_WINDOW_RESULTS, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEFAULT_PROSPECT_SOURCES,
} from './sim-defaults.ts';
import type { SimAccount, SimCatalog, SimEmployee, SimNamedItem } from './sim-types.ts';
import { toV2Prospect } from './v2-prospects.mapper.ts';

export interface ResmanSimOptions {
  port?: number;
  host?: string;
  integrationPartnerId?: string;
  apiKey?: string;
  accounts?: Array<{ accountId: number; propertyIds: string[] }>;
  employees?: Array<SimEmployee>;
  prospectSources?: Array<SimNamedItem>;
  lostProspectReasons?: Array<SimNamedItem>;
  // SearchProspects modified-window results above this answer 502 "buffer overflow".
  maxWindowResults?: number;
  // Clock for lastModified and v2 modifiedSince checks; tests pin it to make windows exact.
  now?: () => Date;
  // Random source for probabilistic faults; tests pass a seeded one.
  random?: () => number;
}

export interface ResmanSimSettings { maxWindowResults: number }

export interface ResmanSim {
  url: string;
  port: number;
  host: string;
  faults: FaultInjector;
  state: ProspectStore;
  requests: RequestLog;
  settings: ResmanSimSettings;
  catalog: SimCatalog;
  accounts: SimAccount[];
  // Clears prospects, faults and the request log; settings and catalogues stay.
  reset(): void;
  close(): Promise<void>;
}

interface HttpReply { status: number; headers: Record<string, string>; body: string }

interface LegacyCall {
  form: Map<string, string>;
  accountId: number;
  propertyId: string | null;
  format: ResponseFormat;
  head: EnvelopeHead;
}

interface LegacyRoute {
  name: string;
  needsProperty: boolean;
  run(call: LegacyCall): HttpReply;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

const text = (status: number, body: string, headers: Record<string, string> = {}): HttpReply =>
  ({ status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body });

const json = (status: number, value: unknown): HttpReply =>
  ({ status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(value) });

function envelope(call: Pick<LegacyCall, 'format' | 'head'>, data?: EnvelopeData, status = 200): HttpReply {
  const rendered = renderEnvelope(call.format, call.head, data);
  return { status, headers: { 'content-type': rendered.contentType }, body: rendered.body };
}

const failed = (call: Pick<LegacyCall, 'format' | 'head'>, description: string, status = 200): HttpReply =>
  envelope({ ...call, head: { ...call.head, status: 'Error', errorDescription: description } }, undefined, status);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// ASP.NET binds form fields case-insensitively, so the simulator does too.
function formFields(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) fields.set(key.toLowerCase(), value);
  return fields;
}

function field(form: Map<string, string>, name: string): string | undefined {
  const value = form.get(name.toLowerCase())?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function listData(listName: string, itemName: string, items: readonly object[]): EnvelopeData {
  return { json: { [listName]: items }, xml: { [listName]: { [itemName]: items } } };
}

function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function startResmanSim(opts: ResmanSimOptions = {}): Promise<ResmanSim> {
  const now = opts.now ?? (() => new Date());
  const partnerId = opts.integrationPartnerId ?? DEFAULT_PARTNER_ID;
  const apiKey = opts.apiKey ?? DEFAULT_API_KEY;
  const accounts: SimAccount[] = (opts.accounts ?? [{ accountId: DEFAULT_ACCOUNT_ID, propertyIds: [DEFAULT_PROPERTY_ID] }])
    .map((a) => ({ accountId: a.accountId, propertyIds: [...a.propertyIds] }));
  const catalog: SimCatalog = {
    employees: [...(opts.employees ?? DEFAULT_EMPLOYEES)],
    prospectSources: [...(opts.prospectSources ?? DEFAULT_PROSPECT_SOURCES)],
    lostProspectReasons: [...(opts.lostProspectReasons ?? DEFAULT_LOST_PROSPECT_REASONS)],
  };
  const settings: ResmanSimSettings = { maxWindowResults: opts.maxWindowResults ?? DEFAULT_MAX_WINDOW_RESULTS };
  const store = new ProspectStore(now);
  const faults = new FaultInjector(opts.random);
  const requests = new RequestLog();
  // Requests a timeout fault is holding open, so close() can cut them loose.
  const held = new Set<ServerResponse>();

  const findAccount = (id: number): SimAccount | undefined => accounts.find((a) => a.accountId === id);
  const canonicalProperty = (account: SimAccount, id: string): string | undefined =>
    account.propertyIds.find((p) => p.toLowerCase() === id.toLowerCase());

  const legacyRoutes: LegacyRoute[] = [
    // JSON answer = the XML answer converted (legacy-envelope.ts): attributes as plain keys, repeatable
    // elements always arrays. Ids: Response.LeadManagement.Prospects.Prospect[i].Customers.Customer[j]
    //   .Identification = [{IDType:"ProspectID",IDValue,OrganizationName:"ResMan"}, {IDType:"PersonID",...}].
    // One Customer per posted Customer, in document order; every person when the post carried none.
    {
      name: 'MITS/PostLeadManagement4_0',
      needsProperty: true,
      run(call) {
        const parsed = parseLeadManagementXml(field(call.form, 'Xml'));
        if (!parsed.ok) return failed(call, parsed.error);
        const result = postLeadManagement(
          { store, catalog, accountId: call.accountId, propertyId: call.propertyId ?? '', now: now() },
          parsed.prospects,
        );
        if (!result.ok) return failed(call, result.error);
        const prospects = result.prospects.map((posted) => ({
          Customers: {
            Customer: posted.customers.map((c) => ({
              '@_Type': customerTypeOf(posted.prospect.status),
              Identification: identificationTree(c.prospectId, c.personId),
            })),
          },
        }));
        return envelope(call, mitsData({ Response: leadManagementTree(prospects) }));
      },
    },
    {
      name: 'MITS/SearchProspects',
      needsProperty: true,
      run(call) {
        const criteria = Object.fromEntries(
          ['ProspectID', 'FirstName', 'LastName', 'Email', 'Phone', 'ModifiedStartDateTime', 'ModifiedEndDateTime']
            .map((name) => [name, field(call.form, name)]),
        );
        const result = searchProspects(store, { accountId: call.accountId, propertyId: call.propertyId ?? '' }, criteria, settings.maxWindowResults);
        if (result.kind === 'overflow') return text(502, 'buffer overflow');
        if (result.kind === 'error') return failed(call, result.error);
        return envelope(call, mitsData({ Response: leadManagementTree(result.prospects.map((p) => prospectTree(p))) }));
      },
    },
    {
      name: 'Leasing/GetProspectSources',
      needsProperty: false,
      run: (call) => envelope(call, listData('ProspectSources', 'ProspectSource', catalog.prospectSources)),
    },
    {
      name: 'Leasing/GetLostProspectReasons',
      needsProperty: false,
      run: (call) => envelope(call, listData('LostProspectReasons', 'LostProspectReason', catalog.lostProspectReasons)),
    },
    {
      name: 'Leasing/GetEmployees',
      needsProperty: false,
      run: (call) => envelope(call, listData('Employees', 'Employee', catalog.employees.map((e) => ({
        Name: e.Name, ID: e.ID, Email: e.Email, SecurityGroup: e.SecurityGroup,
      })))),
    },
  ];

  function runLegacy(route: LegacyRoute, req: IncomingMessage, body: string): HttpReply {
    const form = formFields(body);
    const format = pickFormat(req.headers.accept);
    const rawAccount = field(form, 'AccountID');
    const rawProperty = field(form, 'PropertyID');
    const accountNumber = rawAccount !== undefined && /^\d+$/.test(rawAccount) ? Number(rawAccount) : null;
    const head: EnvelopeHead = {
      methodName: route.name.slice(route.name.indexOf('/') + 1),
      status: 'Success',
      errorDescription: null,
      accountId: accountNumber ?? rawAccount ?? null,
      propertyId: rawProperty ?? null,
    };
    const base = { format, head };
    if (field(form, 'IntegrationPartnerID') !== partnerId || field(form, 'ApiKey') !== apiKey) {
      return failed(base, 'Invalid IntegrationPartnerID or ApiKey', 401);
    }
    const account = accountNumber === null ? undefined : findAccount(accountNumber);
    if (account === undefined) return failed(base, 'Account could not be found');
    let propertyId: string | null = null;
    if (rawProperty !== undefined) {
      propertyId = canonicalProperty(account, rawProperty) ?? null;
      if (propertyId === null) return failed(base, 'Property could not be found');
      head.propertyId = propertyId;
    } else if (route.needsProperty) {
      return failed(base, 'PropertyID is required');
    }
    return route.run({ form, accountId: account.accountId, propertyId, format, head });
  }

  function runV2Prospects(req: IncomingMessage, url: URL): HttpReply {
    const auth = parseBasicAuth(req.headers.authorization);
    const accountHeader = req.headers['resman-account-id'];
    const account = typeof accountHeader === 'string' && /^\d+$/.test(accountHeader.trim())
      ? findAccount(Number(accountHeader.trim()))
      : undefined;
    if (auth === null || auth.user !== partnerId || auth.password !== apiKey) return json(401, { message: 'Unauthorized' });
    if (account === undefined) return json(401, { message: '[20001] credentials are not permitted' });
    // Query names bind case-insensitively, as on ASP.NET.
    const query = new Map([...url.searchParams].map(([k, v]) => [k.toLowerCase(), v.trim()]));
    const rawProperty = query.get('propertyid');
    const propertyId = rawProperty ? canonicalProperty(account, rawProperty) : undefined;
    if (propertyId === undefined) return json(400, { message: 'propertyId is missing or not valid for this account' });
    const rawSince = query.get('modifiedsince');
    const since = rawSince ? new Date(rawSince) : null;
    if (since === null || Number.isNaN(since.getTime())) return json(400, { message: 'modifiedSince is required and must be a date' });
    const current = now().getTime();
    if (since.getTime() > current) return json(400, { message: 'modifiedSince must be in the past' });
    if (current - since.getTime() > 364 * DAY_MS) return json(400, { message: 'modifiedSince must be at most 364 days ago' });
    const prospectId = query.get('prospectid')?.toLowerCase();
    const personId = query.get('personid')?.toLowerCase();
    const includeLog = query.get('includecommunicationlog')?.toLowerCase() === 'true';
    const prospects = store.listFor(account.accountId, propertyId)
      .filter((p) => Date.parse(p.lastModified) >= since.getTime())
      .filter((p) => prospectId === undefined || p.prospectId.toLowerCase() === prospectId)
      .filter((p) => personId === undefined || p.people.some((person) => person.personId.toLowerCase() === personId))
      .sort((a, b) => a.lastModified.localeCompare(b.lastModified))
      .map((p) => toV2Prospect(p, catalog, includeLog));
    return json(200, { prospects });
  }

  // Resolves an API request to its canonical method path and handler; null when nothing serves it.
  function resolveApi(req: IncomingMessage, url: URL, body: () => Promise<string>):
    { path: string; handle: () => Promise<HttpReply> } | null {
    const trimmed = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
    const legacy = legacyRoutes.find((r) => r.name.toLowerCase() === trimmed.toLowerCase());
    if (legacy !== undefined) {
      return {
        path: legacy.name,
        handle: async () => (req.method === 'POST' ? runLegacy(legacy, req, await body()) : text(405, 'Method Not Allowed', { allow: 'POST' })),
      };
    }
    if (trimmed.toLowerCase() === 'prospects') {
      return {
        path: 'Prospects',
        handle: async () => (req.method === 'GET' ? runV2Prospects(req, url) : text(405, 'Method Not Allowed', { allow: 'GET' })),
      };
    }
    return null;
  }

  function send(res: ServerResponse, reply: HttpReply): void {
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const bodyPromise = readBody(req);
    // Handlers that never read the body must not leave its failure unhandled.
    bodyPromise.catch(() => undefined);
    const route = resolveApi(req, url, () => bodyPromise);
    const path = route?.path ?? url.pathname.replace(/^\/+/, '');
    const entry = requests.record(req.method ?? 'GET', path, now());
    const reply = (r: HttpReply): void => {
      requests.finish(entry, r.status);
      send(res, r);
    };
    if (route === null) {
      await bodyPromise;
      reply(text(404, 'Not Found'));
      return;
    }
    const decision = faults.decide(route.path);
    if (decision.latencyMs > 0) await delay(decision.latencyMs);
    const fault: FaultRule | null = decision.fault;
    entry.fault = fault?.kind ?? null;
    if (fault !== null && fault.kind !== 'malformed') {
      if (fault.commit === true) await route.handle();
      if (fault.kind === 'timeout') {
        // Never answer: the client's own timeout is what this exercises.
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      if (fault.kind === 'http429') {
        reply(text(429, 'Too Many Requests', { 'retry-after': String(Math.ceil(fault.retryAfterSeconds ?? 1)) }));
        return;
      }
      reply(fault.kind === 'http500' ? text(500, 'Internal Server Error') : text(503, 'Service Unavailable'));
      return;
    }
    const result = await route.handle();
    if (fault?.kind === 'malformed') {
      // Cut the document in half: a body that starts right and cannot be parsed.
      reply({ ...result, body: result.body.slice(0, Math.floor(result.body.length / 2)) });
      return;
    }
    reply(result);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req);
    const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '')}`;
    switch (route) {
      case 'GET /_sim/health':
        return send(res, json(200, { ok: true }));
      case 'GET /_sim/prospects':
        return send(res, json(200, store.snapshot()));
      case 'POST /_sim/reset':
        sim.reset();
        return send(res, json(200, { ok: true }));
      case 'GET /_sim/requests': {
        const path = url.searchParams.get('path') ?? undefined;
        const list = requests.list(path);
        return send(res, json(200, { total: list.length, counts: requests.counts(), requests: list }));
      }
      case 'GET /_sim/faults':
        return send(res, json(200, faults.list()));
      case 'POST /_sim/faults': {
        let specs: unknown;
        try {
          const parsed: unknown = JSON.parse(body);
          specs = Array.isArray(parsed) ? parsed : [parsed];
          // Validate all before adding any, so a bad list installs nothing.
          const valid = (specs as unknown[]).map(validateFaultSpec);
          return send(res, json(201, valid.map((s) => faults.add(s))));
        } catch (err) {
          return send(res, json(400, { message: (err as Error).message }));
        }
      }
      case 'DELETE /_sim/faults':
        faults.clear();
        return send(res, json(200, { ok: true }));
      case 'GET /_sim/settings':
        return send(res, json(200, settings));
      case 'POST /_sim/settings': {
        try {
          const parsed = JSON.parse(body) as Partial<ResmanSimSettings>;
          const max = parsed.maxWindowResults;
          if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 0)) throw new Error('maxWindowResults must be a non-negative integer');
          if (max !== undefined) settings.maxWindowResults = max;
          return send(res, json(200, settings));
        } catch (err) {
          return send(res, json(400, { message: (err as Error).message }));
        }
      }
      default:
        return send(res, text(404, 'Not Found'));
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://resman-sim.local');
    const work = url.pathname.startsWith('/_sim/') ? handleControl(req, res, url) : handleApi(req, res, url);
    work.catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      send(res, text(500, `simulator error: ${(err as Error).message}`));
    });
  });

  const host = opts.host ?? DEFAULT_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  const sim: ResmanSim = {
    url: `http://${urlHost}:${port}`,
    port,
    host,
    faults,
    state: store,
    requests,
    settings,
    catalog,
    accounts,
    reset() {
      store.clear();
      faults.clear();
      requests.clear();
    },
    close() {
      for (const res of held) res.destroy();
      held.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return sim;
}
