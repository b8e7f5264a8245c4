import { ApplicationFailure } from '@temporalio/common';
import { validateDetectionAlert } from '../../../src/api/alertInput';
import { failureOf } from '../../support/failureOf';

/** The alert detectBatch sends (as recorded in tests/replay/histories/sendAlert.json). */
const alert = {
  jobId: 'detect-alerting-ds_49108b5c9bb3111b-mwr5ldrd-bspq4',
  model: 'alerting@1',
  datasetId: 'ds_49108b5c9bb3111b',
  rows: 1831,
  anomalies: 192,
  anomalyRate: 0.1048607318405243,
  alertAnomalyRateAbove: 0.05,
  report: 'nomaly-results/jobs/detect-alerting-ds_49108b5c9bb3111b-mwr5ldrd-bspq4/report.html',
};


describe('sendAlert input', () => {
  it('takes the alert detectBatch sends', () => {
    expect(validateDetectionAlert({ ...alert })).toEqual(alert);
  });

  it.each([
    [{ foo: 1 }, '"foo" is not a known field'],
    [[1, 2], '"(input)" must be one JSON object'],
    [{ ...alert, jobId: undefined }, '"jobId" is required'],
    [{ ...alert, jobId: 'a\nb' }, '"jobId" must be a job id of at most 1000 printable characters'],
    [{ ...alert, jobId: 'j'.repeat(1001) }, '"jobId" must be a job id of at most 1000 printable characters'],
    [{ ...alert, model: 'alerting' }, '"model" "alerting" is not valid (NAME@VERSION)'],
    [{ ...alert, datasetId: 'x' }, '"datasetId" "x" is not valid'],
    [{ ...alert, rows: '1831' }, '"rows" must be an integer from 1 to'],
    [{ ...alert, rows: 1e300 }, '"rows" must be an integer from 1 to'],
    [{ ...alert, anomalies: 1832 }, '"anomalies" must be an integer from 0 to 1831'],
    [{ ...alert, anomalyRate: 2 }, '"anomalyRate" must be a number from 0 to 1'],
    [{ ...alert, anomalyRate: 0.01 }, '"anomalyRate" 0.01 is not above alertAnomalyRateAbove (0.05)'],
    [{ ...alert, alertAnomalyRateAbove: null }, '"alertAnomalyRateAbove" must be a number from 0 to 1'],
    [{ ...alert, report: 'https://evil.example/x' }, '"report" must be the job\'s report'],
    [{ ...alert, report: 'nomaly-results/jobs/another-job/report.html' }, '"report" must be the job\'s report'],
    [{ ...alert, extra: true }, '"extra" is not a known field'],
  ])('refuses %j non-retryably, naming the field', (input, message) => {
    const failure = failureOf(() => validateDetectionAlert(input));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toContain(message);
  });
});
