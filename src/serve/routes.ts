/**
 * Every route the server registers, in one place: the server, the OpenAPI document, the
 * Kubernetes manifests' probes and their tests all read these, so none can drift.
 */
export const ROUTES = Object.freeze({
  health: '/healthz',
  ready: '/readyz',
  metrics: '/metrics',
  openapi: '/openapi.json',
  models: '/v1/models',
  predict: '/v1/models/:name/predict',
  training: '/v1/models/:name/training',
  reload: '/v1/admin/reload',
  ui: '/ui',
});

export type RouteName = keyof typeof ROUTES;

/** Who may call a route: anyone, holders of an API key, or the admin key. */
export type Access = 'public' | 'apiKey' | 'admin';

export const ROUTE_ACCESS: Readonly<Record<RouteName, Access>> = Object.freeze({
  health: 'public', ready: 'public', metrics: 'public', openapi: 'public', ui: 'public',
  models: 'apiKey', predict: 'apiKey', training: 'apiKey',
  reload: 'admin',
});

/** Fastify's `:name` → OpenAPI's `{name}`. */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z]+)/g, '{$1}');
}
