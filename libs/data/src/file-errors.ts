import { DataFileError } from '@app/common';

/** Duck-typed: errors from Node's fs fail `instanceof Error` inside Jest's sandbox. */
export function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return typeof error === 'object' && error !== null && 'code' in error;
}

export function errorMessage(error: unknown): string {
  const message: unknown =
    typeof error === 'object' && error !== null && 'message' in error ? error.message : error;
  return String(message);
}

/**
 * The file-system side of a data file failing (missing, unreadable, a directory). The fs error
 * stays attached as `cause`, so a worker can tell a busy file (EBUSY, EMFILE: retry) from a
 * broken one.
 */
export function cannotReadFile(file: string, error: unknown): DataFileError {
  return Object.assign(new DataFileError(file, `cannot read the file (${errorMessage(error)})`), {
    cause: error,
  });
}
