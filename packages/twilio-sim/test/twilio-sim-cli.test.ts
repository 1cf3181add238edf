import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { newAccountSid } from '../src/index.ts';
import { basicAuth } from './twilio-sim.helper.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('twilio-sim CLI', () => {
  it('starts from env, logs one JSON line, serves, and exits 0 on SIGTERM', async () => {
    const accountSid = newAccountSid();
    const token = 'cli-test-token';
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TWILIO_SIM_ACCOUNTS: `${accountSid}:${token}`, TWILIO_SIM_CALLBACK_DELAY_MS: '5' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const started = JSON.parse(first) as Record<string, unknown>;
      expect(started).toEqual({
        level: 'info', time: expect.any(String), service: 'twilio-sim', msg: 'twilio-sim listening',
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), port: expect.any(Number),
      });
      expect(started['url']).toBe(`http://127.0.0.1:${started['port'] as number}`);
      expect(first).not.toContain(token);
      const res = await fetch(`${started['url'] as string}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
        method: 'POST',
        headers: { authorization: basicAuth(accountSid, token), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ To: '+15551230001', From: '+15550001111', Body: 'hi' }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ account_sid: accountSid, status: 'queued' });
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits non-zero on a malformed TWILIO_SIM_ACCOUNTS', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: '0', TWILIO_SIM_ACCOUNTS: 'ACnothex:tok' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/TWILIO_SIM_ACCOUNTS/);
    expect(stderr).not.toContain('tok\n');
  });
});
