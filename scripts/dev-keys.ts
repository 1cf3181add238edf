// `node scripts/dev-keys.ts [--dir DIR]`: the development key pair (generated once, kid `domiq-dev-*`) and every
// service's own token, in DIR (default .data/keys): DOMIQ_JWKS=DIR/jwks.json, DOMIQ_SERVICE_TOKEN_FILE=DIR/<service>.token.
// `npm start` does this itself; compose runs it as a one-shot step. Development only: production refuses these keys.
import { parseArgs } from 'node:util';
import { DEV_KEYS_DIR, ensureDevKeys, readSigningKey, writeServiceTokens } from '@domiq/auth';

export async function writeDevKeys(dir = DEV_KEYS_DIR, ttlSeconds = 30 * 86400): Promise<{ jwks: string; signingKey: string; tokenFile(service: string): string }> {
  const keys = await ensureDevKeys(dir);
  const tokens = await writeServiceTokens(dir, readSigningKey(keys.signingKey), ttlSeconds);
  return { ...keys, tokenFile: (service) => tokens[service as keyof typeof tokens].file };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  const keys = await writeDevKeys(values.dir);
  process.stderr.write(`development keys and service tokens in ${values.dir ?? DEV_KEYS_DIR} (JWKS ${keys.jwks})\n`);
}
