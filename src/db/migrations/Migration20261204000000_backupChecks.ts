import { Migration } from '@mikro-orm/migrations';

/** When each backup's objects were last re-read and re-hashed (nomaly backup verify, the scheduled check), and what was found. */
export class Migration20261204000000_backupChecks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "backup"
        add column "last_checked_at" timestamptz,
        add column "check_state" varchar(16) check ("check_state" in ('verified','corrupt')),
        add column "check_problem" text;`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table "backup" drop column "last_checked_at", drop column "check_state", drop column "check_problem";');
  }
}
