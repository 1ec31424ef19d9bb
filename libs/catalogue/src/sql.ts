/**
 * The catalogue's whole "query builder": SQL text written by hand, values kept apart from it.
 * A value is never spliced into the text; it becomes a placeholder in the dialect's spelling
 * (`?` for SQLite, `$1` for PostgreSQL). Only `sqlIdentifier` puts text in, and it accepts
 * nothing but the plain names the schema is written with.
 */

/** What a placeholder may carry: the catalogue stores text, numbers and nulls only. */
export type SqlValue = string | number | null;

/** A finished statement, as a driver sends it. */
export interface SqlStatement {
  text: string;
  values: SqlValue[];
}

export type DialectName = 'sqlite' | 'postgres';

export interface Dialect {
  name: DialectName;
  /** The placeholder for the value at `index` (0-based) of a statement. */
  placeholder(index: number): string;
}

export const SQLITE_DIALECT: Dialect = { name: 'sqlite', placeholder: () => '?' };
export const POSTGRES_DIALECT: Dialect = {
  name: 'postgres',
  placeholder: (index) => `$${index + 1}`,
};

/** A piece of SQL: text parts with values (or nested pieces) between them. */
export class Sql {
  constructor(
    readonly parts: readonly string[],
    readonly values: readonly (SqlValue | Sql)[],
  ) {
    if (parts.length !== values.length + 1) throw new Error('Sql: parts must surround values');
  }

  /** The statement in the dialect's placeholders, nested pieces flattened. */
  render(dialect: Dialect): SqlStatement {
    const values: SqlValue[] = [];
    const text = this.renderInto(dialect, values);
    return { text, values };
  }

  private renderInto(dialect: Dialect, values: SqlValue[]): string {
    let text = this.parts[0];
    this.values.forEach((value, index) => {
      if (value instanceof Sql) text += value.renderInto(dialect, values);
      else {
        text += dialect.placeholder(values.length);
        values.push(value);
      }
      text += this.parts[index + 1];
    });
    return text;
  }
}

/** A piece of SQL from a template: every `${value}` becomes a placeholder (or a nested piece). */
export function sql(strings: TemplateStringsArray, ...values: (SqlValue | Sql)[]): Sql {
  for (const value of values) checkValue(value);
  return new Sql([...strings], values);
}

/** The pieces with `separator` between them (an empty list gives empty SQL). */
export function sqlJoin(pieces: readonly Sql[], separator: string): Sql {
  if (pieces.length === 0) return EMPTY;
  const parts = ['', ...pieces.slice(1).map(() => separator), ''];
  return new Sql(parts, pieces);
}

/** A value list `(?, ?, ...)` of at least one value, e.g. for `IN`. */
export function sqlList(values: readonly SqlValue[]): Sql {
  if (values.length === 0) throw new Error('sqlList: an empty list is not valid SQL');
  return sql`(${sqlJoin(
    values.map((value) => sql`${value}`),
    ', ',
  )})`;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** A table or column name from the schema: plain lower-case names only, never user input. */
export function sqlIdentifier(name: string): Sql {
  if (!IDENTIFIER.test(name)) throw new Error(`Not a plain SQL identifier: ${name}`);
  return new Sql([name], []);
}

const EMPTY = new Sql([''], []);

function checkValue(value: unknown): void {
  if (value instanceof Sql || value === null || typeof value === 'string') return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  // undefined, NaN, booleans, objects: a bug in the caller, not something to store.
  const shown = typeof value === 'number' ? String(value) : typeof value;
  throw new TypeError(`Not a value SQL can carry: ${shown}`);
}
