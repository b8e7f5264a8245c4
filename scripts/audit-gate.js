#!/usr/bin/env node
// Security gate for CI: runs `npm audit --omit=dev --json` (or reads its JSON from the file given
// as the first argument) and prints the verdict. Exit codes:
//   0  no high or critical finding in the production dependencies
//   1  at least one high or critical finding (each is printed with its fix, if npm knows one)
//   2  the audit could not run (advisory service unreachable, bad JSON): nothing was checked
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const path = require('node:path');

const BLOCKING = new Set(['high', 'critical']);

/** The verdict for one `npm audit --json` document (npm 7+ format). */
function verdict(report) {
  if (!report || typeof report !== 'object') return { status: 'unavailable', reason: 'no JSON report' };
  if (report.error || report.message || !report.vulnerabilities) {
    const reason = (report.error && (report.error.summary || report.error.code)) || report.message || 'no vulnerabilities section';
    return { status: 'unavailable', reason: String(reason).split('\n')[0] };
  }
  const findings = Object.values(report.vulnerabilities)
    .filter((v) => BLOCKING.has(v.severity))
    .map((v) => {
      const advisories = (v.via || []).filter((x) => typeof x === 'object').map((x) => `${x.title} (${x.url || x.source})`);
      const fix = v.fixAvailable === true ? 'npm audit fix' : v.fixAvailable ? `upgrade ${v.fixAvailable.name} to ${v.fixAvailable.version}` : 'no fix available';
      return `${v.severity}: ${v.name} ${v.range || ''} — ${advisories.join('; ') || `via ${(v.via || []).join(', ')}`} — ${fix}`;
    });
  const counts = (report.metadata && report.metadata.vulnerabilities) || {};
  return { status: findings.length ? 'failed' : 'passed', findings, counts };
}

function runAudit() {
  try {
    return execFileSync('npm', ['audit', '--omit=dev', '--json'], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120000 });
  } catch (err) {
    return err.stdout || '';
  }
}

if (require.main === module) {
  const text = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : runAudit();
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    report = undefined;
  }
  const result = verdict(report);
  if (result.status === 'unavailable') {
    console.log(`npm audit --omit=dev: could not run (${result.reason}); dependencies NOT checked`);
    process.exit(2);
  }
  const c = result.counts;
  console.log(`npm audit --omit=dev: ${c.critical || 0} critical, ${c.high || 0} high, ${c.moderate || 0} moderate, ${c.low || 0} low`);
  for (const line of result.findings) console.log(`  ${line}`);
  process.exit(result.status === 'failed' ? 1 : 0);
}

module.exports = { verdict };
