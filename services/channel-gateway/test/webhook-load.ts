// Helpers for the suites that fire many concurrent signed webhooks at a gateway process (group commit, crash).
import { request } from 'node:http';
import { twilioSignature } from '@domiq/webhook-signatures';

/**
 * Gateway environment for suites that send hundreds of webhooks from one address to one channel within seconds: the
 * per-source and per-channel rate limits out of the way.
 */
export const UNTHROTTLED_WEBHOOKS: Record<string, string> = { WEBHOOK_RATE_LIMIT_PER_SOURCE: '100000000', WEBHOOK_RATE_LIMIT_PER_CHANNEL: '100000000' };

export interface Answer {
  status: number;
  body: string;
}

/**
 * A Twilio webhook signed for `publicBase` (the URL Twilio signs) and posted to `port` on a connection of its own
 * (no pooling: a request is answered or its connection fails, nothing is retried underneath). Rejects when the
 * connection fails before an answer (the process died, or refused it).
 */
export function postSigned(port: number, publicBase: string, channelKey: string, token: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  const path = `/webhooks/twilio/${channelKey}`;
  const body = new URLSearchParams(params).toString();
  const all: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)),
    'x-twilio-signature': twilioSignature(token, publicBase + path, params), ...headers,
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: all, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `count` jobs with at most `concurrency` in flight; stops taking new ones once `stop()` says so. */
export async function runBounded(count: number, concurrency: number, job: (i: number) => Promise<void>, stop: () => boolean = () => false): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && !stop()) await job(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

/** The value of one sample on a process's /metrics (0 when absent), e.g. `domiq_group_commit_size_count{committer="webhook-inbound"}`. */
export async function metricValue(opsPort: string | number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
