import { BufferPool } from '../../../src/data/bufferPool';

describe('BufferPool', () => {
  it('gives back the same buffer for the next task that fits in it', () => {
    const pool = new BufferPool(2);
    const first = pool.take(1000);
    expect(first.length).toBeGreaterThanOrEqual(1000);
    pool.give(first);
    expect(pool.take(990)).toBe(first);
    expect(pool.size).toBe(0);
  });

  it('allocates when no free buffer is big enough, and keeps at most maxFree', () => {
    const pool = new BufferPool(2);
    const small = pool.take(10);
    pool.give(small);
    const big = pool.take(10_000);
    expect(big).not.toBe(small);
    const [a, b] = [pool.take(10), pool.take(10)];
    expect(a).toBe(small);
    pool.give(a);
    pool.give(b);
    pool.give(big);
    expect(pool.size).toBe(2);
    expect(pool.take(10_000)).toBe(big);
  });

  it('drops its buffers once unused for the idle time', () => {
    jest.useFakeTimers();
    try {
      const pool = new BufferPool(2, 1000);
      pool.give(pool.take(10));
      jest.advanceTimersByTime(999);
      expect(pool.size).toBe(1);
      jest.advanceTimersByTime(1);
      expect(pool.size).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
