import { Migration } from '@mikro-orm/migrations';

/**
 * Datasets and model registry: column profiles on datasets, code version on models, at most
 * one active version per model name (enforced by the database), and detection jobs that outlive
 * the model they used (maintenance may remove an old model; its old jobs keep their results).
 */
export class Migration20261122100000_registry extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "dataset" add column if not exists "column_profiles" jsonb;');
    this.addSql('alter table "model" add column if not exists "code_version" varchar(255);');
    this.addSql('create unique index if not exists "model_one_active_per_name" on "model" ("name") where "status" = \'active\';');
    this.addSql('create index if not exists "detection_job_model_started_idx" on "detection_job" ("model_id", "started_at");');
    this.addSql('alter table "detection_job" alter column "model_id" drop not null;');
    this.addSql('alter table "detection_job" drop constraint if exists "detection_job_model_id_fkey";');
    this.addSql(
      'alter table "detection_job" add constraint "detection_job_model_id_fkey" foreign key ("model_id") references "model" ("id") on delete set null;',
    );
  }

  override async down(): Promise<void> {
    this.addSql('alter table "detection_job" drop constraint if exists "detection_job_model_id_fkey";');
    this.addSql('alter table "detection_job" add constraint "detection_job_model_id_fkey" foreign key ("model_id") references "model" ("id");');
    this.addSql('drop index if exists "detection_job_model_started_idx";');
    this.addSql('drop index if exists "model_one_active_per_name";');
    this.addSql('alter table "model" drop column if exists "code_version";');
    this.addSql('alter table "dataset" drop column if exists "column_profiles";');
  }
}
