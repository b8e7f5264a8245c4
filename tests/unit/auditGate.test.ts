import { readFileSync } from 'node:fs';
import path from 'node:path';

// scripts/audit-gate.js is plain Node (CI runs it before anything is compiled).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { verdict } = require('../../scripts/audit-gate.js') as { verdict: (report: unknown) => { status: string; findings?: string[]; reason?: string } };

const finding = (name: string, severity: string, fixAvailable: unknown = true) => ({
  name,
  severity,
  range: '<1.2.3',
  via: [{ title: `${name} is broken`, url: `https://github.com/advisories/${name}`, severity }],
  fixAvailable,
});

describe('the npm audit gate of .ci/run', () => {
  it('fails on a high or a critical finding and names each with its fix', () => {
    const result = verdict({
      auditReportVersion: 2,
      vulnerabilities: {
        a: finding('a', 'critical'),
        b: finding('b', 'high', { name: 'parent', version: '2.0.0', isSemVerMajor: true }),
        c: finding('c', 'moderate'),
        d: finding('d', 'low'),
      },
      metadata: { vulnerabilities: { critical: 1, high: 1, moderate: 1, low: 1 } },
    });
    expect(result.status).toBe('failed');
    expect(result.findings).toEqual([
      'critical: a <1.2.3 — a is broken (https://github.com/advisories/a) — npm audit fix',
      'high: b <1.2.3 — b is broken (https://github.com/advisories/b) — upgrade parent to 2.0.0',
    ]);
  });

  it('passes with only moderate or low findings, or none', () => {
    expect(verdict({ vulnerabilities: { c: finding('c', 'moderate'), d: finding('d', 'low') }, metadata: {} }).status).toBe('passed');
    expect(verdict({ vulnerabilities: {}, metadata: { vulnerabilities: { total: 0 } } }).status).toBe('passed');
  });

  it('reports an audit that could not run as unavailable, never as passed', () => {
    expect(verdict({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk' })).toEqual({
      status: 'unavailable',
      reason: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    });
    expect(verdict({ error: { code: 'ENOAUDIT', summary: 'no audit endpoint' } }).status).toBe('unavailable');
    expect(verdict(undefined).status).toBe('unavailable');
  });

  it('is what .ci/run runs before scripts/test.sh, and .ci/run restates the final count', () => {
    const run = readFileSync(path.resolve(__dirname, '../../.ci/run'), 'utf8');
    expect(run).toMatch(/node scripts\/audit-gate\.js/);
    expect(run).toMatch(/\.\/scripts\/test\.sh/);
    expect(run.trimEnd().split('\n').slice(-2)).toEqual(['echo "tests: $passed passed, $failed failed"', 'exit "$status"']);
  });
});
