import { Matrix } from '../../../src/scoring/matrix';

describe('Matrix', () => {
  const m = new Matrix(3, 2, Float64Array.from([1, 2, 3, 4, 5, 6]));

  it('checks the data length against rows × cols', () => {
    expect(() => new Matrix(2, 2, new Float64Array(3))).toThrow(RangeError);
    expect(() => new Matrix(2, 2, new Float64Array(3))).toThrow('Matrix data length 3 does not match 2 rows × 2 cols = 4');
    expect(() => new Matrix(-1, 2, new Float64Array(0))).toThrow(RangeError);
    expect(Matrix.zeros(2, 3).data).toEqual(new Float64Array(6));
  });

  it('reads row-major', () => {
    expect(m.get(1, 0)).toBe(3);
    expect(m.get(2, 1)).toBe(6);
    expect(() => m.get(3, 0)).toThrow(RangeError);
    expect(() => m.get(0, 2)).toThrow(RangeError);
  });

  it('returns views for row and sliceRows, and copies for selectRows', () => {
    const row = m.row(1);
    expect(Array.from(row)).toEqual([3, 4]);
    expect(row.buffer).toBe(m.data.buffer);

    const slice = m.sliceRows(1, 3);
    expect(slice.rows).toBe(2);
    expect(slice.get(0, 1)).toBe(4);
    expect(slice.data.buffer).toBe(m.data.buffer);
    expect(m.sliceRows(3, 3).rows).toBe(0);
    expect(() => m.sliceRows(2, 4)).toThrow(RangeError);

    const picked = m.selectRows(Int32Array.from([2, 0, 2]));
    expect(Array.from(picked.data)).toEqual([5, 6, 1, 2, 5, 6]);
    expect(picked.data.buffer).not.toBe(m.data.buffer);
    expect(() => m.selectRows(Uint32Array.from([3]))).toThrow('row index 3 at position 0 is out of range [0, 3)');
  });
});
