import type { FastifyInstance } from 'fastify';
import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { strategyParamsSchemas } from '../strategies/strategy-schemas';
import { PackageInfo } from './package-info';

/** Name of the API key security scheme in the OpenAPI document. */
export const API_KEY_SCHEME = 'api_key';

export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs-json';

const DESCRIPTION = `Trading-strategy backtests over crypto candle data, queued on Redis and run by workers.

Submit with POST /api/backtests/run (waits for the result) or /run-async (answers with a task id),
follow a task at GET /api/backtests/status/{task_id} or its /events stream, read results at
GET /api/backtests/{id}. Dates are KST calendar dates, both inclusive.

Errors are JSON {statusCode, error, message, detail} (detail repeats message); a 422 also lists
the failing fields in \`errors\` (at most 50; \`errors_omitted\` counts the rest). A 429 or 503
carries Retry-After.
When the server has API_KEY set, every /api route needs the header X-API-Key.`;

/** The OpenAPI 3 document of every route, with the strategies' parameter schemas. */
export function createOpenApiDocument(app: INestApplication, info: PackageInfo): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Coin Backtesting API')
    .setDescription(DESCRIPTION)
    .setVersion(info.version)
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
        description: 'Needed on /api routes when the server has API_KEY set',
      },
      API_KEY_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...strategyParamsSchemas() },
  };
  closeRequestBodies(document);
  return document;
}

/**
 * Request bodies refuse fields they do not declare (the validation pipe's whitelist: 422 "no
 * such field"), so their schemas say `additionalProperties: false`: a client generated from
 * the document then refuses what the API would (issue 10, item 8: the request schemas were
 * looser than the validation).
 */
function closeRequestBodies(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path) as Array<{ requestBody?: unknown }>) {
      const body = operation?.requestBody as
        { content?: Record<string, { schema?: { $ref?: string } }> } | undefined;
      const ref = body?.content?.['application/json']?.schema?.$ref;
      const name = ref?.startsWith('#/components/schemas/') ? ref.slice(21) : undefined;
      const schema = name === undefined ? undefined : schemas[name];
      if (schema && !('$ref' in schema)) schema.additionalProperties = false;
    }
  }
}

/** Swagger UI at /docs, the document at /docs-json. */
export function serveOpenApiDocument(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Coin Backtesting API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
  // Swagger UI's page links its scripts relatively: under /docs/ they would resolve to
  // /docs/docs/..., a blank page. Send the trailing-slash form to /docs.
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const slashPath = `/${DOCS_PATH}/`;
  fastify.addHook('onRequest', (request, reply, done) => {
    // Every request passes here: a prefix test spares all but /docs/* the split.
    if (!request.url.startsWith(slashPath)) {
      done();
      return;
    }
    const [path, query] = request.url.split(/\?(.*)/s, 2);
    if (path === slashPath) {
      void reply.redirect(`/${DOCS_PATH}${query ? `?${query}` : ''}`, 301);
      return;
    }
    done();
  });
}
