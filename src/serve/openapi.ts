/**
 * The OpenAPI 3 description of the server, written by hand from ROUTES so that paths cannot
 * drift (test/serve/openapi.test.ts checks every registered route appears here).
 */
import { VERSION } from '../version.js';
import { ROUTES, ROUTE_ACCESS, openApiPath, type RouteName } from './routes.js';

const error = {
  description: 'Error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'Model name (directory basename or the name given as name=dir).' };

function security(route: RouteName): object {
  const access = ROUTE_ACCESS[route];
  if (access === 'public') return { security: [] };
  return { security: [{ bearer: [] }] };
}

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: 'heed serve', version: VERSION, description: 'Predictions and attention maps from heed models.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from HEED_API_KEYS or --api-key-file; the admin key for /v1/admin/*.' } },
      schemas: {
        Error: {
          type: 'object', required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
        },
        PredictRequest: {
          type: 'object',
          description: 'Either `inputs` (a list) or `input` (one item). The item type depends on the task: a word for g2p, a text for spam, 64 pixel values for digits.',
          properties: {
            inputs: { type: 'array', items: {} },
            input: {},
            nBest: { type: 'integer', minimum: 1, maximum: 16 },
            attention: { type: 'boolean', description: 'Return attention maps (heads × queries × keys) for each input.' },
          },
        },
        AttentionMap: {
          type: 'object',
          properties: {
            name: { type: 'string' }, kind: { type: 'string', enum: ['self', 'cross'] }, layer: { type: 'integer' },
            queryTokens: { type: 'array', items: { type: 'string' } }, keyTokens: { type: 'array', items: { type: 'string' } },
            weights: { type: 'array', items: { type: 'array', items: { type: 'array', items: { type: 'number' } } } },
          },
        },
        Prediction: {
          type: 'object', required: ['input', 'output'],
          properties: {
            input: {}, output: {},
            alternatives: { type: 'array', items: { type: 'object', properties: { output: {}, score: { type: 'number' } } } },
            attention: { type: 'array', items: { $ref: '#/components/schemas/AttentionMap' } },
          },
        },
        PredictResponse: {
          type: 'object', required: ['model', 'predictions'],
          properties: { model: { type: 'string' }, predictions: { type: 'array', items: { $ref: '#/components/schemas/Prediction' } } },
        },
        ModelSummary: {
          type: 'object',
          properties: { name: { type: 'string' }, task: { type: 'string' }, version: { type: 'string' }, loadedAt: { type: 'string' }, config: { type: 'object' } },
        },
      },
    },
    paths: {
      [openApiPath(ROUTES.health)]: { get: { summary: 'Liveness: the process answers.', ...security('health'), responses: { 200: { description: 'alive' } } } },
      [openApiPath(ROUTES.ready)]: {
        get: { summary: 'Readiness: every model is loaded and warmed up, and the server is not shutting down.', ...security('ready'), responses: { 200: { description: 'ready' }, 503: error } },
      },
      [openApiPath(ROUTES.metrics)]: { get: { summary: 'Prometheus metrics.', ...security('metrics'), responses: { 200: { description: 'text exposition format', content: { 'text/plain': {} } } } } },
      [openApiPath(ROUTES.openapi)]: { get: { summary: 'This document.', ...security('openapi'), responses: { 200: { description: 'OpenAPI 3 JSON' } } } },
      [openApiPath(ROUTES.ui)]: { get: { summary: 'The attention-map page.', ...security('ui'), responses: { 200: { description: 'HTML page', content: { 'text/html': {} } } } } },
      [openApiPath(ROUTES.models)]: {
        get: {
          summary: 'The served models with their configs.', ...security('models'),
          responses: { 200: { description: 'models', content: { 'application/json': { schema: { type: 'object', properties: { models: { type: 'array', items: { $ref: '#/components/schemas/ModelSummary' } } } } } } }, 401: error, 429: error },
        },
      },
      [openApiPath(ROUTES.predict)]: {
        post: {
          summary: 'Predict (batched with other requests on the server).', ...security('predict'), parameters: [nameParam],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictRequest' } } } },
          responses: {
            200: { description: 'one prediction per input', content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } } },
            400: error, 401: error, 404: error, 413: error, 415: error, 422: error, 429: error, 503: error, 504: error,
          },
        },
      },
      [openApiPath(ROUTES.training)]: {
        get: {
          summary: "Training curves from the model directory's metrics.jsonl.", ...security('training'), parameters: [nameParam],
          responses: { 200: { description: 'per-step and per-epoch series' }, 401: error, 404: error },
        },
      },
      [openApiPath(ROUTES.reload)]: {
        post: {
          summary: 'Reload one model (body {"model": name}) or all from their directories; atomic swap.', ...security('reload'),
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { model: { type: 'string' } } } } } },
          responses: { 200: { description: 'reloaded' }, 401: error, 403: error, 404: error, 500: error },
        },
      },
    },
  };
}
