// Renders the Kubernetes manifests of the six services from the one template (deploy/template/services.ts) and the
// service registry (proto/src/services.ts):
//   node scripts/deploy-render.ts            check: exit 1 listing every committed file that differs from the render
//   node scripts/deploy-render.ts --write    write deploy/k8s/services/<name>.yaml and the peer addresses in
//                                            deploy/k8s/configmap.yaml
//   node scripts/deploy-render.ts --print identity    print one service's rendered manifest
// deploy/test/render.test.ts runs the check as part of the deploy tests.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '@domiq/proto/services';
import { drift, renderAll, repoRoot, serviceFile } from '../deploy/template/render.ts';

if (import.meta.main) {
  const args = process.argv.slice(2);
  const rendered = renderAll();
  if (args[0] === '--print') {
    const name = args[1] as ServiceName;
    if (!SERVICE_NAMES.includes(name)) {
      process.stderr.write(`usage: node scripts/deploy-render.ts --print <${SERVICE_NAMES.join('|')}>\n`);
      process.exit(2);
    }
    process.stdout.write(rendered.find((f) => f.path === serviceFile(name))!.text);
  } else if (args[0] === '--write' && args.length === 1) {
    const { changed, stale } = drift(rendered);
    for (const f of rendered) if (changed.includes(relative(repoRoot, f.path))) writeFileSync(f.path, f.text);
    process.stderr.write(changed.length ? `updated: ${changed.join(', ')}\n` : 'unchanged: every rendered file is up to date\n');
    // Never delete: a file no service renders any more is reported, and kustomization.yaml must drop it too.
    if (stale.length) process.stderr.write(`not rendered by any registry service (delete it and its kustomization.yaml entry): ${stale.join(', ')}\n`);
  } else if (args.length === 0) {
    const { changed, stale } = drift(rendered);
    for (const f of changed) process.stderr.write(`out of date: ${f}\n`);
    for (const f of stale) process.stderr.write(`not rendered by any registry service: ${f}\n`);
    if (changed.length || stale.length) {
      process.stderr.write('run: node scripts/deploy-render.ts --write\n');
      process.exit(1);
    }
    process.stderr.write('up to date\n');
  } else {
    process.stderr.write('usage: node scripts/deploy-render.ts [--write | --print <service>]\n');
    process.exit(2);
  }
}
