import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { loadConfig } from '../../../src/config';

/**
 * The Kubernetes manifests in infra/k8s: each validates against the Kubernetes OpenAPI schema of
 * its kind (kubernetes-models' generated JSON-schema validators), and the workers keep the
 * deployment policy: probes, non-root, read-only root filesystem, resources, pinned images,
 * secrets as files.
 */
const dir = path.resolve(__dirname, '../../../infra/k8s');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };

const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

function load(): Array<{ file: string; doc: Manifest }> {
  const out: Array<{ file: string; doc: Manifest }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const document of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
      const doc = document.toJSON() as Manifest | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

function validate(doc: Manifest): void {
  const Model = models[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion}/${doc.kind}`);
  new Model(doc as never).validate();
}

interface Container {
  name: string;
  image: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: unknown } }>;
  envFrom?: Array<{ secretRef?: unknown; configMapRef?: { name: string } }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  ports?: Array<{ name?: string; containerPort: number }>;
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: Array<{ name: string; emptyDir?: unknown; secret?: { secretName: string } }>;
  serviceAccountName?: string;
}

describe('infra/k8s manifests', () => {
  const manifests = load();
  const byKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
  const deployments = byKind('Deployment') as unknown as Array<Manifest & { spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } }>;
  const podSpecs: Array<{ name: string; spec: PodSpec }> = [
    ...deployments.map((d) => ({ name: d.metadata.name, spec: d.spec.template.spec })),
    ...(byKind('Job') as unknown as Array<Manifest & { spec: { template: { spec: PodSpec } } }>).map((j) => ({ name: j.metadata.name, spec: j.spec.template.spec })),
  ];

  it('has every expected object', () => {
    expect(manifests.map((m) => `${m.doc.kind}/${m.doc.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/nomaly-config',
        'Deployment/nomaly-control-worker',
        'Deployment/nomaly-scoring-worker',
        'HorizontalPodAutoscaler/nomaly-scoring-worker',
        'Job/nomaly-temporal-search-attributes',
        'NetworkPolicy/nomaly-worker',
        'Secret/nomaly-secrets',
        'Service/nomaly-worker-metrics',
        'ServiceAccount/nomaly-worker',
      ].sort(),
    );
  });

  it.each(load().map((m) => [`${m.file}: ${m.doc.kind}/${m.doc.metadata.name}`, m.doc] as const))('%s validates against the Kubernetes schema', (_name, doc) => {
    expect(() => validate(doc)).not.toThrow();
  });

  it('the validator really rejects a broken manifest (wrong types, missing required fields)', () => {
    const control = deployments.find((d) => d.metadata.name === 'nomaly-control-worker')!;
    const broken = JSON.parse(JSON.stringify(control));
    broken.spec.replicas = 'two';
    expect(() => validate(broken)).toThrow(/replicas must be integer/);
    const noImage = JSON.parse(JSON.stringify(control));
    delete noImage.spec.template.spec.containers[0].name;
    expect(() => validate(noImage)).toThrow(/containers\/0 must have required property '?name'?/);
    const hpa = JSON.parse(JSON.stringify(byKind('HorizontalPodAutoscaler')[0]));
    hpa.spec.minReplicas = 'lots';
    expect(() => validate(hpa)).toThrow(/minReplicas must be integer/);
  });

  it('is namespace-agnostic', () => {
    for (const { doc } of manifests) expect(doc.metadata.namespace).toBeUndefined();
  });

  it('runs both workers with probes on /health and /ready, resources, non-root and a read-only root filesystem', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['nomaly-control-worker', 'nomaly-scoring-worker']);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.serviceAccountName).toBe('nomaly-worker');
      for (const c of pod.containers) {
        expect(c.livenessProbe?.httpGet?.path).toBe('/health');
        expect(c.readinessProbe?.httpGet?.path).toBe('/ready');
        expect(c.ports?.some((p) => p.containerPort === 9464 && p.name === c.livenessProbe?.httpGet?.port)).toBe(true);
      }
    }
    for (const { name, spec } of podSpecs) {
      expect([name, spec.securityContext?.runAsNonRoot]).toEqual([name, true]);
      expect(spec.securityContext?.runAsUser).not.toBe(0);
      for (const c of spec.containers) {
        expect([name, c.securityContext]).toMatchObject([name, { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }]);
        for (const key of ['requests', 'limits'] as const) {
          expect([name, key, Object.keys(c.resources?.[key] ?? {}).sort()]).toEqual([name, key, ['cpu', 'memory']]);
        }
        // A writable /tmp on an emptyDir, since the root filesystem is read-only.
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(tmp).toBeDefined();
        expect(spec.volumes?.find((v) => v.name === tmp!.name)?.emptyDir).toBeDefined();
      }
    }
  });

  it('pins every image to a version: no :latest, no untagged image', () => {
    for (const { name, spec } of podSpecs) {
      for (const c of spec.containers) {
        expect([name, c.image]).toEqual([name, expect.stringMatching(/^[^\s:@]+(?::[^\s:@]+)*:(?!latest$)[\w.-]+(@sha256:[0-9a-f]{64})?$/)]);
      }
    }
  });

  it('mounts secrets as read-only files and never puts a secret into an environment value', () => {
    const config = byKind('ConfigMap')[0] as unknown as { data: Record<string, string> };
    for (const { name, spec } of podSpecs) {
      for (const c of spec.containers) {
        for (const e of c.env ?? []) expect([name, e.name, e.valueFrom?.secretKeyRef]).toEqual([name, e.name, undefined]);
        for (const e of c.envFrom ?? []) expect([name, e.secretRef]).toEqual([name, undefined]);
      }
    }
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const secretVolume = pod.volumes?.find((v) => v.secret?.secretName === 'nomaly-secrets');
      expect(secretVolume).toBeDefined();
      const mount = pod.containers[0].volumeMounts?.find((m) => m.name === secretVolume!.name);
      expect(mount).toMatchObject({ mountPath: '/run/secrets/nomaly', readOnly: true });
      expect(pod.containers[0].envFrom).toEqual([{ configMapRef: { name: 'nomaly-config' } }]);
    }
    // Every secret setting is a *_FILE path into the mounted Secret, naming one of its keys.
    const secret = byKind('Secret')[0] as unknown as { stringData: Record<string, string> };
    for (const name of ['DATABASE_URL', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY', 'NOMALY_BACKUP_KEY']) {
      expect(config.data[name]).toBeUndefined();
      const file = config.data[`${name}_FILE`];
      expect(file).toMatch(/^\/run\/secrets\/nomaly\//);
      expect(Object.keys(secret.stringData)).toContain(path.basename(file));
    }
    for (const [key, value] of Object.entries(config.data)) {
      if (key.endsWith('_FILE')) continue;
      expect([key, /PASSWORD|SECRET|_KEY$|DATABASE_URL/.test(key)]).toEqual([key, false]);
      expect([key, value]).not.toEqual([key, expect.stringMatching(/:\/\/[^/@\s]*:[^/@\s]*@/)]); // no credentials in a URL
    }
  });

  it('has the workers listen for probes and Prometheus on the pod IP, since src/config defaults to loopback', () => {
    const config = byKind('ConfigMap')[0] as unknown as { data: Record<string, string> };
    expect(config.data.NOMALY_HEALTH_HOST).toBe('0.0.0.0');
    expect(loadConfig({ NOMALY_HEALTH_HOST: config.data.NOMALY_HEALTH_HOST }).healthHost).toBe('0.0.0.0');
    for (const d of deployments) expect(d.spec.template.spec.containers[0].envFrom).toEqual([{ configMapRef: { name: 'nomaly-config' } }]);
  });

  it('autoscales the scoring workers with autoscaling/v2, within bounds', () => {
    const [hpa] = byKind('HorizontalPodAutoscaler') as unknown as Array<{ apiVersion: string; spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number } }>;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'nomaly-scoring-worker' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(1);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
  });

  it('selects the workers from the metrics Service and the NetworkPolicy, and lets Prometheus in on the metrics port only', () => {
    const [service] = byKind('Service') as unknown as Array<{ spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string }> } }>;
    const [policy] = byKind('NetworkPolicy') as unknown as Array<{ spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Array<{ ports: Array<{ port: number }> }> } }>;
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(service.spec.selector)) expect(labels[k]).toBe(v);
      for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) expect(labels[k]).toBe(v);
    }
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: 9464, targetPort: 'http-metrics' })]);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual([9464]);
  });

  it('lists every manifest except the example Secret in kustomization.yaml', () => {
    const kustomization = parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0].toJSON() as { resources: string[] };
    const files = [...new Set(manifests.map((m) => m.file))].filter((f) => f !== 'secret.example.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });
});
