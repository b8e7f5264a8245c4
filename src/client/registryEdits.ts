/**
 * The registry changes that no workflow makes yet: promote, archive, delete. They run here, in
 * one PostgreSQL transaction each (ModelRegistry takes the locks), reached only through
 * NomalyClient. When a workflow takes one over, its method moves to a workflow start.
 */
import type { NomalyConfig } from '../config';
import { ModelRegistry, type DatasetInfo, type ModelInfo } from '../db/modelRegistry';
import type { ObjectStore } from '../storage/objectStore';
import type { ClientDatabase } from './database';

export class RegistryEdits {
  constructor(
    private readonly config: NomalyConfig,
    private readonly store: ObjectStore,
    private readonly database: ClientDatabase,
  ) {}

  private async registry(): Promise<ModelRegistry> {
    return new ModelRegistry(await this.database.orm(), { store: this.store, buckets: this.config.buckets });
  }

  /** Makes NAME@VERSION the active version of its name; the previous active one becomes ready. */
  async promote(reference: string): Promise<{ promoted: ModelInfo; previous: number | null }> {
    return (await this.registry()).promote(reference);
  }

  async archive(reference: string): Promise<ModelInfo> {
    return (await this.registry()).archive(reference);
  }

  /** NAME@VERSION, or NAME for every version: artifacts in MinIO and registry rows. */
  async deleteModel(reference: string): Promise<ModelInfo[]> {
    return (await this.registry()).deleteModel(reference);
  }

  async deleteDataset(id: string, options: { withJobs?: boolean } = {}): Promise<{ dataset: DatasetInfo; removedJobs: string[] }> {
    return (await this.registry()).deleteDataset(id, options);
  }
}
