// Test helpers: a Twilio REST client for the simulator (fetch, Basic auth) and a node:http status-callback receiver.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newAccountSid, registerTwilioSimAccount } from '../src/index.ts';
import type { TwilioSim, TwilioSimAccount } from '../src/index.ts';

const http = process.getBuiltinModule('node:http');

export const FROM = '+15550001111';

export function newAccount(): TwilioSimAccount {
  return { accountSid: newAccountSid(), authToken: randomBytes(16).toString('hex') };
}

export async function registeredAccount(sim: TwilioSim): Promise<TwilioSimAccount> {
  const account = newAccount();
  await registerTwilioSimAccount(sim.url, account);
  return account;
}

export const basicAuth = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export interface ApiAnswer { status: number; headers: Headers; body: any }

export type FormInput = Record<string, string | string[]>;

export function formBody(form: FormInput): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params.toString();
}

async function answer(res: Response): Promise<ApiAnswer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

export interface CallOptions {
  /** The Authorization header; the account's Basic auth when absent, none when null. */
  authorization?: string | null;
  contentType?: string;
  signal?: AbortSignal;
  /** The AccountSid in the path (the account's own when absent). */
  pathAccountSid?: string;
}

const authHeaders = (account: TwilioSimAccount, opts: CallOptions): Record<string, string> => {
  const authorization = opts.authorization === undefined ? basicAuth(account.accountSid, account.authToken) : opts.authorization;
  return authorization === null ? {} : { authorization };
};

export async function createMessage(sim: TwilioSim, account: TwilioSimAccount, form: FormInput, opts: CallOptions = {}): Promise<ApiAnswer> {
  const res = await fetch(`${sim.url}/2010-04-01/Accounts/${opts.pathAccountSid ?? account.accountSid}/Messages.json`, {
    method: 'POST',
    headers: { ...authHeaders(account, opts), 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded' },
    body: formBody(form),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return answer(res);
}

export async function fetchMessage(sim: TwilioSim, account: TwilioSimAccount, sid: string, opts: CallOptions = {}): Promise<ApiAnswer> {
  const res = await fetch(`${sim.url}/2010-04-01/Accounts/${opts.pathAccountSid ?? account.accountSid}/Messages/${sid}.json`, { headers: authHeaders(account, opts) });
  return answer(res);
}

/** `query` is appended as is, so the test controls the encoding (Twilio's `DateSent>=` syntax). */
export async function listMessages(sim: TwilioSim, account: TwilioSimAccount, query = '', opts: CallOptions = {}): Promise<ApiAnswer> {
  const res = await fetch(`${sim.url}/2010-04-01/Accounts/${opts.pathAccountSid ?? account.accountSid}/Messages.json${query}`, { headers: authHeaders(account, opts) });
  return answer(res);
}

export async function simJson(sim: TwilioSim, method: string, path: string, body?: string): Promise<ApiAnswer> {
  return answer(await fetch(`${sim.url}${path}`, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) }));
}

export interface ReceivedCallback {
  /** The URL as the receiver sees it (what it verifies the signature over). */
  url: string;
  headers: IncomingMessage['headers'];
  params: Record<string, string>;
  receivedAt: number;
  answeredAt?: number;
}

export type CallbackHandler = (cb: ReceivedCallback, res: ServerResponse) => void;

export interface Receiver {
  url: string;
  received: ReceivedCallback[];
  /** How the next requests are answered (default: 204 at once). */
  handle: CallbackHandler;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    handle: (_cb, res) => void res.writeHead(204).end(),
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const cb: ReceivedCallback = {
        url: `${receiver.url}${req.url ?? ''}`,
        headers: req.headers,
        params: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
        receivedAt: performance.now(),
      };
      receiver.received.push(cb);
      res.on('finish', () => {
        cb.answeredAt ??= performance.now();
      });
      receiver.handle(cb, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return receiver;
}

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
export const MESSAGE_SID = /^SM[0-9a-f]{32}$/;
