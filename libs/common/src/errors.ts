/**
 * Typed errors of the core. Libraries throw these; the HTTP exception filter and the
 * CLI map them to status codes / exit codes in one place each.
 */

/** One thing wrong with the input: which field, the value given and what is allowed. */
export interface FieldProblem {
  field: string;
  /** Absent when none was given (JSON leaves the key out then). */
  value?: unknown;
  /** What would be accepted, e.g. "an integer from 1 to 500". */
  allowed: string;
}

/**
 * Limits on what an error echoes back (issue 10, item 3): a 1 MiB body of 60,000 unknown keys
 * once got a 15 MB answer, built in seconds on the event loop. An error lists at most
 * MAX_LISTED_PROBLEMS problems and says how many more there are; a value or field name it
 * repeats is cut to MAX_ECHOED_CHARS characters.
 */
export const MAX_LISTED_PROBLEMS = 50;
export const MAX_ECHOED_CHARS = 200;

/** Input that breaks the contract (HTTP 422, CLI exit 2). Lists every failing field. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  /**
   * `problems`: what was found; `unlisted`: how many more a check found but did not keep (a
   * check may stop collecting once it has MAX_LISTED_PROBLEMS).
   */
  constructor(
    readonly problems: FieldProblem[],
    readonly unlisted = 0,
  ) {
    super(describeProblems(problems, unlisted));
  }

  static of(field: string, value: unknown, allowed: string): InvalidInputError {
    return new InvalidInputError([{ field, value, allowed }]);
  }

  /** Every problem found, listed or not. */
  get problemCount(): number {
    return this.problems.length + this.unlisted;
  }
}

/** The first MAX_LISTED_PROBLEMS problems as text, then "and N more problems". */
export function describeProblems(problems: FieldProblem[], unlisted = 0): string {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map(describeProblem);
  const more = problems.length - listed.length + unlisted;
  if (more > 0) listed.push(`and ${more} more ${more === 1 ? 'problem' : 'problems'}`);
  return listed.join('; ');
}

export function describeProblem({ field, value, allowed }: FieldProblem): string {
  return `${cutText(field, MAX_ECHOED_CHARS)}: got ${formatValue(value)}; expected ${allowed}`;
}

/**
 * A problem's value as JSON can carry it: JSON prints NaN and Infinity (a number too large for
 * a double, such as 1e309, arrives as Infinity) as null, so they are shown as text.
 */
export function jsonSafeValue(value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/**
 * A value as an error repeats it: as given when its JSON is at most MAX_ECHOED_CHARS long,
 * otherwise the start of its JSON text (a string longer than that: its start), ending in
 * "…". Never serialises more than that much of it, however large the value.
 */
export function echoedValue(value: unknown): unknown {
  const safe = jsonSafeValue(value);
  if (typeof safe === 'string') return cutText(safe, MAX_ECHOED_CHARS);
  if (typeof safe !== 'object' || safe === null) return safe;
  const preview = jsonPreview(safe, MAX_ECHOED_CHARS);
  return preview.cut ? preview.text : safe;
}

/** `text` cut to `max` characters, the last one "…" when cut (a surrogate pair kept whole). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Deeper than this, a preview shows "…": request bodies are refused deeper anyway. */
const PREVIEW_MAX_DEPTH = 64;

/**
 * The JSON text of `value` up to `max` characters (cut: whether it was longer), written
 * piece by piece so that a huge array or object costs only the part shown.
 */
export function jsonPreview(value: unknown, max: number): { text: string; cut: boolean } {
  let text = '';
  const full = (): boolean => text.length > max;
  const write = (item: unknown, depth: number): void => {
    if (full()) return;
    if (item !== null && typeof item === 'object' && 'toJSON' in item) {
      const toJson = item.toJSON;
      if (typeof toJson === 'function') item = (toJson as () => unknown).call(item);
    }
    if (typeof item === 'string') {
      text += JSON.stringify(item.length > max ? item.slice(0, max + 1) : item);
    } else if (typeof item === 'number') {
      text += Number.isFinite(item) ? String(item) : 'null';
    } else if (typeof item === 'boolean' || item === null) {
      text += String(item);
    } else if (typeof item !== 'object' || depth >= PREVIEW_MAX_DEPTH) {
      text += typeof item === 'object' ? '"…"' : 'null';
    } else if (Array.isArray(item)) {
      text += '[';
      for (let index = 0; index < item.length && !full(); index += 1) {
        if (index > 0) text += ',';
        write(item[index] ?? null, depth + 1);
      }
      text += ']';
    } else {
      text += '{';
      let first = true;
      for (const key in item) {
        if (full()) break;
        if (!Object.hasOwn(item, key)) continue;
        const entry = (item as Record<string, unknown>)[key];
        if (entry === undefined || typeof entry === 'function') continue;
        text += `${first ? '' : ','}${JSON.stringify(key.length > max ? key.slice(0, max + 1) : key)}:`;
        first = false;
        write(entry, depth + 1);
      }
      text += '}';
    }
  };
  write(value, 0);
  return full() ? { text: cutText(text, max), cut: true } : { text, cut: false };
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const safe = jsonSafeValue(value);
  if (typeof safe === 'string' && safe !== value) return safe; // NaN, Infinity: as they read
  return jsonPreview(value, 80).text;
}

/**
 * Gathers the problems of several independent checks, so a request is answered with every
 * failing field at once rather than the first.
 */
export class ProblemCollector {
  readonly problems: FieldProblem[] = [];

  /** Runs one check; its InvalidInputError's problems are kept and undefined returned. */
  check<T>(parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      this.problems.push(...error.problems);
      return undefined;
    }
  }

  add(problem: FieldProblem): void {
    this.problems.push(problem);
  }

  /** Throws one InvalidInputError with everything gathered, if anything was. */
  throwIfAny(): void {
    if (this.problems.length > 0) throw new InvalidInputError(this.problems);
  }
}

/** Something asked for does not exist (HTTP 404). */
export class NotFoundError extends Error {
  override readonly name: string = 'NotFoundError';
}

/** No candles for any requested symbol in the range (HTTP 404, CLI exit 3). */
export class NoDataError extends NotFoundError {
  override readonly name = 'NoDataError';
}

/** A data file that is not Parquet or lacks a required column (HTTP 422). Names the file. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * RESULTS_DIR cannot take a run folder (read-only, full, no permission): a fault of the
 * worker's disk, not of the task. The worker puts the task back for another worker and stops
 * taking jobs until its disk check passes again.
 */
export class ResultsDirError extends Error {
  override readonly name = 'ResultsDirError';
  constructor(
    readonly resultsDir: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const reason = code ? (RESULTS_DIR_REASONS[code] ?? code) : 'unknown error';
    super(
      `RESULTS_DIR ${resultsDir} cannot be written (${reason}): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

const RESULTS_DIR_REASONS: Record<string, string> = {
  EROFS: 'a read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file stands where a directory should be',
  ENOENT: 'a directory on its path cannot be created',
};

/**
 * The service cannot take this now but will soon (HTTP 503 with Retry-After): the queue holds
 * MAX_QUEUED_TASKS tasks, Redis is full... `retryAfterS` is when trying again makes sense.
 */
export class TryLaterError extends Error {
  override readonly name = 'TryLaterError';
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

/** The operation does not fit the current state, e.g. cancelling a finished task (HTTP 409). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** A run was stopped because its task was cancelled. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'The task was cancelled') {
    super(message);
  }
}

/** Lets long work stop between symbols and data chunks; returns true once cancelled. */
export type CancellationCheck = () => boolean;

export function throwIfCancelled(isCancelled: CancellationCheck | undefined): void {
  if (isCancelled?.()) throw new CancelledError();
}

/**
 * Why a run failed, as a stable code: workers report it with a failure so that the API can
 * answer a synchronous run with the right status (422, 404, 504...) without parsing messages.
 */
export const FAILURE_CODES = [
  'invalid_input',
  'no_data',
  'data_file',
  'timeout',
  'internal',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** A task that failed, with the worker's failure code (a synchronous run answers with it). */
export class TaskFailedError extends Error {
  override readonly name = 'TaskFailedError';
  constructor(
    readonly code: FailureCode,
    message: string,
    /** The task that failed, when the error answers for one (the body names it). */
    readonly taskId?: string,
  ) {
    super(message);
  }
}

export function failureCodeOf(error: unknown): FailureCode {
  if (error instanceof InvalidInputError) return 'invalid_input';
  if (error instanceof NoDataError) return 'no_data';
  if (error instanceof DataFileError) return 'data_file';
  return 'internal';
}
