import { DataFileError, InvalidInputError, NoDataError, NotFoundError } from './errors';
import { fromThreadError, toThreadError } from './thread-errors';

/** What the main thread gets back: the error through structured clone, as a thread sends it. */
function acrossThreads(error: unknown): Error {
  return fromThreadError(structuredClone(toThreadError(error)));
}

describe('thread errors', () => {
  it('keep their type and fields across the thread boundary', () => {
    const invalid = acrossThreads(InvalidInputError.of('--symbols', 'x', 'a symbol'));
    expect(invalid).toBeInstanceOf(InvalidInputError);
    expect((invalid as InvalidInputError).problems).toEqual([
      { field: '--symbols', value: 'x', allowed: 'a symbol' },
    ]);

    const broken = acrossThreads(new DataFileError('BTC_KRW/1D/2024.parquet', 'not Parquet'));
    expect(broken).toBeInstanceOf(DataFileError);
    expect(broken.message).toBe('BTC_KRW/1D/2024.parquet: not Parquet');

    expect(acrossThreads(new NoDataError('none'))).toBeInstanceOf(NoDataError);
    const notFound = acrossThreads(new NotFoundError('gone'));
    expect([notFound instanceof NotFoundError, notFound instanceof NoDataError]).toEqual([
      true,
      false,
    ]);
  });

  it('keep the message of any other error, and of things thrown that are not errors', () => {
    expect(acrossThreads(new RangeError('too big')).message).toBe('too big');
    expect(acrossThreads('a string')).toEqual(new Error('a string'));
  });
});
