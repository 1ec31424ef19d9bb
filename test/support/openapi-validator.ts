import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from './openapi';

/** One response as a test saw it. */
export interface SeenResponse {
  method: string;
  /** The concrete path, without the query. */
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

type Operation = {
  responses?: Record<
    string,
    { content?: Record<string, { schema?: Record<string, unknown> }> } | undefined
  >;
};

/**
 * Checks responses against the API's own OpenAPI document (issue 10, item 8): the status must
 * be documented for the route, the content type among the documented ones, and a JSON body
 * must satisfy the documented schema (ajv, OpenAPI 3.0's `nullable` included). Each problem
 * is a line naming the request, so a failing test shows every drift at once.
 */
export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: Array<{ template: string; pattern: RegExp }>;

  constructor(private readonly document: OpenApiDocument) {
    // Swagger's documents carry `example` and `xml` next to the schema keywords.
    this.ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ components: document.components ?? {} }, 'openapi.json');
    this.routes = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/}]+\}/g, '[^/]+')}$`,
      ),
    }));
  }

  /** The problems of one response; empty when it agrees with the document. */
  problems(response: SeenResponse): string[] {
    const name = `${response.method} ${response.path} → ${response.status}`;
    // A literal route wins over a templated one (/api/backtests/latest over /{id}).
    const matches = this.routes.filter(({ pattern }) => pattern.test(response.path));
    const route =
      matches.find(({ template }) => !template.includes('{')) ??
      matches.sort((a, b) => b.template.length - a.template.length)[0];
    if (!route) return [`${name}: the path is not in the OpenAPI document`];
    const operation = (this.document.paths[route.template] as Record<string, Operation>)[
      response.method.toLowerCase()
    ];
    if (!operation) return [`${name}: ${response.method} is not documented on ${route.template}`];
    const documented =
      operation.responses?.[String(response.status)] ?? operation.responses?.default;
    if (!documented) {
      const statuses = Object.keys(operation.responses ?? {}).join(', ');
      return [`${name}: status not documented for ${route.template} (documented: ${statuses})`];
    }
    const type = (response.contentType ?? '').split(';')[0].trim();
    const content = documented.content;
    if (!content) return type === '' ? [] : [`${name}: ${type} sent, no content documented`];
    const media = content[type];
    if (!media) {
      return [`${name}: ${type} sent; documented: ${Object.keys(content).join(', ')}`];
    }
    if (!type.endsWith('json') || !media.schema) return [];
    const key = `${route.template} ${response.method} ${response.status} ${type}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(media.schema) as Record<string, unknown>);
      this.compiled.set(key, validate);
    }
    if (validate(response.body)) return [];
    return (validate.errors ?? []).map(
      (error) => `${name}: body${error.instancePath} ${error.message ?? 'is invalid'}`,
    );
  }
}

/** `#/components/...` refs point into the components schema added as openapi.json. */
function rewriteRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/')
        ? [key, `openapi.json${value}`]
        : [key, rewriteRefs(value)],
    ),
  );
}
