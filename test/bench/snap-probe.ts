import { readdirSync } from 'node:fs';
import { startFullStack } from './full-stack.ts';
import { burst, paced } from './measure.ts';
const sys = await startFullStack({ senders: 0, drainTimeoutMs: 180_000 });
const snap = async () => {
  const before = readdirSync('/tmp/snaps').length;
  for (const s of ['resman-connector', 'channel-gateway'] as const) process.kill(sys.stack.services[s]!.pid!, 'SIGUSR2');
  while (readdirSync('/tmp/snaps').length < before + 2) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 3000));
};
try {
  await snap();
  await burst(sys, 'a', 100, 16);
  await burst(sys, 'b', 2000, 16);
  await paced(sys, 'c', 100, 10);
  await paced(sys, 'd', 300, 10);
  await snap();
} finally { await sys.stop(); }
