import {
  ConflictError,
  DataFileError,
  FieldProblem,
  InvalidInputError,
  NoDataError,
  NotFoundError,
} from './errors';

/**
 * An error as plain data. A thread's error reaches the main thread by structured clone, which
 * keeps only a plain Error's message: the error types (and their exit codes) would be lost.
 */
export type ThreadError =
  | { kind: 'invalid-input'; problems: FieldProblem[]; unlisted?: number }
  | { kind: 'no-data'; message: string }
  | { kind: 'not-found'; message: string }
  | { kind: 'data-file'; file: string; problem: string }
  | { kind: 'conflict'; message: string }
  | { kind: 'other'; message: string };

export function toThreadError(error: unknown): ThreadError {
  if (error instanceof InvalidInputError)
    return { kind: 'invalid-input', problems: error.problems, unlisted: error.unlisted };
  if (error instanceof NoDataError) return { kind: 'no-data', message: error.message };
  if (error instanceof NotFoundError) return { kind: 'not-found', message: error.message };
  if (error instanceof DataFileError) {
    return { kind: 'data-file', file: error.file, problem: error.problem };
  }
  if (error instanceof ConflictError) return { kind: 'conflict', message: error.message };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}

export function fromThreadError(error: ThreadError): Error {
  switch (error.kind) {
    case 'invalid-input':
      return new InvalidInputError(error.problems, error.unlisted);
    case 'no-data':
      return new NoDataError(error.message);
    case 'not-found':
      return new NotFoundError(error.message);
    case 'data-file':
      return new DataFileError(error.file, error.problem);
    case 'conflict':
      return new ConflictError(error.message);
    case 'other':
      return new Error(error.message);
  }
}
