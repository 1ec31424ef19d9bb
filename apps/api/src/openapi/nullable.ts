import type { Type } from '@nestjs/common';
import { ApiPropertyOptions, getSchemaPath } from '@nestjs/swagger';

/**
 * A property that holds `dto` or null, as OpenAPI 3.0 can say it. Swagger's `nullable: true`
 * beside `type: Dto` becomes `{nullable, allOf: [$ref]}`, which a validator reads as "never
 * null": the $ref's object type still applies (issue 10, item 8: the document must agree with
 * the API). `anyOf` of the $ref and a null-only schema does say it. The class must be listed
 * with @ApiExtraModels where nothing else references it.
 */
export function nullableRef(dto: Type): ApiPropertyOptions {
  return {
    anyOf: [{ $ref: getSchemaPath(dto) }, { type: 'object', nullable: true, enum: [null] }],
  };
}
