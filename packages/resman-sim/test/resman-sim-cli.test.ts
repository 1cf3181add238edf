import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('resman-sim CLI', () => {
  it('starts from env, logs one JSON line, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', RESMAN_SIM_ACCOUNT_ID: '777', RESMAN_SIM_API_KEY: 'k', RESMAN_SIM_PARTNER_ID: 'p' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const started = JSON.parse(first);
      expect(started).toMatchObject({ msg: 'resman-sim listening', accountId: 777, propertyId: '6f7c3a7e-1d1b-4c53-9f59-2d0b5a1e8c11' });
      const res = await fetch(`${started.url}/Leasing/GetEmployees`, {
        method: 'POST',
        body: new URLSearchParams({ IntegrationPartnerID: 'p', ApiKey: 'k', AccountID: '777' }),
      });
      expect(await res.json()).toMatchObject({ Status: 'Success', AccountID: 777, Employees: expect.arrayContaining([expect.objectContaining({ Name: 'Demo Agent' })]) });
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
