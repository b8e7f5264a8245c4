import { groupSmallParts, MAX_OBJECTS_PER_CHUNK, type PlannedPiece } from '../../../src/data/formats/snapshot';

/** A part of `rows` rows cut by its own format at `cuts` (its pieces' row bounds inside it). */
function part(index: number, rows: number, cuts: number[] = [0, rows]) {
  const pieces: PlannedPiece[] = cuts.slice(0, -1).map((start, c) => ({ part: index, rowStart: start, rowEnd: cuts[c + 1], from: c, to: c + 1, shared: {} }));
  return { rows, pieces };
}

const partsOf = (chunk: ReturnType<typeof groupSmallParts>['chunks'][number]) => ('pieces' in chunk ? chunk.pieces : [chunk]).map((p) => p.part);

describe('grouping small objects of a snapshot into chunks', () => {
  it('groups runs of small parts up to chunkRows rows, in pinned order', () => {
    const parts = Array.from({ length: 300 }, (_, i) => part(i, 10));
    const { chunks, rowBounds } = groupSmallParts(parts, 1000);
    expect(chunks).toHaveLength(3);
    expect(rowBounds).toEqual([0, 1000, 2000, 3000]);
    expect(chunks.flatMap(partsOf)).toEqual(parts.map((_, i) => i));
  });

  it('never passes chunkRows with a group (a part that would is the next group\'s first)', () => {
    const { chunks, rowBounds } = groupSmallParts([part(0, 600), part(1, 300), part(2, 200), part(3, 900)], 1000);
    expect(chunks.map(partsOf)).toEqual([[0, 1], [2], [3]]);
    expect(rowBounds).toEqual([0, 900, 1100, 2000]);
  });

  it('keeps a large part at its own boundaries, closing the group before it', () => {
    const { chunks, rowBounds } = groupSmallParts([part(0, 10), part(1, 20), part(2, 2500, [0, 1000, 2000, 2500]), part(3, 5), part(4, 5)], 1000);
    expect(chunks.map(partsOf)).toEqual([[0, 1], [2], [2], [2], [3, 4]]);
    expect(rowBounds).toEqual([0, 30, 1030, 2030, 2530, 2540]);
    // A large part's pieces are its format's own, unchanged.
    expect(chunks[2]).toEqual(part(2, 2500, [0, 1000, 2000, 2500]).pieces[1]);
  });

  it('a lone small part is a chunk of the one-part shape', () => {
    const { chunks } = groupSmallParts([part(0, 2000, [0, 1000, 2000]), part(1, 10)], 1000);
    expect(chunks[2]).toEqual(part(1, 10).pieces[0]);
  });

  it(`groups at most ${MAX_OBJECTS_PER_CHUNK} objects per chunk, whatever their rows`, () => {
    const parts = Array.from({ length: 2 * MAX_OBJECTS_PER_CHUNK + 1 }, (_, i) => part(i, 1));
    const { chunks, rowBounds } = groupSmallParts(parts, 1_000_000);
    expect(chunks.map((c) => partsOf(c).length)).toEqual([MAX_OBJECTS_PER_CHUNK, MAX_OBJECTS_PER_CHUNK, 1]);
    expect(rowBounds).toEqual([0, 1000, 2000, 2001]);
    expect(groupSmallParts(parts.slice(0, 7), 1_000_000, 3).chunks.map(partsOf)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });
});
