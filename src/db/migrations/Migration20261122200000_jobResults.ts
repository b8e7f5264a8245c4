import { Migration } from '@mikro-orm/migrations';

/** A finished detection job's summary: score quantiles, histogram, rows/s, and where its score file and report are. */
export class Migration20261122200000_jobResults extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "detection_job" add column "summary" jsonb;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table "detection_job" drop column "summary";');
  }
}
