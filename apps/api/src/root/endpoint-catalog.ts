import { Injectable } from '@nestjs/common';
import { OpenAPIObject } from '@nestjs/swagger';
import { PackageInfo } from '../openapi/package-info';
import { DOCS_JSON_PATH, DOCS_PATH } from '../openapi/openapi';
import { EndpointDto, ServiceInfoDto } from './root.dto';

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Routes served outside Nest's controllers, hence not in the document they are listed from. */
const DOCS_ENDPOINTS: EndpointDto[] = [
  { method: 'GET', path: `/${DOCS_PATH}`, summary: 'Swagger UI' },
  { method: 'GET', path: `/${DOCS_JSON_PATH}`, summary: 'The OpenAPI document' },
];

/**
 * What GET / tells: the service and its endpoints, listed from the OpenAPI document (built
 * from the controllers at start-up), so the list cannot drift from the routes.
 */
@Injectable()
export class EndpointCatalog {
  private info: ServiceInfoDto | undefined;

  publish(document: OpenAPIObject, pkg: PackageInfo): void {
    const endpoints = Object.entries(document.paths).flatMap(([path, item]) =>
      HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => ({
        method: method.toUpperCase(),
        path,
        summary: item[method]?.summary ?? '',
      })),
    );
    this.info = {
      name: document.info.title,
      version: pkg.version,
      description: pkg.description,
      docs: `/${DOCS_PATH}`,
      endpoints: [...endpoints, ...DOCS_ENDPOINTS],
    };
  }

  get serviceInfo(): ServiceInfoDto {
    if (!this.info) throw new Error('EndpointCatalog.publish was not called at start-up');
    return this.info;
  }
}
