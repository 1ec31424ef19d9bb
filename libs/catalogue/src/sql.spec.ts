import { POSTGRES_DIALECT, sql, sqlIdentifier, sqlJoin, sqlList, SQLITE_DIALECT } from './sql';

describe('sql', () => {
  const statement = sql`SELECT * FROM runs WHERE ${sqlJoin(
    [sql`status = ${'completed'}`, sql`id IN ${sqlList(['a', 'b'])}`],
    ' AND ',
  )} LIMIT ${20}`;

  it('keeps values apart from the text, in each dialect’s placeholders, in order', () => {
    expect(statement.render(SQLITE_DIALECT)).toEqual({
      text: 'SELECT * FROM runs WHERE status = ? AND id IN (?, ?) LIMIT ?',
      values: ['completed', 'a', 'b', 20],
    });
    expect(statement.render(POSTGRES_DIALECT)).toEqual({
      text: 'SELECT * FROM runs WHERE status = $1 AND id IN ($2, $3) LIMIT $4',
      values: ['completed', 'a', 'b', 20],
    });
  });

  it('puts text that looks like SQL in a value, not in the statement', () => {
    const { text, values } = sql`WHERE strategy = ${"x' OR '1'='1"}`.render(SQLITE_DIALECT);
    expect(text).toBe('WHERE strategy = ?');
    expect(values).toEqual(["x' OR '1'='1"]);
  });

  it('refuses values SQL cannot carry, and identifiers that are not plain names', () => {
    expect(() => sql`${undefined as unknown as string}`).toThrow(TypeError);
    expect(() => sql`${NaN}`).toThrow(TypeError);
    expect(() => sql`${true as unknown as number}`).toThrow(TypeError);
    expect(() => sqlList([])).toThrow();
    expect(sqlIdentifier('run_symbols').render(SQLITE_DIALECT).text).toBe('run_symbols');
    expect(() => sqlIdentifier('runs; DROP TABLE runs')).toThrow();
    expect(() => sqlIdentifier('Runs')).toThrow();
  });

  it('joins nothing into empty SQL', () => {
    expect(sql`a${sqlJoin([], ', ')}b`.render(SQLITE_DIALECT)).toEqual({ text: 'ab', values: [] });
  });
});
