import { Migration } from '@mikro-orm/migrations';

/**
 * The highest version ever handed out per model name, so that deleting a name's newest version
 * never lets the next training reuse its number (a finished job's summary naming `m@3` must keep
 * meaning the model it scored with).
 */
export class Migration20261204100000_modelVersionCounter extends Migration {
  override async up(): Promise<void> {
    this.addSql('create table if not exists "model_version_counter" ("name" varchar(255) primary key, "last_version" int not null);');
    this.addSql('insert into "model_version_counter" ("name", "last_version") select "name", max("version") from "model" group by "name" on conflict do nothing;');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "model_version_counter";');
  }
}
