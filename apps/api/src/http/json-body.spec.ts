import Fastify from 'fastify';
import { jsonBodyParser, MalformedJsonError, MAX_JSON_DEPTH } from './json-body';

describe('jsonBodyParser', () => {
  const fastify = Fastify();
  const parse = jsonBodyParser(fastify.getDefaultJsonParser('error', 'error'));
  const run = (body: string) =>
    new Promise<{ error: Error | null; value: unknown }>((resolve) => {
      // The request is not looked at by Fastify's JSON parser.
      void parse(undefined as never, body, (error, value) => resolve({ error, value }));
    });

  it('parses a JSON body', async () => {
    expect(await run('{"a": [1, 2]}')).toEqual({ error: null, value: { a: [1, 2] } });
  });

  it('takes an empty or blank body as no body', async () => {
    expect(await run('')).toEqual({ error: null, value: undefined });
    expect(await run(' \n')).toEqual({ error: null, value: undefined });
  });

  it('refuses broken JSON saying where it breaks', async () => {
    const { error } = await run('{"a": 1,');
    expect(error).toBeInstanceOf(MalformedJsonError);
    expect(error?.message).toMatch(/^The request body is not valid JSON: .*JSON/);
  });

  it('refuses keys that would rewrite a prototype, naming them', async () => {
    const { error } = await run('{"__proto__": {"polluted": true}}');
    expect(error).toBeInstanceOf(MalformedJsonError);
    expect(error?.message).toMatch(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a body nested deeper than the limit, naming it, without parsing it', async () => {
    const deep = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    const { error } = await run(deep(2000));
    expect(error).toBeInstanceOf(MalformedJsonError);
    expect(error?.message).toContain(`more than ${MAX_JSON_DEPTH} levels deep`);
    expect(await run(deep(MAX_JSON_DEPTH))).toMatchObject({ error: null });
    // Brackets inside strings (escaped quotes too) are text, not nesting.
    const text = JSON.stringify({ a: '[[[{{{\\"'.repeat(100) });
    expect(await run(text)).toMatchObject({ error: null });
  });
});
