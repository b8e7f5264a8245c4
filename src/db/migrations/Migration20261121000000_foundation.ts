import { Migration } from '@mikro-orm/migrations';

/** Datasets, the model registry, detection jobs and their anomalies. */
export class Migration20261121000000_foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "dataset" (
        "id" varchar(64) primary key,
        "name" varchar(255) not null,
        "sha256" char(64) not null unique,
        "object_key" varchar(1024) not null,
        "format" varchar(16) not null,
        "size_bytes" bigint not null,
        "rows" integer not null,
        "columns" jsonb not null,
        "feature_columns" jsonb not null,
        "label_column" varchar(255),
        "id_column" varchar(255),
        "created_at" timestamptz not null default now()
      );`);
    this.addSql(`
      create table "model" (
        "id" serial primary key,
        "name" varchar(255) not null,
        "version" integer not null,
        "status" varchar(16) not null check ("status" in ('training','ready','active','archived','failed')),
        "algorithm" varchar(64) not null,
        "params" jsonb not null,
        "feature_columns" jsonb not null,
        "threshold" double precision,
        "dataset_id" varchar(64) not null references "dataset" ("id"),
        "dataset_sha256" char(64) not null,
        "artifact_key" varchar(1024) not null,
        "artifact_sha256" char(64),
        "train_rows" integer,
        "metrics" jsonb,
        "training_workflow_id" varchar(255) not null unique,
        "error" text,
        "created_at" timestamptz not null default now(),
        "trained_at" timestamptz,
        "duration_ms" integer,
        unique ("name", "version")
      );`);
    this.addSql(`
      create table "detection_job" (
        "id" varchar(255) primary key,
        "model_id" integer not null references "model" ("id"),
        "dataset_id" varchar(64) not null references "dataset" ("id"),
        "status" varchar(16) not null check ("status" in ('running','completed','failed','cancelled')),
        "rows" integer not null,
        "chunks" integer not null default 0,
        "rows_scored" integer not null default 0,
        "anomalies" integer not null default 0,
        "anomaly_rate" double precision,
        "scores_prefix" varchar(1024) not null,
        "error" text,
        "started_at" timestamptz not null default now(),
        "finished_at" timestamptz,
        "duration_ms" integer
      );`);
    this.addSql(`
      create table "anomaly" (
        "id" bigserial primary key,
        "job_id" varchar(255) not null references "detection_job" ("id") on delete cascade,
        "row_index" integer not null,
        "score" double precision not null,
        "row_id" varchar(255),
        unique ("job_id", "row_index")
      );`);
    this.addSql(`create index "anomaly_job_score_idx" on "anomaly" ("job_id", "score" desc);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "anomaly";');
    this.addSql('drop table if exists "detection_job";');
    this.addSql('drop table if exists "model";');
    this.addSql('drop table if exists "dataset";');
  }
}
