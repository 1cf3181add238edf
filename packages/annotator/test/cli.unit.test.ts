import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');

function runCli(stdin: string): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr: err }));
    child.stdin.end(stdin);
  });
}

describe('annotate CLI', () => {
  it('annotates each good line and reports a malformed one, then exits 0', async () => {
    const input = [
      JSON.stringify({ id: 'm1', channel: 'sms', text: 'hi do u have a 2br for march 1st? i have a small dog. budget under 1800', sent_at: '2025-02-12T19:04:00-06:00' }),
      '{"id": "m2", "channel": "sms", "text": 12, "sent_at": "2025-02-12T19:04:00-06:00"}',
      JSON.stringify({ id: 'm3', channel: 'email', text: 'My rent payment of $1,425.00 was declined but the money left my account. TXN-48213\n\nThanks,\nJohn\n\nSent from my iPhone', sent_at: '2025-03-02T09:00:00Z' }),
      '{"id": "m4", "channel": "sms", "text": "hi"',
    ].join('\n');
    const { code, lines, stderr } = await runCli(`${input}\n`);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines).toHaveLength(4);
    const [first, second, third, fourth] = lines;
    expect(first).toMatchObject({ id: 'm1', intent: 'how_to_guidance', severity: 'P3', lead: { bedrooms: 2, move_in: '2025-03-01', pets: [{ type: 'dog', count: 1 }], budget_max: 1800 } });
    expect(Object.keys(first!).sort()).toEqual(['entities', 'id', 'intent', 'intent_confidence', 'lead', 'sentiment', 'sentiment_score', 'severity']);
    expect(second).toEqual({ id: 'm2', error: 'line 2: text: must be a string, got number' });
    expect(third).toMatchObject({ id: 'm3', intent: 'transaction_system_failure', entities: { transaction_ids: ['TXN-48213'], money: ['$1,425.00'] }, lead: {} });
    expect(fourth).toEqual({ id: null, error: 'line 4: not valid JSON' });
  });

  it('names a missing field and a bad sent_at', async () => {
    const { code, lines } = await runCli('{"id":"a","channel":"sms","text":"ok"}\n{"id":"b","channel":"sms","text":"ok","sent_at":"tomorrow"}\n[1,2]\n');
    expect(code).toBe(0);
    expect(lines).toEqual([
      { id: 'a', error: 'line 1: sent_at: is missing' },
      { id: 'b', error: 'line 2: sent_at: is not an ISO 8601 date-time: "tomorrow"' },
      { id: null, error: 'line 3: message: must be a JSON object' },
    ]);
  });

  it('streams: answers a line before the input ends', async () => {
    const child = spawn(process.execPath, [CLI], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.write(`${JSON.stringify({ id: 's1', channel: 'web_chat', text: 'how do i set up autopay?', sent_at: '2025-01-17T13:40:00-05:00' })}\n`);
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    expect(JSON.parse(first.split('\n')[0]!)).toMatchObject({ id: 's1', intent: 'how_to_guidance' });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.end();
    expect(await closed).toBe(0);
  });

  it('exits 0 on empty input', async () => {
    const { code, lines } = await runCli('');
    expect(code).toBe(0);
    expect(lines).toEqual([]);
  });
});
