import { InvalidArgumentError } from 'commander';
import { collectColumns, collectColumnType } from '../../../src/client/cli/options';

describe('nomaly train column flags', () => {
  it('--features and --exclude take comma-separated names, repeatable, in order', () => {
    expect(collectColumns('c', collectColumns('amount, country', undefined))).toEqual(['amount', 'country', 'c']);
    expect(() => collectColumns('amount,,country', undefined)).toThrow(InvalidArgumentError);
  });

  it('--column-type takes COLUMN=TYPE (the last = splits, so a name may hold one), each column once', () => {
    expect(collectColumnType('note=exclude', collectColumnType('country=category', undefined))).toEqual({ country: 'category', note: 'exclude' });
    expect(collectColumnType('a=b=timestamp', undefined)).toEqual({ 'a=b': 'timestamp' });
    expect(() => collectColumnType('country', undefined)).toThrow('expected COLUMN=TYPE');
    expect(() => collectColumnType('country=', undefined)).toThrow('expected COLUMN=TYPE');
    expect(() => collectColumnType('country=number', { country: 'category' })).toThrow('column "country" is given a type twice');
  });
});
