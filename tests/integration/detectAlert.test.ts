import { EXAMPLE_CSV, maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { startWebhookReceiver } from '../support/webhookReceiver';

describe('anomaly-rate alerts', () => {
  let p: TestPlatform;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const previousUrl = process.env.NOMALY_ALERT_WEBHOOK_URL;
  beforeAll(async () => {
    receiver = await startWebhookReceiver(2);
    process.env.NOMALY_ALERT_WEBHOOK_URL = receiver.url; // read by the workers' config at start
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
    await receiver?.close();
    process.env.NOMALY_ALERT_WEBHOOK_URL = previousUrl;
  });

  it('posts once when the rate exceeds the threshold, retrying a failing webhook without holding the job', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'alerting', contamination: 0.1 })).result();

    const quiet = await (await p.client.startDetection({ model: 'alerting', datasetId: dataset.id, alertAnomalyRateAbove: 0.5 })).result();
    expect(quiet.anomalyRate).toBeLessThan(0.5);

    const handle = await p.client.startDetection({ model: 'alerting', datasetId: dataset.id, alertAnomalyRateAbove: 0.05 });
    const summary = await handle.result();
    const finishedAt = Date.now();
    expect(summary.anomalyRate).toBeGreaterThan(0.05);
    // The job is done while the webhook is still failing: delivery has not succeeded yet.
    expect(receiver.received.filter((r) => r.status === 200)).toHaveLength(0);

    const alert = p.client.temporal.workflow.getHandle(`${summary.jobId}-alert`);
    expect(await alert.result()).toBe('sent');
    await maybeRecordHistory(alert, 'sendAlert');
    expect(receiver.received.map((r) => r.status)).toEqual([503, 503, 200]); // retried; only this job alerted
    expect(receiver.received[2].at).toBeGreaterThan(finishedAt);
    expect(receiver.received[2].body).toMatchObject({
      kind: 'nomaly.detection.anomaly-rate',
      jobId: summary.jobId,
      anomalies: summary.anomalies,
      anomalyRate: summary.anomalyRate,
      alertAnomalyRateAbove: 0.05,
      report: `${summary.scoresBucket}/${summary.reportKey}`,
    });
  });
});
