import { TableBuilder } from '../../../src/data/tableBuilder';

describe('TableBuilder', () => {
  it('a table built at full capacity keeps its numbers when the builder goes on adding rows', () => {
    const builder = new TableBuilder(['a', 'b'], {}, 2);
    builder.addColumns(new Map([['a', Float64Array.of(1, 2)], ['b', [3, 4]]]), 2, (i) => `row ${i + 1}`);
    const first = builder.build();
    expect(Array.from(first.features.data)).toEqual([1, 3, 2, 4]);
    builder.add([5, 6], 'row 3');
    builder.addColumns(new Map([['a', Float64Array.of(7)], ['b', Float64Array.of(8)]]), 1, (i) => `row ${i + 4}`);
    expect(Array.from(first.features.data)).toEqual([1, 3, 2, 4]);
    expect(Array.from(builder.build().features.data)).toEqual([1, 3, 2, 4, 5, 6, 7, 8]);
  });

  it('a Float64Array column is checked as any other: NaN and ±Infinity refused, with the row', () => {
    const builder = new TableBuilder(['a'], {}, 3);
    expect(() => builder.addColumns(new Map([['a', Float64Array.of(1, -Infinity, NaN)]]), 3, (i) => `row ${i + 1}`)).toThrow('row 2, column "a": -Infinity is not a finite number');
    expect(() => builder.addColumns(new Map([['a', Float64Array.of(1, 2, NaN)]]), 3, (i) => `row ${i + 1}`)).toThrow('row 3, column "a": NaN is not a finite number');
  });
});
