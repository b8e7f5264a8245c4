import { Migration } from '@mikro-orm/migrations';

/** The backup and recovery catalog. */
export class Migration20261122000000_backup extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "backup" (
        "id" varchar(64) primary key,
        "scope" varchar(16) not null check ("scope" in ('database','models','full')),
        "status" varchar(16) not null check ("status" in ('running','verified','failed')),
        "started_at" timestamptz not null default now(),
        "finished_at" timestamptz,
        "pg_version" varchar(64),
        "db_size_bytes" bigint,
        "manifest_key" varchar(1024),
        "workflow_id" varchar(255) not null,
        "encryption_key_id" varchar(16),
        "error" text
      );`);
    this.addSql(`create index "backup_status_started_idx" on "backup" ("status", "started_at" desc);`);
    this.addSql(`
      create table "recovery" (
        "id" varchar(255) primary key,
        "backup_id" varchar(64) not null,
        "scope" varchar(16) not null check ("scope" in ('database','models','full')),
        "status" varchar(16) not null check ("status" in ('running','completed','failed','aborted')),
        "started_at" timestamptz not null,
        "finished_at" timestamptz,
        "recovery_seconds" double precision,
        "data_loss_window_seconds" double precision,
        "previous_database" varchar(63),
        "error" text
      );`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "recovery";');
    this.addSql('drop table if exists "backup";');
  }
}
