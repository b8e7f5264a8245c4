import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/observability/metrics';

/**
 * infra/prometheus and infra/grafana: every PromQL expression parses (Prometheus' own PromQL
 * grammar, @prometheus-io/lezer-promql), and every metric it reads is one the code exports —
 * our registry (src/observability/metrics.ts), the Temporal SDK (checked against the metric names
 * compiled into the installed core bridge) or the Temporal server.
 */
const infra = path.resolve(__dirname, '../../../infra');

/** Temporal SDK (core) metrics we use: Prometheus names without a _total suffix, latencies in ms. */
const TEMPORAL_SDK_METRICS = new Set([
  'temporal_workflow_completed',
  'temporal_workflow_failed',
  'temporal_activity_execution_failed',
  'temporal_activity_execution_latency',
  'temporal_worker_task_slots_used',
  'temporal_num_pollers',
]);
/** Temporal server metrics (go.temporal.io/server common/metrics/metric_defs.go, tally Prometheus reporter). */
const TEMPORAL_SERVER_METRICS = new Set(['schedule_missed_catchup_window', 'schedule_action_errors']);
const PROMETHEUS_METRICS = new Set(['up']);

function ourMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const metric of createMetrics().registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(name + suffix);
  }
  return names;
}

/** The Temporal core bridge shipped with @temporalio/core-bridge: the metric names are string constants in it. */
function coreBridgeBytes(): Buffer {
  const releases = path.join(path.dirname(require.resolve('@temporalio/core-bridge/package.json')), 'releases');
  const platform = readdirSync(releases).find((d) => d.startsWith(`${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-`) && d.includes(process.platform === 'darwin' ? 'apple' : process.platform === 'win32' ? 'windows' : 'linux'));
  if (!platform) throw new Error(`no core bridge build for ${process.platform}/${process.arch} in ${releases}`);
  return readFileSync(path.join(releases, platform, 'index.node'));
}

const ours = ourMetricNames();
const bridge = coreBridgeBytes();

function stripHistogramSuffix(name: string): string {
  return name.replace(/_(bucket|count|sum)$/, '');
}

/** Why a metric name is known, or null when nothing exports it. */
function source(name: string): string | null {
  if (ours.has(name)) return 'nomaly registry';
  const base = stripHistogramSuffix(name);
  if (TEMPORAL_SDK_METRICS.has(name) || TEMPORAL_SDK_METRICS.has(base)) {
    return bridge.includes(Buffer.from(base.replace(/^temporal_/, ''))) ? 'temporal sdk' : null;
  }
  if (TEMPORAL_SERVER_METRICS.has(name)) return 'temporal server';
  if (PROMETHEUS_METRICS.has(name)) return 'prometheus';
  return null;
}

/** Parses one PromQL expression; returns the metric names it selects, or throws on a syntax error. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(expr.slice(id.from, id.to));
      }
    },
  });
  if (errors.length > 0) throw new Error(`PromQL syntax error at ${errors[0]}: ${expr.slice(Math.max(0, errors[0] - 20), errors[0] + 20)}`);
  return names;
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const rules = (parse(readFileSync(path.join(infra, 'prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(path.join(infra, 'grafana/dashboards/nomaly.json'), 'utf8')) as {
  uid: string;
  panels: Array<{ title: string; type: string; datasource?: { uid: string }; targets?: Array<{ expr: string }> }>;
};
/** Grafana's built-in interval variables, replaced by a duration so the expression is plain PromQL. */
const grafanaToPromql = (expr: string) => expr.replace(/\$__(range|rate_interval|interval)\b/g, '5m');
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('metric name resolution (the check the other tests rely on)', () => {
  it('knows our metrics, the SDK metrics in the installed core bridge, and rejects made-up names', () => {
    expect(source('nomaly_predictions_total')).toBe('nomaly registry');
    expect(source('nomaly_model_latency_seconds_bucket')).toBe('nomaly registry');
    expect(source('nomaly_detection_jobs_total')).toBe('nomaly registry');
    expect(source('temporal_activity_execution_latency_bucket')).toBe('temporal sdk');
    expect(source('nomaly_no_such_metric')).toBeNull();
    expect(source('temporal_workflow_failed_total')).toBeNull(); // the SDK adds no _total suffix
    expect(metricNames('sum by (model) (rate(foo_total[5m])) > 2 * max(bar)')).toEqual(['foo_total', 'bar']);
    expect(() => metricNames('sum(rate(foo[5m])')).toThrow(/PromQL syntax error/);
  });
});

describe('infra/prometheus alert rules', () => {
  it('covers worker down, workflow and activity failure rates, anomaly rate spikes, backup age and missed schedules', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['NomalyWorkerDown', 'NomalyWorkflowFailureRate', 'NomalyActivityFailureRate', 'NomalyAnomalyRateSpike', 'NomalyNoVerifiedBackup', 'NomalyScheduleMissedRun']),
    );
    expect(rules.find((r) => r.alert === 'NomalyNoVerifiedBackup')!.expr).toMatch(/> 26 \* 3600/);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s parses and reads only exported metrics', (_name, rule) => {
    const names = metricNames(rule.expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect([name, source(name)]).toEqual([name, expect.any(String)]);
    expect(['critical', 'warning']).toContain(rule.labels.severity);
    expect(rule.annotations.summary).toBeTruthy();
    expect(rule.annotations.description).toBeTruthy();
    if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smhd]$/);
  });

  it('selects jobs that the scrape configurations define', () => {
    const compose = parse(readFileSync(path.join(infra, 'prometheus/prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string }> };
    const k8s = parse(readFileSync(path.join(infra, 'prometheus/prometheus-k8s.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; relabel_configs?: Array<{ target_label?: string; replacement?: string; regex?: string }> }>;
    };
    const composeJobs = compose.scrape_configs.map((s) => s.job_name);
    // Kubernetes: job = nomaly-<control|scoring> from the pod's component label.
    const relabel = k8s.scrape_configs.flatMap((s) => s.relabel_configs ?? []).find((r) => r.target_label === 'job')!;
    const k8sJobs = ['control-worker', 'scoring-worker'].map((c) => c.replace(new RegExp(`^${relabel.regex}$`), relabel.replacement!));
    expect(k8sJobs).toEqual(['nomaly-control', 'nomaly-scoring']);
    const referenced = new Set(rules.flatMap((r) => [...r.expr.matchAll(/job=~?"([^"]+)"/g)].flatMap((m) => m[1].split('|'))));
    expect(referenced.size).toBeGreaterThan(0);
    for (const job of referenced) {
      expect([job, composeJobs.includes(job)]).toEqual([job, true]);
      expect([job, k8sJobs.includes(job)]).toEqual([job, true]);
    }
    expect(composeJobs).toContain('temporal-server');
    expect(k8s.scrape_configs.map((s) => s.job_name)).toContain('temporal-server');
    expect(compose.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(k8s.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
  });
});

describe('infra/grafana', () => {
  it('provisions the Prometheus datasource the dashboard uses, and the dashboards folder', () => {
    const datasources = parse(readFileSync(path.join(infra, 'grafana/provisioning/datasources/prometheus.yaml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string }> };
    const providers = parse(readFileSync(path.join(infra, 'grafana/provisioning/dashboards/nomaly.yaml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: 'nomaly-prometheus', type: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(providers.providers[0]).toMatchObject({ type: 'file', options: { path: '/etc/grafana/dashboards' } });
    const compose = readFileSync(path.join(infra, 'compose.yaml'), 'utf8');
    expect(compose).toContain('./grafana/dashboards:/etc/grafana/dashboards:ro');
    expect(compose).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) expect([panel.title, panel.datasource?.uid]).toEqual([panel.title, 'nomaly-prometheus']);
  });

  it('has panels for jobs per status, rows/s, activity latency, anomaly rate, backup age and worker health', () => {
    const find = (title: RegExp) => dashboard.panels.find((p) => title.test(p.title));
    expect(find(/jobs per status/i)?.targets?.[0].expr).toMatch(/nomaly_detection_jobs_total/);
    expect(find(/rows scored per second/i)?.targets?.[0].expr).toMatch(/rate\(nomaly_predictions_total/);
    expect(find(/activity latency/i)?.targets?.[0].expr).toMatch(/temporal_activity_execution_latency_bucket/);
    expect(find(/anomaly rate/i)?.targets?.[0].expr).toMatch(/nomaly_anomaly_rate/);
    expect(find(/backup/i)?.targets?.[0].expr).toMatch(/nomaly_backup_last_verified_timestamp_seconds/);
    expect(find(/workers up/i)?.targets?.[0].expr).toMatch(/^up\{/);
    expect(new Set(dashboard.panels.map((p) => (p as { id?: number }).id)).size).toBe(dashboard.panels.length);
  });

  it.each(dashboardExprs.map((e) => [`${e.panel}: ${e.expr}`, e.expr] as const))('%s parses and reads only exported metrics', (_name, expr) => {
    const names = metricNames(grafanaToPromql(expr));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect([name, source(name)]).toEqual([name, expect.any(String)]);
  });
});
