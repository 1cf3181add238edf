// The Twilio Programmable Messaging simulator: the Message resource's create, fetch and list endpoints in Twilio's wire
// format (https://www.twilio.com/docs/messaging/api/message-resource), each accepted message's lifecycle
// (queued → sent → delivered, or a fault's failed / undelivered) with signed status callbacks, and the /_sim/ control
// endpoints (accounts, faults, opt-outs, inspection, reset) that real Twilio does not have. State lives in memory.
//
// node:http through process.getBuiltinModule, for the server and for the callbacks: an ES import of node:http loads
// Node's bundled undici (packages/runtime/src/ops.server.ts says why).
import { randomBytes } from 'node:crypto';
import type { Agent, ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { safeEqual, twilioSignature } from '@domiq/webhook-signatures';

const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

export const TWILIO_API_VERSION = '2010-04-01';
export const TWILIO_SIM_DEFAULT_HOST = '127.0.0.1';
export const TWILIO_SIM_DEFAULT_PORT = 8091;
export const TWILIO_SIM_DEFAULT_CALLBACK_DELAY_MS = 50;
/** Twilio gives a status callback 15 s to answer. */
export const TWILIO_SIM_DEFAULT_CALLBACK_TIMEOUT_MS = 15_000;
/** How long a `timeout` fault holds a request before destroying its socket. */
export const TWILIO_SIM_DEFAULT_TIMEOUT_HOLD_MS = 30_000;
const MAX_REQUEST_BYTES = 1024 * 1024;
const MAX_BODY_CHARS = 1600;
const E164 = /^\+[1-9]\d{1,14}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const MESSAGE_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/;

export type TwilioMessageStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'undelivered';

export const TWILIO_SIM_FAULT_KINDS = [
  'http500', 'http503', 'http429', 'timeout', 'drop_after_accept', 'failed', 'undelivered', 'duplicate_callbacks', 'reorder_callbacks',
] as const;
export type TwilioSimFaultKind = (typeof TWILIO_SIM_FAULT_KINDS)[number];

export interface TwilioSimAccount { accountSid: string; authToken: string }

export interface TwilioSimOptions {
  /** 0 = any free port (the default). */
  port?: number;
  host?: string;
  accounts?: TwilioSimAccount[];
  /** Time between two lifecycle steps of a message (queued, sent, delivered...). */
  callbackDelayMs?: number;
  /** How long a status callback may take to answer before it is recorded as failed (httpStatus 0). */
  callbackTimeoutMs?: number;
  /** How long a `timeout` fault holds a request before destroying its socket (default 30 s). */
  timeoutHoldMs?: number;
  /** Clock for date_created / date_sent; tests pin it to make the DateSent filters exact. */
  now?: () => Date;
}

export interface TwilioSim {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface TwilioSimFaultSpec {
  kind: TwilioSimFaultKind;
  /** Only sends to this number (E.164); every send when absent. */
  to?: string;
  /** The next N matching sends; 1 when absent. */
  times?: number;
  /** failed (default 30008) and undelivered (default 30003) only. */
  errorCode?: number;
}

export interface TwilioSimFault { id: string; kind: TwilioSimFaultKind; to: string | null; remaining: number; errorCode: number | null }

export interface TwilioSimCallback {
  status: TwilioMessageStatus;
  /** The status our receiver answered; 0 when the call failed (see error). */
  httpStatus: number;
  error?: string;
  /** When the callback was sent (ISO). */
  at: string;
}

/** A message as GET /_sim/messages shows it. */
export interface TwilioSimMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string | null;
  status: TwilioMessageStatus;
  errorCode: number | null;
  dateCreated: string;
  /** In the order they were answered (one at a time per message). */
  callbacks: TwilioSimCallback[];
}

/** Twilio's Message resource (JSON). */
export interface TwilioMessageResource {
  account_sid: string;
  api_version: string;
  body: string;
  date_created: string;
  date_sent: string | null;
  date_updated: string;
  direction: 'outbound-api';
  error_code: number | null;
  error_message: string | null;
  from: string;
  messaging_service_sid: null;
  num_media: string;
  num_segments: string;
  price: null;
  price_unit: string;
  sid: string;
  status: TwilioMessageStatus;
  subresource_uris: { media: string };
  to: string;
  uri: string;
}

export interface TwilioMessageList {
  messages: TwilioMessageResource[];
  end: number;
  first_page_uri: string;
  next_page_uri: string | null;
  page: number;
  page_size: number;
  previous_page_uri: string | null;
  start: number;
  uri: string;
}

/** Twilio's REST error body. */
export interface TwilioApiError { code: number; message: string; more_info: string; status: number }

interface Reply { status: number; headers: Record<string, string>; body: string }
/** What a request handler decided: an answer, or (faults) holding the request or cutting its socket. */
type Outcome = Reply | 'hold' | 'drop';

interface Step { status: TwilioMessageStatus; errorCode: number | null }

interface PendingCallback { status: TwilioMessageStatus; params: Record<string, string>; token: string }

interface StoredMessage {
  seq: number;
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string | null;
  status: TwilioMessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  callbacks: TwilioSimCallback[];
  steps: Step[];
  duplicateCallbacks: boolean;
  reverseCallbacks: boolean;
  /** Callbacks a reorder fault holds back until the last step. */
  heldBack: PendingCallback[];
  outbox: PendingCallback[];
  sending: boolean;
  cancelled: boolean;
}

interface ActiveFault { id: string; kind: TwilioSimFaultKind; to: string | null; remaining: number; errorCode: number | null }

/** Delivery errors a failed / undelivered message reports (error_message); other codes get a generic text. */
const DELIVERY_ERRORS: Record<number, string> = {
  30001: 'Queue overflow',
  30002: 'Account suspended',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
};

const REJECTING_FAULTS: ReadonlySet<TwilioSimFaultKind> = new Set(['http500', 'http503', 'http429', 'timeout']);
const TRANSPORT_FAULTS: ReadonlySet<TwilioSimFaultKind> = new Set([...REJECTING_FAULTS, 'drop_after_accept']);

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply =>
  ({ status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) });

function twilioError(status: number, code: number, message: string, headers: Record<string, string> = {}): Reply {
  const body: TwilioApiError = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  return json(status, body, headers);
}

const unauthorized = (): Reply => twilioError(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' });
const notFound = (path: string): Reply => twilioError(404, 20404, `The requested resource ${path} was not found`);
const methodNotAllowed = (allow: string): Reply => twilioError(405, 20004, 'Method not allowed', { allow });
/** Our control endpoints' error shape. */
const controlError = (error: string, field: string | null): Reply => json(400, { error, field });

/** RFC 2822, as Twilio writes dates: "Fri, 04 Dec 2026 18:40:00 +0000". */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

const utcDay = (date: Date): string => date.toISOString().slice(0, 10);

function validDay(value: string): boolean {
  const m = DAY.exec(value);
  if (!m) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && utcDay(date) === value;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** GSM-7 segmentation: one segment up to 160 characters, then 153 per segment (the rest is the concatenation header). */
export function segmentCount(body: string): number {
  const length = [...body].length;
  return length <= 160 ? 1 : Math.ceil(length / 153);
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function isFormContentType(header: string | undefined): boolean {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

interface RequestBody { text: string; tooLarge: boolean }

/** Reads the whole body; past MAX_REQUEST_BYTES it keeps draining (so the client gets its 413) but stores nothing. */
function readBody(req: IncomingMessage): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      ended = true;
      resolve({ text: size > MAX_REQUEST_BYTES ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge: size > MAX_REQUEST_BYTES });
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!ended) reject(new Error('request aborted'));
    });
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

function validateFault(raw: Record<string, unknown>): { spec: TwilioSimFaultSpec } | { error: string; field: string } {
  const { kind, to, times, errorCode } = raw;
  if (typeof kind !== 'string' || !(TWILIO_SIM_FAULT_KINDS as readonly string[]).includes(kind)) {
    return { error: `kind must be one of ${TWILIO_SIM_FAULT_KINDS.join(', ')}`, field: 'kind' };
  }
  const faultKind = kind as TwilioSimFaultKind;
  if (to !== undefined && (typeof to !== 'string' || !E164.test(to))) return { error: 'to must be an E.164 phone number', field: 'to' };
  if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 1)) {
    return { error: 'times must be a positive integer', field: 'times' };
  }
  if (errorCode !== undefined) {
    if (faultKind !== 'failed' && faultKind !== 'undelivered') return { error: 'errorCode applies to failed and undelivered faults only', field: 'errorCode' };
    if (typeof errorCode !== 'number' || !Number.isInteger(errorCode) || errorCode < 1) return { error: 'errorCode must be a positive integer', field: 'errorCode' };
  }
  return {
    spec: {
      kind: faultKind,
      ...(to === undefined ? {} : { to: to as string }),
      ...(times === undefined ? {} : { times: times as number }),
      ...(errorCode === undefined ? {} : { errorCode: errorCode as number }),
    },
  };
}

function validateAccount(raw: unknown): TwilioSimAccount | { error: string; field: string } {
  const value = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const { accountSid, authToken } = value;
  if (typeof accountSid !== 'string' || !ACCOUNT_SID.test(accountSid)) return { error: 'accountSid must be AC followed by 32 hex digits', field: 'accountSid' };
  if (typeof authToken !== 'string' || authToken === '') return { error: 'authToken must be a non-empty string', field: 'authToken' };
  return { accountSid, authToken };
}

export async function startTwilioSim(opts: TwilioSimOptions = {}): Promise<TwilioSim> {
  const now = opts.now ?? (() => new Date());
  const callbackDelayMs = opts.callbackDelayMs ?? TWILIO_SIM_DEFAULT_CALLBACK_DELAY_MS;
  const callbackTimeoutMs = opts.callbackTimeoutMs ?? TWILIO_SIM_DEFAULT_CALLBACK_TIMEOUT_MS;
  const holdMs = opts.timeoutHoldMs ?? TWILIO_SIM_DEFAULT_TIMEOUT_HOLD_MS;
  if (!Number.isFinite(callbackDelayMs) || callbackDelayMs < 0) throw new Error('callbackDelayMs must be a non-negative number');
  if (!Number.isFinite(callbackTimeoutMs) || callbackTimeoutMs <= 0) throw new Error('callbackTimeoutMs must be a positive number');
  if (!Number.isFinite(holdMs) || holdMs < 0) throw new Error('timeoutHoldMs must be a non-negative number');

  const accounts = new Map<string, string>();
  for (const account of opts.accounts ?? []) {
    const checked = validateAccount(account);
    if ('error' in checked) throw new Error(`accounts: ${checked.error}`);
    accounts.set(checked.accountSid, checked.authToken);
  }
  const messages: StoredMessage[] = [];
  const bySid = new Map<string, StoredMessage>();
  let faults: ActiveFault[] = [];
  const optOuts = new Set<string>();
  let seq = 0;
  let faultSeq = 0;
  let closed = false;

  // Everything close() (and, for lifecycles and callbacks, reset) must cut loose.
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<ClientRequest>();
  const held = new Map<ServerResponse, NodeJS.Timeout>();
  const agents: { http: Agent; https: Agent } = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  function schedule(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  function stopActivity(): void {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    for (const m of messages) m.cancelled = true;
    for (const req of inflight) req.destroy(new Error('simulator reset'));
    inflight.clear();
  }

  // --- faults ---------------------------------------------------------------------------------------------------

  const matches = (fault: ActiveFault, to: string | undefined): boolean => fault.remaining > 0 && (fault.to === null || fault.to === to);

  function findFault(to: string | undefined, kinds: ReadonlySet<TwilioSimFaultKind>): ActiveFault | undefined {
    return faults.find((f) => kinds.has(f.kind) && matches(f, to));
  }

  function consume(fault: ActiveFault): void {
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults = faults.filter((f) => f !== fault);
  }

  /** Consumes and returns the first matching fault of these kinds. */
  function takeFault(to: string | undefined, kinds: ReadonlySet<TwilioSimFaultKind>): ActiveFault | undefined {
    const fault = findFault(to, kinds);
    if (fault) consume(fault);
    return fault;
  }

  // --- lifecycle and status callbacks -----------------------------------------------------------------------------

  function callbackParams(m: StoredMessage, step: Step): Record<string, string> {
    const params: Record<string, string> = {
      AccountSid: m.accountSid, ApiVersion: TWILIO_API_VERSION, From: m.from, MessageSid: m.sid,
      MessageStatus: step.status, SmsSid: m.sid, SmsStatus: step.status, To: m.to,
    };
    // Twilio sends ErrorCode (never ErrorMessage) for failed and undelivered messages.
    if (step.errorCode !== null) params['ErrorCode'] = String(step.errorCode);
    return params;
  }

  function advance(m: StoredMessage, index: number): void {
    const step = m.steps[index];
    if (m.cancelled || step === undefined) return;
    if (m.status !== step.status) {
      const at = now();
      m.status = step.status;
      m.dateUpdated = at;
      if (step.status === 'sent') m.dateSent = at;
      if (step.errorCode !== null) {
        m.errorCode = step.errorCode;
        m.errorMessage = DELIVERY_ERRORS[step.errorCode] ?? `Delivery failed (error ${step.errorCode})`;
      }
    }
    const last = index === m.steps.length - 1;
    if (m.statusCallback !== null) {
      // One token per callback: a duplicate is the same callback delivered again, so it carries the same token.
      const callback: PendingCallback = { status: step.status, params: callbackParams(m, step), token: hex(16) };
      const copies = m.duplicateCallbacks ? [callback, { ...callback }] : [callback];
      if (m.reverseCallbacks) {
        m.heldBack.push(...copies);
        if (last) m.outbox.push(...m.heldBack.reverse());
      } else {
        m.outbox.push(...copies);
      }
      pump(m);
    }
    if (!last) schedule(() => advance(m, index + 1), callbackDelayMs);
  }

  /** Sends the message's next callback once the previous one was answered (or failed). */
  function pump(m: StoredMessage): void {
    if (m.sending || m.cancelled || closed || m.statusCallback === null) return;
    const next = m.outbox.shift();
    if (next === undefined) return;
    m.sending = true;
    void deliver(m.statusCallback, m.accountSid, next).then((record) => {
      m.sending = false;
      if (m.cancelled) return;
      m.callbacks.push(record);
      pump(m);
    });
  }

  function deliver(callbackUrl: string, accountSid: string, callback: PendingCallback): Promise<TwilioSimCallback> {
    const at = now().toISOString();
    return new Promise((resolve) => {
      let settled = false;
      let req: ClientRequest | undefined;
      const finish = (httpStatus: number, error?: string): void => {
        if (settled) return;
        settled = true;
        if (req) inflight.delete(req);
        resolve({ status: callback.status, httpStatus, ...(error === undefined ? {} : { error }), at });
      };
      try {
        const target = new URL(callbackUrl);
        const secure = target.protocol === 'https:';
        const body = new URLSearchParams(callback.params).toString();
        // Signed with the account's current token, as Twilio signs with the primary token at the time it calls.
        const authToken = accounts.get(accountSid) ?? '';
        req = (secure ? https : http).request(target, {
          method: 'POST',
          agent: secure ? agents.https : agents.http,
          timeout: callbackTimeoutMs,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': String(Buffer.byteLength(body)),
            'x-twilio-signature': twilioSignature(authToken, callbackUrl, callback.params),
            'user-agent': 'TwilioProxy/1.1',
            'i-twilio-idempotency-token': callback.token,
            accept: '*/*',
          },
        });
        inflight.add(req);
        const sent = req;
        sent.on('response', (res) => {
          const status = res.statusCode ?? 0;
          res.on('end', () => finish(status));
          res.on('close', () => finish(status));
          res.on('error', () => finish(status));
          res.resume();
        });
        sent.on('timeout', () => sent.destroy(new Error(`no answer within ${callbackTimeoutMs} ms`)));
        sent.on('error', (err) => finish(0, err.message));
        sent.end(body);
      } catch (err) {
        finish(0, (err as Error).message);
      }
    });
  }

  // --- the Message resource ---------------------------------------------------------------------------------------

  function resource(m: StoredMessage): TwilioMessageResource {
    const base = `/${TWILIO_API_VERSION}/Accounts/${m.accountSid}/Messages/${m.sid}`;
    return {
      account_sid: m.accountSid,
      api_version: TWILIO_API_VERSION,
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: m.dateSent === null ? null : rfc2822(m.dateSent),
      date_updated: rfc2822(m.dateUpdated),
      direction: 'outbound-api',
      error_code: m.errorCode,
      error_message: m.errorMessage,
      from: m.from,
      messaging_service_sid: null,
      num_media: String(m.mediaUrls.length),
      num_segments: String(segmentCount(m.body)),
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: `${base}/Media.json` },
      to: m.to,
      uri: `${base}.json`,
    };
  }

  function inspection(m: StoredMessage): TwilioSimMessage {
    return {
      sid: m.sid, accountSid: m.accountSid, to: m.to, from: m.from, body: m.body, mediaUrls: [...m.mediaUrls],
      statusCallback: m.statusCallback, status: m.status, errorCode: m.errorCode, dateCreated: m.dateCreated.toISOString(),
      callbacks: m.callbacks.map((c) => ({ ...c })),
    };
  }

  /** The account the request authenticates as, when it is the path's account; null otherwise (401). */
  function authenticate(req: IncomingMessage, pathAccountSid: string): string | null {
    const auth = parseBasicAuth(req.headers.authorization);
    if (auth === null || auth.user !== pathAccountSid) return null;
    const token = accounts.get(auth.user);
    return token !== undefined && safeEqual(token, auth.password) ? auth.user : null;
  }

  function createMessage(req: IncomingMessage, accountSid: string, body: RequestBody): Outcome {
    if (authenticate(req, accountSid) === null) return unauthorized();
    if (body.tooLarge) return twilioError(413, 20001, 'Request body too large');
    if (!isFormContentType(req.headers['content-type'])) {
      return twilioError(400, 20001, 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(body.text);
    const value = (name: string): string | undefined => {
      const v = form.get(name);
      return v === null || v === '' ? undefined : v;
    };
    const to = value('To');
    // Transport faults come before validation (a 500 validates nothing); drop_after_accept needs a valid message.
    const transport = findFault(to, TRANSPORT_FAULTS);
    if (transport !== undefined && REJECTING_FAULTS.has(transport.kind)) {
      consume(transport);
      switch (transport.kind) {
        case 'http500': return twilioError(500, 20500, 'Internal Server Error');
        case 'http503': return twilioError(503, 20503, 'Service Unavailable');
        case 'http429': return twilioError(429, 20429, 'Too Many Requests', { 'retry-after': '1' });
        default: return 'hold';
      }
    }
    const from = value('From');
    const text = form.get('Body') ?? '';
    const mediaUrls = form.getAll('MediaUrl').filter((u) => u !== '');
    const statusCallback = value('StatusCallback');
    if (to === undefined) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (from === undefined) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (text === '' && mediaUrls.length === 0) return twilioError(400, 21602, 'Message body is required.');
    if ([...text].length > MAX_BODY_CHARS) return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (mediaUrls.some((u) => !isHttpUrl(u))) return twilioError(400, 21620, 'Invalid media URL(s)');
    if (statusCallback !== undefined && !isHttpUrl(statusCallback)) return twilioError(400, 21609, 'Invalid StatusCallback url');
    if (optOuts.has(to)) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');

    const drop = transport !== undefined;
    if (transport !== undefined) consume(transport);
    const outcome = takeFault(to, new Set(['failed', 'undelivered']));
    const duplicate = takeFault(to, new Set(['duplicate_callbacks'])) !== undefined;
    const reorder = takeFault(to, new Set(['reorder_callbacks'])) !== undefined;
    let steps: Step[] = [{ status: 'queued', errorCode: null }, { status: 'sent', errorCode: null }, { status: 'delivered', errorCode: null }];
    if (outcome?.kind === 'failed') steps = [{ status: 'queued', errorCode: null }, { status: 'failed', errorCode: outcome.errorCode ?? 30008 }];
    if (outcome?.kind === 'undelivered') {
      steps = [{ status: 'queued', errorCode: null }, { status: 'sent', errorCode: null }, { status: 'undelivered', errorCode: outcome.errorCode ?? 30003 }];
    }
    const created = now();
    const message: StoredMessage = {
      seq: ++seq, sid: `SM${hex(16)}`, accountSid, to, from, body: text, mediaUrls, statusCallback: statusCallback ?? null,
      status: 'queued', errorCode: null, errorMessage: null, dateCreated: created, dateUpdated: created, dateSent: null,
      callbacks: [], steps, duplicateCallbacks: duplicate, reverseCallbacks: reorder, heldBack: [], outbox: [], sending: false, cancelled: false,
    };
    messages.push(message);
    bySid.set(message.sid, message);
    schedule(() => advance(message, 0), callbackDelayMs);
    return drop ? 'drop' : json(201, resource(message));
  }

  function fetchMessage(req: IncomingMessage, accountSid: string, messageSid: string, path: string): Reply {
    if (authenticate(req, accountSid) === null) return unauthorized();
    const m = bySid.get(messageSid);
    return m !== undefined && m.accountSid === accountSid ? json(200, resource(m)) : notFound(path);
  }

  // One page only: every matching message (up to PageSize) is on page 0, so next_page_uri is always null.
  function listMessages(req: IncomingMessage, accountSid: string, url: URL): Reply {
    if (authenticate(req, accountSid) === null) return unauthorized();
    const query = url.searchParams;
    const to = query.get('To');
    const from = query.get('From');
    const days: Array<{ name: string; value: string; test: (day: string, value: string) => boolean }> = [
      { name: 'DateSent', value: '', test: (day, v) => day === v },
      { name: 'DateSent>', value: '', test: (day, v) => day >= v },
      { name: 'DateSent<', value: '', test: (day, v) => day <= v },
    ];
    for (const d of days) {
      const raw = query.get(d.name);
      if (raw === null) continue;
      if (!validDay(raw)) return twilioError(400, 20001, `Invalid ${d.name}: ${raw} (expected YYYY-MM-DD)`);
      d.value = raw;
    }
    const rawPageSize = query.get('PageSize');
    let pageSize = 50;
    if (rawPageSize !== null) {
      const n = Number(rawPageSize);
      if (!/^\d+$/.test(rawPageSize) || n < 1) return twilioError(400, 20001, `Invalid PageSize: ${rawPageSize}`);
      pageSize = Math.min(n, 1000);
    }
    const matching = messages
      .filter((m) => m.accountSid === accountSid)
      .filter((m) => to === null || m.to === to)
      .filter((m) => from === null || m.from === from)
      .filter((m) => {
        // Twilio filters on date_sent; a message not sent yet is matched on date_created.
        const day = utcDay(m.dateSent ?? m.dateCreated);
        return days.every((d) => d.value === '' || d.test(day, d.value));
      })
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime() || b.seq - a.seq)
      .slice(0, pageSize);
    const pageQuery = new URLSearchParams();
    if (to !== null) pageQuery.set('To', to);
    if (from !== null) pageQuery.set('From', from);
    for (const d of days) if (d.value !== '') pageQuery.set(d.name, d.value);
    pageQuery.set('PageSize', String(pageSize));
    pageQuery.set('Page', '0');
    const uri = `/${TWILIO_API_VERSION}/Accounts/${accountSid}/Messages.json?${pageQuery.toString()}`;
    const list: TwilioMessageList = {
      messages: matching.map(resource),
      end: Math.max(0, matching.length - 1),
      first_page_uri: uri,
      next_page_uri: null,
      page: 0,
      page_size: pageSize,
      previous_page_uri: null,
      start: 0,
      uri,
    };
    return json(200, list);
  }

  // --- control endpoints ------------------------------------------------------------------------------------------

  function reset(): void {
    stopActivity();
    messages.length = 0;
    bySid.clear();
    faults = [];
    optOuts.clear();
  }

  function control(method: string, url: URL, body: RequestBody): Reply {
    const path = url.pathname.replace(/\/+$/, '');
    const parsed = (): { value: Record<string, unknown> } | { reply: Reply } => {
      if (body.tooLarge) return { reply: json(413, { error: 'request body too large', field: null }) };
      const value = parseJsonObject(body.text);
      return value === null ? { reply: controlError('the body must be a JSON object', null) } : { value };
    };
    switch (`${method} ${path}`) {
      case 'POST /_sim/accounts': {
        const input = parsed();
        if ('reply' in input) return input.reply;
        const raw = input.value;
        const account = validateAccount(raw);
        if ('error' in account) return controlError(account.error, account.field);
        accounts.set(account.accountSid, account.authToken);
        return json(201, { accountSid: account.accountSid });
      }
      case 'POST /_sim/faults': {
        const input = parsed();
        if ('reply' in input) return input.reply;
        const raw = input.value;
        const checked = validateFault(raw);
        if ('error' in checked) return controlError(checked.error, checked.field);
        const fault: ActiveFault = {
          id: `fault-${++faultSeq}`, kind: checked.spec.kind, to: checked.spec.to ?? null,
          remaining: checked.spec.times ?? 1, errorCode: checked.spec.errorCode ?? null,
        };
        faults.push(fault);
        return json(201, { id: fault.id });
      }
      case 'GET /_sim/faults':
        return json(200, { faults: faults.map((f): TwilioSimFault => ({ ...f })) });
      case 'DELETE /_sim/faults':
        faults = [];
        return json(200, { ok: true });
      case 'POST /_sim/opt-outs': {
        const input = parsed();
        if ('reply' in input) return input.reply;
        const raw = input.value;
        const to = raw['to'];
        if (typeof to !== 'string' || !E164.test(to)) return controlError('to must be an E.164 phone number', 'to');
        optOuts.add(to);
        return json(201, { to });
      }
      case 'GET /_sim/messages': {
        // A hand-written `?to=+1555...` decodes the + as a space: read it back as the + it was.
        const to = url.searchParams.get('to')?.replace(/^ (?=\d)/, '+');
        const list = messages.filter((m) => to === undefined || m.to === to).map(inspection);
        return json(200, { messages: list });
      }
      case 'POST /_sim/reset':
        reset();
        return json(200, { ok: true });
      default: {
        const known = ['/_sim/accounts', '/_sim/faults', '/_sim/opt-outs', '/_sim/messages', '/_sim/reset'];
        if (known.includes(path)) return methodNotAllowed(path === '/_sim/faults' ? 'GET, POST, DELETE' : path === '/_sim/messages' ? 'GET' : 'POST');
        return notFound(url.pathname);
      }
    }
  }

  // --- the server -------------------------------------------------------------------------------------------------

  async function handle(req: IncomingMessage): Promise<Outcome> {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://twilio-sim.local');
    } catch {
      return twilioError(400, 20001, 'Malformed request URL');
    }
    const path = url.pathname;
    if (path.startsWith('/_sim/')) return control(method, url, body);
    const list = MESSAGES_PATH.exec(path);
    if (list?.[1]) {
      if (method === 'POST') return createMessage(req, list[1], body);
      if (method === 'GET') return listMessages(req, list[1], url);
      return methodNotAllowed('GET, POST');
    }
    const one = MESSAGE_PATH.exec(path);
    if (one?.[1] && one[2]) {
      if (method === 'GET') return fetchMessage(req, one[1], one[2], path);
      return methodNotAllowed('GET');
    }
    return notFound(path);
  }

  function hold(res: ServerResponse): void {
    const timer = setTimeout(() => {
      held.delete(res);
      res.socket?.destroy();
    }, holdMs);
    held.set(res, timer);
    res.on('close', () => {
      clearTimeout(timer);
      held.delete(res);
    });
  }

  const server = http.createServer((req, res) => {
    handle(req).then(
      (outcome) => {
        if (outcome === 'hold') hold(res);
        else if (outcome === 'drop') res.socket?.destroy();
        else send(res, outcome);
      },
      () => {
        // The request's body could not be read (the client went away): nobody to answer.
        if (!res.destroyed) res.socket?.destroy();
      },
    );
  });

  const host = opts.host ?? TWILIO_SIM_DEFAULT_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        closed = true;
        stopActivity();
        for (const [res, timer] of held) {
          clearTimeout(timer);
          res.socket?.destroy();
        }
        held.clear();
        agents.http.destroy();
        agents.https.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
