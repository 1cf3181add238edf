// `npm run token -- --account <id> --role <role> [--property <id> ...] [--ttl 1h] [--sub <user id>]`
// `npm run token -- --service <name> [--ttl 30d]`
// Prints a signed token (and nothing else on stdout). Signs with the local development key (generated on first
// use under .data/keys/) unless --key names another private JWK file.
import { parseArgs } from 'node:util';
import { ensureDevKeys, isUuid, mintToken, parseTtl, readSigningKey, ROLES, type Role } from '@domiq/auth';
import { SERVICE_NAMES, type ServiceName } from '@domiq/proto/services';

const usage = `usage: npm run token -- --account <uuid> --role <${ROLES.join('|')}> [--property <uuid>]... [--sub <uuid>] [--ttl 1h] [--key <private-jwk.json>]
       npm run token -- --service <${SERVICE_NAMES.join('|')}> [--ttl 30d] [--key <private-jwk.json>]`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

export async function tokenCommand(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        account: { type: 'string' }, role: { type: 'string' }, property: { type: 'string', multiple: true }, sub: { type: 'string' },
        service: { type: 'string' }, ttl: { type: 'string' }, key: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(values.ttl ?? (values.service ? '30d' : '1h'));
  } catch (err) {
    fail(`--ttl: ${(err as Error).message}`);
  }
  const privateJwk = readSigningKey(values.key ?? (await ensureDevKeys()).signingKey);
  if (values.service) {
    if (!SERVICE_NAMES.includes(values.service as ServiceName)) fail(`--service must be one of ${SERVICE_NAMES.join(', ')}`);
    process.stdout.write(`${await mintToken(privateJwk, { service: values.service as ServiceName }, { ttlSeconds })}\n`);
    return;
  }
  const accountId = values.account?.toLowerCase();
  if (!accountId || !isUuid(accountId)) fail('--account must be a UUID');
  const role = values.role as Role;
  if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
  const propertyIds = (values.property ?? []).map((p) => p.toLowerCase());
  if (propertyIds.some((p) => !isUuid(p))) fail('--property must be a UUID');
  if (role === 'property_manager' && propertyIds.length === 0) fail('a property_manager token needs at least one --property');
  const userId = (values.sub ?? crypto.randomUUID()).toLowerCase();
  if (!isUuid(userId)) fail('--sub must be a UUID (the user id)');
  process.stdout.write(`${await mintToken(privateJwk, { userId, role, accountId, propertyIds }, { ttlSeconds })}\n`);
}

if (import.meta.main) await tokenCommand(process.argv.slice(2));
