import { Migration } from '@mikro-orm/migrations';

/**
 * Jobs over a source (objects in a lake, a query): the run key (model version × source ×
 * window) and the pinned snapshot's digest, so a window already scored on the same data is
 * skipped and one whose data changed is scored again; `source` keeps the job's lineage.
 */
export class Migration20261205000000_sourceRuns extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "detection_job" add column if not exists "run_key" varchar(64) null, add column if not exists "snapshot_sha256" varchar(64) null, add column if not exists "source" jsonb null;');
    // A job over a source scores a snapshot, not an uploaded dataset.
    this.addSql('alter table "detection_job" alter column "dataset_id" drop not null;');
    this.addSql('alter table "model" drop column if exists "source";');
    this.addSql('alter table "detection_job" drop constraint if exists "detection_job_status_check";');
    this.addSql(`alter table "detection_job" add constraint "detection_job_status_check" check ("status" in ('running','completed','failed','cancelled','skipped','no-data'));`);
    // A model trained on a source: its snapshot's sha256 in dataset_sha256, the source in `source`.
    this.addSql('alter table "model" alter column "dataset_id" drop not null, add column if not exists "source" jsonb null;');
    this.addSql('create index if not exists "detection_job_run_key_index" on "detection_job" ("run_key", "snapshot_sha256") where "run_key" is not null;');
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "detection_job_run_key_index";');
    this.addSql('alter table "detection_job" drop constraint if exists "detection_job_status_check";');
    this.addSql(`alter table "detection_job" add constraint "detection_job_status_check" check ("status" in ('running','completed','failed','cancelled'));`);
    this.addSql('alter table "detection_job" drop column if exists "run_key", drop column if exists "snapshot_sha256", drop column if exists "source";');
  }
}
