/** The machine-readable contract: OpenAPI for HTTP and AsyncAPI for the WebSocket. */
import type { OfferService } from '../offers/service.js';
import { VERSION } from '../version.js';
import { buildAsyncApi } from './asyncapi.js';
import { buildOpenApi } from './openapi.js';
import { buildRoutes, type RouteContext } from './routes.js';

/**
 * Both documents, built from the route table and the protocol schemas. The route handlers are
 * never called here, so no service or server is needed to describe them.
 */
export function contractDocuments(): {
  openapi: Record<string, unknown>;
  asyncapi: Record<string, unknown>;
} {
  const routes = buildRoutes({} as OfferService, {} as RouteContext);
  return {
    openapi: buildOpenApi(routes, { version: VERSION }),
    asyncapi: buildAsyncApi({ version: VERSION }),
  };
}
