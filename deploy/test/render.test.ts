// The committed Kubernetes manifests of the six services, and the peer addresses in the ConfigMap, are exactly what
// the one template (deploy/template/services.ts) renders from the service registry: edit the template, then run
// `node scripts/deploy-render.ts --write`. manifests.test.ts checks the content of the same files.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { registry, SERVICE_NAMES, services } from '@domiq/proto/services';
import { configMapFile, deployDir, drift, renderAll, repoRoot, serviceFile, updateConfigMap } from '../template/render.ts';
import { callsPeers, DIFFERENCES, peerAddress, serviceManifests } from '../template/services.ts';
import { plain, toYamlStream } from '../template/yaml.ts';

const RERUN = 'out of date: run node scripts/deploy-render.ts --write (and commit the result)';

describe('deploy template', () => {
  const rendered = renderAll();

  it.each(rendered.map((f) => [relative(repoRoot, f.path), f] as const))('%s is what the template renders', (_path, file) => {
    expect(readFileSync(file.path, 'utf8') === file.text, `${relative(repoRoot, file.path)}: ${RERUN}`).toBe(true);
  });

  it('renders one file per registry service and deploy/k8s/services holds no other', () => {
    expect(rendered.filter((f) => f.path !== configMapFile).map((f) => f.path)).toEqual(SERVICE_NAMES.map(serviceFile));
    expect(drift(rendered)).toEqual({ changed: [], stale: [] });
  });

  it('renders valid YAML whose objects are the template objects (comments aside)', () => {
    for (const name of SERVICE_NAMES) {
      const docs = parseAllDocuments(toYamlStream(serviceManifests(name)));
      for (const doc of docs) expect(doc.errors, name).toEqual([]);
      expect(docs.map((d) => d.toJS()), name).toEqual(plain(serviceManifests(name)));
    }
  });

  it('the ConfigMap carries exactly one *_GRPC_ADDR per registry service, its headless Service and gRPC port', () => {
    const cm = parse(readFileSync(configMapFile, 'utf8')) as { data: Record<string, string> };
    const addrVars = Object.keys(cm.data).filter((k) => k.endsWith('_GRPC_ADDR'));
    expect(addrVars.sort()).toEqual(services.map((s) => s.addrVar).sort());
    for (const s of services) {
      expect(cm.data[s.addrVar]).toBe(peerAddress(s));
      expect(cm.data[s.addrVar]).toBe(`dns:///${s.name}-grpc.domiq.svc.cluster.local:${s.grpcPort}`);
      // The headless Service the address names is the one the template renders for that service.
      const headless = parseAllDocuments(readFileSync(serviceFile(s.name), 'utf8'))
        .map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { clusterIP?: string; ports: { port: number }[] } })
        .find((o) => o.kind === 'Service' && o.spec.clusterIP === 'None');
      expect(headless?.metadata.name, s.name).toBe(`${s.name}-grpc`);
      expect(headless?.spec.ports.map((p) => p.port), s.name).toEqual([s.grpcPort]);
    }
  });

  it('re-rendering the ConfigMap region is stable, and a missing region is an error', () => {
    const text = readFileSync(configMapFile, 'utf8');
    expect(updateConfigMap(updateConfigMap(text))).toBe(updateConfigMap(text));
    expect(() => updateConfigMap(text.replace(/^ *# >>> generated.*$/m, ''))).toThrow(/generated region/);
  });

  it('per-service differences: service tokens follow the registry `calls`, the HTTP face and the encryption key the table', () => {
    for (const name of SERVICE_NAMES) {
      const text = toYamlStream(serviceManifests(name));
      expect(text.includes('DOMIQ_SERVICE_TOKEN_FILE'), name).toBe(registry[name].calls.length > 0);
      expect(callsPeers(name)).toBe(registry[name].calls.length > 0);
      expect(text.includes('DOMIQ_ENCRYPTION_KEY'), name).toBe(DIFFERENCES[name].encryptionKey === true);
      expect(text.includes('kind: Ingress'), name).toBe(DIFFERENCES[name].http !== undefined);
      expect(text.includes('TRUST_PROXY_HOPS'), name).toBe(DIFFERENCES[name].http !== undefined);
    }
  });

  it('secrets.example.yaml holds a SERVICE_TOKEN exactly for the services that call peers', () => {
    const secrets = parseAllDocuments(readFileSync(join(deployDir, 'secrets.example.yaml'), 'utf8')).map(
      (d) => d.toJS() as { metadata: { name: string }; stringData?: Record<string, string> },
    );
    for (const name of SERVICE_NAMES) {
      const secret = secrets.find((s) => s.metadata.name === `${name}-secrets`);
      expect(Object.keys(secret?.stringData ?? {}).includes('SERVICE_TOKEN'), name).toBe(callsPeers(name));
    }
  });
});
