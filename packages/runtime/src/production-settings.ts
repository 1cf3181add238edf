// DOMIQ_ENV=production refuses settings that are fine on a laptop and unsafe anywhere else. One pure function
// returns every problem; Platform.start reports them all and exits 78, before opening any connection.
import { devKeyIds, readJwks } from '@domiq/auth';
import { holdsDevKey } from '@domiq/secrets';

/** What the checks look at: the service's loaded config (variables it does not have are simply absent). */
export interface ProductionSettings {
  DOMIQ_ENV?: string;
  GRPC_REFLECTION?: boolean | undefined;
  NATS_NKEY_SEED?: string | undefined;
  NATS_NKEY_SEED_FILE?: string | undefined;
  /** Only services that store secrets have these two. */
  DOMIQ_ENCRYPTION_KEY?: string | undefined;
  DOMIQ_ENCRYPTION_KEYS?: string | undefined;
  DOMIQ_JWKS?: string | undefined;
  /** The key ids in the DOMIQ_JWKS key set, when it could be read (see readJwksKeyIds). */
  jwksKeyIds?: readonly string[] | undefined;
}

export interface SettingProblem {
  variable: string;
  problem: string;
}

type Check = (s: ProductionSettings) => SettingProblem | null;

const encryptionKeys: Check = (s) => {
  if (!('DOMIQ_ENCRYPTION_KEY' in s) && !('DOMIQ_ENCRYPTION_KEYS' in s)) return null;
  const variable = s.DOMIQ_ENCRYPTION_KEYS?.trim() ? 'DOMIQ_ENCRYPTION_KEYS' : 'DOMIQ_ENCRYPTION_KEY';
  try {
    if (!holdsDevKey(s)) return null;
  } catch {
    return { variable, problem: 'no usable encryption key is configured' };
  }
  return { variable, problem: 'holds the development encryption key; set your own 32 random bytes (base64)' };
};

const reflection: Check = (s) =>
  s.GRPC_REFLECTION === true ? { variable: 'GRPC_REFLECTION', problem: 'must be off in production (it lists every method and message)' } : null;

const natsCredentials: Check = (s) =>
  s.NATS_NKEY_SEED || s.NATS_NKEY_SEED_FILE ? null : { variable: 'NATS_NKEY_SEED', problem: 'NATS credentials are required in production: set NATS_NKEY_SEED or NATS_NKEY_SEED_FILE' };

const devSigningKeys: Check = (s) => {
  if (!s.DOMIQ_JWKS) return { variable: 'DOMIQ_JWKS', problem: 'is required in production (the public keys tokens are verified against)' };
  // Fail closed: a key set that cannot be read now cannot be shown to hold no development key.
  if (!s.jwksKeyIds) return { variable: 'DOMIQ_JWKS', problem: 'cannot be read (a JWKS file, or an https URL)' };
  const dev = devKeyIds([...s.jwksKeyIds]);
  return dev.length ? { variable: 'DOMIQ_JWKS', problem: `holds development signing keys (${dev.join(', ')}); use the deployment's own keys` } : null;
};

/** Every production check, one line each. */
const checks: Check[] = [encryptionKeys, reflection, natsCredentials, devSigningKeys];

/** The problems with these settings; empty outside production. */
export function productionSettingProblems(settings: ProductionSettings): SettingProblem[] {
  if (settings.DOMIQ_ENV !== 'production') return [];
  return checks.map((check) => check(settings)).filter((p): p is SettingProblem => p !== null);
}

/** Key ids of a JWKS file or URL; undefined when it cannot be read. */
export async function readJwksKeyIds(jwks: string | undefined, timeoutMs = 5_000): Promise<string[] | undefined> {
  if (!jwks) return undefined;
  try {
    return (await readJwks(jwks, timeoutMs)).map((k) => (typeof k.kid === 'string' ? k.kid : ''));
  } catch {
    return undefined;
  }
}

/** In production, ends the process (exit 78) naming each unsafe setting; does nothing elsewhere. */
export async function refuseUnsafeProductionSettings(service: string, loaded: object): Promise<void> {
  const config = loaded as ProductionSettings; // a service's loaded config: the base variables and its own
  if (config.DOMIQ_ENV !== 'production') return;
  const problems = productionSettingProblems({ ...config, jwksKeyIds: await readJwksKeyIds(config.DOMIQ_JWKS) });
  if (problems.length === 0) return;
  process.stderr.write(`${service}: unsafe configuration for DOMIQ_ENV=production: ${problems.map((p) => `${p.variable}: ${p.problem}`).join('; ')}\n`);
  process.exit(78); // EX_CONFIG
}
