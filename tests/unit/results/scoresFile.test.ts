import { decodeScoresFile, encodeScoresHeader, scoresFileBatches } from '../../../src/results/scoresFile';

/** A score file's bytes for `scores`. */
function fileOf(scores: number[]): Buffer {
  return Buffer.concat([encodeScoresHeader(scores.length), Buffer.from(new Float64Array(scores).buffer)]);
}

/** `bytes` as pieces of the given sizes (the rest as one last piece), like a stream's chunks. */
async function* piecesOf(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const size of sizes) {
    yield bytes.subarray(at, at + size);
    at += size;
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

async function collect(pieces: AsyncIterable<Buffer>, batchRows: number): Promise<number[][]> {
  const batches: number[][] = [];
  for await (const batch of scoresFileBatches(pieces, batchRows)) batches.push(Array.from(batch));
  return batches;
}

describe('a score file streamed in batches', () => {
  const scores = [0.5, -0, 1e-300, 3.25, Number.MAX_VALUE, 0.125, 7];

  it('gives the scores decodeScoresFile gives, in batches, however the bytes arrive', async () => {
    const bytes = fileOf(scores);
    expect(Array.from(decodeScoresFile(bytes))).toEqual(scores);
    for (const sizes of [[], [3], [16], [17, 5, 9], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]]) {
      const batches = await collect(piecesOf(bytes, sizes), 3);
      expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
      expect(batches.flat()).toEqual(scores);
      expect(Object.is(batches[0][1], -0)).toBe(true);
    }
    expect(await collect(piecesOf(fileOf([]), []), 3)).toEqual([]);
  });

  it('refuses bytes that are not a whole score file', async () => {
    const bytes = fileOf(scores);
    await expect(collect(piecesOf(bytes.subarray(0, bytes.length - 8), []), 3)).rejects.toThrow('score file is truncated: its header says 7 rows, it holds 6');
    await expect(collect(piecesOf(bytes.subarray(0, bytes.length - 3), []), 4)).rejects.toThrow('score file is truncated');
    await expect(collect(piecesOf(Buffer.from('not a score file at all'), []), 3)).rejects.toThrow('not a Nomaly score file');
    await expect(collect(piecesOf(bytes.subarray(0, 10), []), 3)).rejects.toThrow('not a Nomaly score file');
  });
});
