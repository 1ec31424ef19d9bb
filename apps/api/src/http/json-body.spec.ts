import Fastify from 'fastify';
import { jsonBodyParser, MalformedJsonError } from './json-body';

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
});
