import type { OpenAPIObject } from '@nestjs/swagger';

export type OpenApiDocument = OpenAPIObject;

/** The request example the docs pre-fill for POST /api/backtests/run-async. */
export function runAsyncExample(document: OpenApiDocument): unknown {
  const body = document.paths['/api/backtests/run-async']?.post?.requestBody;
  const content = body && 'content' in body ? body.content['application/json'] : undefined;
  const [first] = Object.values(content?.examples ?? {});
  if (!first || !('value' in first)) throw new Error('run-async has no request example');
  return first.value;
}
