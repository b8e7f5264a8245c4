/** Passes a stream through unchanged, showing each piece to `see` on the way (progress, a second consumer). */
export async function* tap<T>(source: AsyncIterable<T>, see: (piece: T) => void): AsyncGenerator<T> {
  for await (const piece of source) {
    see(piece);
    yield piece;
  }
}
