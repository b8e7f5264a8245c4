import { CHUNK_POLICY, chunkRange, chunkRowsFor, defaultChunkRows, planChunks } from '../../../src/data/chunkPolicy';
import { chunkAt, legacyChunkPlan, legacyChunkRange } from '../../../src/workflows/chunkPlan';
import { rowGroupChunks } from '../../../src/data/formats/parquet';

describe('chunk planning', () => {
  it('covers every row exactly once with contiguous ranges', () => {
    const plan = planChunks(1831, 400, 1000);
    expect(plan).toEqual({ chunkRows: 400, chunks: 5 });
    const ranges = Array.from({ length: plan.chunks }, (_, i) => chunkRange(plan, 1831, i));
    expect(ranges[0]).toEqual({ rowStart: 0, rowEnd: 400 });
    expect(ranges[4]).toEqual({ rowStart: 1600, rowEnd: 1831 });
    expect(ranges.reduce((n, r) => n + r.rowEnd - r.rowStart, 0)).toBe(1831);
  });

  it('picks about 50 chunks of 50,000 to 200,000 rows when the input names no size', () => {
    expect(defaultChunkRows(1831)).toBe(50_000);
    expect(defaultChunkRows(1_000_000)).toBe(50_000);
    expect(defaultChunkRows(5_000_000)).toBe(100_000);
    expect(defaultChunkRows(5_000_001)).toBe(100_001);
    expect(defaultChunkRows(10_000_000)).toBe(200_000);
    expect(defaultChunkRows(100_000_000)).toBe(200_000);
  });

  it('grows the chunk size so a job never exceeds the chunk cap', () => {
    expect(planChunks(10_000_000, 1000, 1000)).toEqual({ chunkRows: 10_000, chunks: 1000 });
    expect(planChunks(10_000_001, 1000, 1000)).toEqual({ chunkRows: 10_001, chunks: 1000 });
    expect(planChunks(0, 1000, 1000).chunks).toBe(0);
  });
});

describe('chunking policy in the planning activity', () => {
  it('keeps the input size, or the default, grown to the chunk cap', () => {
    expect(chunkRowsFor(1831, 400)).toBe(400);
    expect(chunkRowsFor(5_000_000, null)).toBe(100_000);
    expect(chunkRowsFor(CHUNK_POLICY.maxChunksPerJob * 1000 + 1, 100)).toBe(1001);
  });

  it('sizes runs from before the planning activity exactly as they were sized (frozen for replay)', () => {
    for (const [rows, requested] of [[1831, 400], [1831, null], [5_000_001, null], [100_000_000, null], [10_000_001, 1000], [0, null]] as const) {
      const live = planChunks(rows, requested ?? defaultChunkRows(rows), CHUNK_POLICY.maxChunksPerJob);
      expect(legacyChunkPlan(rows, requested)).toEqual(live);
      if (live.chunks > 0) expect(legacyChunkRange(live, rows, live.chunks - 1)).toEqual(chunkRange(live, rows, live.chunks - 1));
    }
  });

  it('indexes a planned chunk list without knowing its format', () => {
    const list = { chunks: 2, rowBounds: [0, 10, 15], bounds: [7, 90, 130], shared: { headerEnd: 7 } };
    expect(chunkAt(list, 1)).toEqual({ rowStart: 10, rowEnd: 15, from: 90, to: 130, shared: { headerEnd: 7 } });
  });
});

describe('Parquet chunks are runs of whole row groups', () => {
  it('groups row groups until a chunk holds at least chunkRows rows', () => {
    expect(rowGroupChunks([100, 100, 100, 100, 50], 200)).toEqual({ rowBounds: [0, 200, 400, 450], bounds: [0, 2, 4, 5] });
    expect(rowGroupChunks([500, 10, 10], 100)).toEqual({ rowBounds: [0, 500, 520], bounds: [0, 1, 3] });
    expect(rowGroupChunks([100, 0, 100], 1000)).toEqual({ rowBounds: [0, 200], bounds: [0, 3] });
  });

  it('never makes more chunks than whole multiples of chunkRows allow', () => {
    const groups = Array.from({ length: 997 }, (_, i) => 10 + (i % 7));
    const rows = groups.reduce((a, b) => a + b, 0);
    const { rowBounds } = rowGroupChunks(groups, 100);
    expect(rowBounds.length - 1).toBeLessThanOrEqual(Math.ceil(rows / 100));
    expect(rowBounds[rowBounds.length - 1]).toBe(rows);
  });
});
