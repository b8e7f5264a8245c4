import { Migration } from '@mikro-orm/migrations';

/**
 * Thresholds a person chooses and explanations per anomaly: each stored anomaly keeps its
 * conformal p-value and its top features; a model keeps the rule it flags with by default and a
 * job the rule it flagged with (see src/results/flagging.ts). The top features are `json` (kept
 * as written, not converted to jsonb): a job writes one per anomaly, and jsonb's conversion
 * doubled what storing them cost; nothing queries inside them.
 */
export class Migration20261206000000_thresholdsAndExplanations extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "anomaly" add column if not exists "p_value" double precision null, add column if not exists "explanation" json null;');
    this.addSql('alter table "model" add column if not exists "threshold_rule" jsonb null;');
    this.addSql('alter table "detection_job" add column if not exists "threshold_rule" jsonb null;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table "anomaly" drop column if exists "p_value", drop column if exists "explanation";');
    this.addSql('alter table "model" drop column if exists "threshold_rule";');
    this.addSql('alter table "detection_job" drop column if exists "threshold_rule";');
  }
}
