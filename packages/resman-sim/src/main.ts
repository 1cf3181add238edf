// CLI: runs the simulator for local stacks and demos; configured from the environment.
import { startResmanSim } from './resman-sim.server.ts';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_HOST, DEFAULT_PARTNER_ID, DEFAULT_PORT, DEFAULT_PROPERTY_ID,
} from './sim-defaults.ts';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

const accountId = envNumber('RESMAN_SIM_ACCOUNT_ID', DEFAULT_ACCOUNT_ID);
const propertyId = process.env['RESMAN_SIM_PROPERTY_ID'] || DEFAULT_PROPERTY_ID;
const sim = await startResmanSim({
  port: envNumber('PORT', DEFAULT_PORT),
  host: process.env['HOST'] || DEFAULT_HOST,
  integrationPartnerId: process.env['RESMAN_SIM_PARTNER_ID'] || DEFAULT_PARTNER_ID,
  apiKey: process.env['RESMAN_SIM_API_KEY'] || DEFAULT_API_KEY,
  accounts: [{ accountId, propertyIds: [propertyId] }],
});

process.stdout.write(`${JSON.stringify({
  level: 'info', time: new Date().toISOString(), service: 'resman-sim', msg: 'resman-sim listening',
  url: sim.url, port: sim.port, accountId, propertyId,
})}\n`);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  await sim.close();
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), service: 'resman-sim', msg: 'resman-sim stopped', signal })}\n`);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
