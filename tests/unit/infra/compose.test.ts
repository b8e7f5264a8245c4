import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config';

/**
 * The Dockerfile and infra/compose.yaml, checked offline (docker cannot build here): pinned
 * images, health checks, resource limits, named volumes, non-root workers, and secrets as files
 * read through the *_FILE settings src/config understands.
 */
const root = path.resolve(__dirname, '../../..');
const infra = path.join(root, 'infra');

interface Service {
  image?: string;
  build?: unknown;
  healthcheck?: { test: string[] };
  deploy?: { resources?: { limits?: { cpus?: string; memory?: string } } };
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  read_only?: boolean;
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(path.join(infra, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const PINNED = /^[\w./-]+:(?!latest$)[\w.-]+$/;

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1], name: m[2] }));
  const baseImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];

  it('builds in one stage and runs from another, on a pinned slim Node 20 image', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(baseImage).toMatch(/^node:20\.\d+\.\d+-\w+-slim$/);
    for (const s of stages) expect(s.image === '${NODE_IMAGE}' || PINNED.test(s.image)).toBe(true);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/npm run build/); // tsc + build info
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/COPY --from=build .*\/app\/dist \.\/dist/);
  });

  it('installs the PostgreSQL client tools for backups, runs as a non-root user and checks /health', () => {
    const runtime = dockerfile.slice(dockerfile.search(/^FROM .* AS runtime/m));
    expect(runtime).toMatch(/apt-get install[^\n]*"\$\{PG_CLIENT_PACKAGE\}"/);
    expect(runtime).toMatch(/^ARG PG_CLIENT_PACKAGE=postgresql-client-\d+$/m);
    const user = /^USER\s+(\S+)$/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(runtime).toMatch(/^HEALTHCHECK [^\n]*\\\n\s+CMD \[.*\/health/m);
    expect(runtime).toMatch(/^ENV [^\n]*\n?[^\n]*NOMALY_HTTP_PORT=9464/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/workers\/control\.js"\]$/m);
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', 'node_modules', 'dist', '.nomaly', 'infra', 'tests']) expect(ignored).toContain(entry);
    // What the Dockerfile copies must not be ignored.
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(\S+)/gm)) {
      expect([source, ignored.includes(source.replace(/\/$/, ''))]).toEqual([source, false]);
    }
  });
});

describe('infra/compose.yaml', () => {
  const services = compose.services;

  it('runs Temporal on PostgreSQL with its UI, PostgreSQL, MinIO, both workers, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['control-worker', 'grafana', 'minio', 'postgres', 'prometheus', 'scoring-worker', 'temporal', 'temporal-search-attributes', 'temporal-ui'].sort(),
    );
    expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    for (const worker of ['control-worker', 'scoring-worker']) {
      expect(services[worker].build).toMatchObject({ context: '..', dockerfile: 'Dockerfile' });
      expect(services[worker].read_only).toBe(true);
    }
  });

  it('pins every image tag (no :latest, no untagged image)', () => {
    for (const [name, service] of Object.entries(services)) expect([name, service.image]).toEqual([name, expect.stringMatching(PINNED)]);
  });

  it('gives every long-running service a health check and resource limits, and keeps data in named volumes', () => {
    for (const [name, service] of Object.entries(services)) {
      expect([name, service.deploy?.resources?.limits]).toEqual([name, { cpus: expect.any(String), memory: expect.stringMatching(/^\d+[mg]$/) }]);
      if (service.restart === 'no') continue; // the one-shot set-up job
      expect([name, service.healthcheck?.test?.[0]]).toEqual([name, 'CMD']);
    }
    for (const name of ['postgres', 'minio', 'prometheus', 'grafana']) {
      const named = (services[name].volumes ?? []).map((v) => v.split(':')[0]).filter((v) => !v.startsWith('.'));
      expect([name, named.length]).toEqual([name, 1]);
      expect(Object.keys(compose.volumes)).toContain(named[0]);
    }
    // The workers wait for healthy dependencies and for the search attributes to be registered.
    expect(services['control-worker'].depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      minio: { condition: 'service_healthy' },
      temporal: { condition: 'service_healthy' },
      'temporal-search-attributes': { condition: 'service_completed_successfully' },
    });
  });

  it('passes secrets only as files: compose secrets, read through *_FILE settings src/config knows', () => {
    const config = readFileSync(path.join(root, 'src/config/index.ts'), 'utf8');
    for (const worker of ['control-worker', 'scoring-worker']) {
      const env = services[worker].environment!;
      for (const [key, value] of Object.entries(env)) {
        if (key.endsWith('_FILE')) continue;
        expect([key, /PASSWORD|SECRET|DATABASE_URL$|_KEY$/.test(key)]).toEqual([key, false]);
        expect([key, value]).not.toEqual([key, expect.stringMatching(/:\/\/[^/@\s]*:[^/@\s]*@/)]);
      }
      const files = Object.entries(env).filter(([k]) => k.endsWith('_FILE'));
      expect(files.map(([k]) => k).sort()).toEqual(['DATABASE_URL_FILE', 'MINIO_ROOT_PASSWORD_FILE', 'MINIO_ROOT_USER_FILE', 'NOMALY_BACKUP_KEY_FILE']);
      for (const [key, file] of files) {
        // src/config reads NAME_FILE for secret(env, 'NAME') / settingOrFile(env, 'NAME'), or the variable by name.
        const name = key.replace(/_FILE$/, '');
        expect([key, config.includes(`'${name}'`) || config.includes(`'${key}'`) || config.includes(`env.${key}`)]).toEqual([key, true]);
        const secret = /^\/run\/secrets\/(\w+)$/.exec(file)?.[1];
        expect([key, services[worker].secrets?.includes(secret!)]).toEqual([key, true]);
      }
    }
    expect(services.postgres.environment).toMatchObject({ POSTGRES_PASSWORD_FILE: '/run/secrets/postgres_password' });
    expect(services.grafana.environment).toMatchObject({ GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/grafana_admin_password' });
    expect(services.minio.environment).toMatchObject({ MINIO_ROOT_USER_FILE: '/run/secrets/minio_root_user', MINIO_ROOT_PASSWORD_FILE: '/run/secrets/minio_root_password' });
    for (const service of Object.values(services)) {
      for (const value of Object.values(service.environment ?? {})) expect(String(value)).not.toMatch(/CHANGE-ME|nomaly-dev-secret/);
    }
  });

  it('infra/init-secrets.sh writes every secret file compose mounts, consistent and kept on a second run', () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'nomaly-secrets-'));
    try {
      cpSync(path.join(infra, 'init-secrets.sh'), path.join(copy, 'init-secrets.sh'));
      execFileSync('bash', [path.join(copy, 'init-secrets.sh')], { stdio: 'pipe' });
      const dir = path.join(copy, 'secrets');
      const written = readdirSync(dir).sort();
      expect(written).toEqual(Object.values(compose.secrets).map((s) => path.basename(s.file)).sort());
      for (const s of Object.values(compose.secrets)) expect(s.file).toMatch(/^\.\/secrets\//);
      const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
      expect(read('database_url')).toBe(`postgres://postgres:${read('postgres_password')}@postgres:5432/nomaly`);
      expect(read('backup_key')).toMatch(/^[0-9a-f]{64}$/);
      expect(read('minio_root_password').length).toBeGreaterThanOrEqual(32);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const before = read('minio_root_password');
      execFileSync('bash', [path.join(copy, 'init-secrets.sh')], { stdio: 'pipe' });
      expect(read('minio_root_password')).toBe(before);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    // The real secrets folder is never committed.
    expect(readFileSync(path.join(infra, 'secrets/.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  it('has both workers listen for health checks and Prometheus on every container interface (src/config defaults to loopback)', () => {
    for (const worker of ['control-worker', 'scoring-worker']) {
      const host = services[worker].environment?.NOMALY_HEALTH_HOST;
      expect([worker, host]).toEqual([worker, '0.0.0.0']);
      expect(loadConfig({ NOMALY_HEALTH_HOST: host }).healthHost).toBe('0.0.0.0');
    }
  });

  it('mounts the Prometheus and Grafana configuration that exists', () => {
    for (const name of ['prometheus', 'grafana']) {
      for (const volume of services[name].volumes ?? []) {
        const source = volume.split(':')[0];
        if (!source.startsWith('.')) continue;
        expect(() => statSync(path.join(infra, source))).not.toThrow();
      }
    }
  });
});
