// CLI: runs the Twilio simulator for local stacks and demos; configured from the environment.
//   PORT (default 8091; 0 = any free port), HOST (default 127.0.0.1),
//   TWILIO_SIM_ACCOUNTS: optional "AC...:token" pairs, comma-separated (more can be added over POST /_sim/accounts),
//   TWILIO_SIM_CALLBACK_DELAY_MS: time between two lifecycle steps of a message (default 50).
import { startTwilioSim, TWILIO_SIM_DEFAULT_CALLBACK_DELAY_MS, TWILIO_SIM_DEFAULT_HOST, TWILIO_SIM_DEFAULT_PORT } from './twilio-sim.server.ts';
import type { TwilioSimAccount } from './twilio-sim.server.ts';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** "AC...:token,AC...:token"; a token may itself contain ':' (only the first one splits). Never echoes a token. */
function envAccounts(name: string): TwilioSimAccount[] {
  const raw = process.env[name]?.trim();
  if (!raw) return [];
  return raw.split(',').map((pair) => pair.trim()).filter((pair) => pair !== '').map((pair, i) => {
    const colon = pair.indexOf(':');
    const accountSid = colon < 0 ? pair : pair.slice(0, colon);
    const authToken = colon < 0 ? '' : pair.slice(colon + 1);
    if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid) || authToken === '') {
      throw new Error(`${name}: entry ${i + 1} must be "AC<32 hex>:<auth token>"`);
    }
    return { accountSid, authToken };
  });
}

const accounts = envAccounts('TWILIO_SIM_ACCOUNTS');
const sim = await startTwilioSim({
  port: envNumber('PORT', TWILIO_SIM_DEFAULT_PORT),
  host: process.env['HOST'] || TWILIO_SIM_DEFAULT_HOST,
  accounts,
  callbackDelayMs: envNumber('TWILIO_SIM_CALLBACK_DELAY_MS', TWILIO_SIM_DEFAULT_CALLBACK_DELAY_MS),
});

const log = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), service: 'twilio-sim', ...fields })}\n`);
};

log({ msg: 'twilio-sim listening', url: sim.url, port: sim.port });

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  await sim.close();
  log({ msg: 'twilio-sim stopped', signal });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
