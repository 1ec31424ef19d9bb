import { DataFileError, NoDataError } from './errors';
import { infrastructureFault, isTransientFault } from './faults';

describe('isTransientFault', () => {
  const fsError = (code: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${code}: something happened`), { code });

  it('retries a busy or exhausted file system, directly or as the cause of a data file error', () => {
    expect(isTransientFault(fsError('EBUSY'))).toBe(true);
    expect(isTransientFault(fsError('EMFILE'))).toBe(true);
    const wrapped = Object.assign(new DataFileError('A_B/1D/2024.parquet', 'cannot read'), {
      cause: fsError('EAGAIN'),
    });
    expect(isTransientFault(wrapped)).toBe(true);
  });

  it('retries Redis connection loss and a Redis still loading its data after a restart', () => {
    expect(isTransientFault(fsError('ECONNRESET'))).toBe(true);
    expect(isTransientFault(new Error('Connection is closed.'))).toBe(true);
    expect(isTransientFault(new Error('LOADING Redis is loading the dataset in memory'))).toBe(
      true,
    );
  });

  it('does not retry what would fail the same way again', () => {
    expect(isTransientFault(fsError('ENOENT'))).toBe(false);
    expect(isTransientFault(fsError('EACCES'))).toBe(false);
    expect(isTransientFault(new DataFileError('A_B/1D/2024.parquet', 'not a Parquet file'))).toBe(
      false,
    );
    expect(isTransientFault(new NoDataError('No data found'))).toBe(false);
    expect(isTransientFault('EBUSY')).toBe(false);
    expect(isTransientFault(undefined)).toBe(false);
  });

  it('tells the kinds apart: a full Redis, an unreachable one, a busy disk', () => {
    expect(
      infrastructureFault(new Error("OOM command not allowed when used memory > 'maxmemory'.")),
    ).toBe('redis-full');
    expect(infrastructureFault(fsError('ECONNREFUSED'))).toBe('redis-unavailable');
    expect(
      infrastructureFault(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' })),
    ).toBe('redis-unavailable');
    expect(
      infrastructureFault(
        new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      ),
    ).toBe('redis-unavailable');
    expect(infrastructureFault(fsError('EMFILE'))).toBe('io-busy');
    // A read-only or full disk does not fix itself between two tries: not transient.
    expect(infrastructureFault(fsError('EROFS'))).toBeUndefined();
    expect(infrastructureFault(fsError('ENOSPC'))).toBeUndefined();
  });

  it('survives a cause chain that loops', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b: Error & { cause?: unknown } = new Error('b', { cause: a });
    a.cause = b;
    expect(isTransientFault(a)).toBe(false);
  });
});
