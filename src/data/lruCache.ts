/**
 * A small least-recently-used cache. Workers keep decoded models and downloaded datasets in
 * one, keyed by sha256, so a cached value is always exactly the bytes the registry recorded.
 * Concurrent loads of one key share a single promise.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  constructor(private readonly capacity: number) {}

  getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const loading = load();
    this.entries.set(key, loading);
    loading.catch(() => this.entries.delete(key)); // a failed load is not cached
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return loading;
  }

  get size(): number {
    return this.entries.size;
  }
}
