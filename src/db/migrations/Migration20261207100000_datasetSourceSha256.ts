import { Migration } from '@mikro-orm/migrations';

/**
 * A dataset uploaded gzip-compressed is stored decompressed (src/data/gzipDataset.ts): its
 * sha256 is the plain file's, and `source_sha256` the uploaded file's, so uploading the same
 * .gz again finds it.
 */
export class Migration20261207100000_datasetSourceSha256 extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "dataset" add column if not exists "source_sha256" varchar(64) null;');
    this.addSql('create index if not exists "dataset_source_sha256_index" on "dataset" ("source_sha256") where "source_sha256" is not null;');
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists "dataset_source_sha256_index";');
    this.addSql('alter table "dataset" drop column if exists "source_sha256";');
  }
}
