/**
 * `heed serve`: a Fastify server that answers predictions from models loaded into a worker
 * pool, batched dynamically, behind API keys, limits and metrics.
 *
 *   const server = createServer({ models: parseModelSpecs(['runs/g2p']), apiKeys: ['…'] });
 *   await server.ready;              // models loaded and warmed up in every worker
 *   const url = await server.listen();
 *   …
 *   await server.close();            // stop accepting, drain in-flight requests, stop workers
 *
 * Request path: onRequest hook (auth by route access → rate limit) → handler (shape and
 * limit checks) → Scheduler (bounded queue, batching) → WorkerPool → worker predict().
 * Errors: HttpError and Fastify's own 4xx pass through as { error: { code, message } };
 * anything else is logged and answered 500 "internal error".
 */
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { ROUTES, ROUTE_ACCESS, type Access, type RouteName } from './routes.js';
import { resolveServeConfig, type ModelSpec, type ServeConfig } from './config.js';
import { KeyStore, TokenBuckets, bearerToken } from './auth.js';
import { ServeMetrics } from './metrics.js';
import { WorkerPool } from './pool.js';
import { Scheduler } from './scheduler.js';
import { ModelRegistry } from './models.js';
import { ConnectionTracker } from './connections.js';
import { openApiDocument } from './openapi.js';
import {
  HttpError, badRequest, clip, forbidden, notFound, overloaded, rateLimited, tooLarge, unauthorized, unprocessable,
} from './errors.js';
import { registerPage } from '../viz/assets.js';
import { readTrainingCurves } from '../viz/training.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { backendInfo } from '../backend/registry.js';
import { parsePredictBody } from './body.js';
import { taskModuleUrls } from '../tasks/registry.js';

export interface ServerOptions {
  models: readonly ModelSpec[];
  config?: Partial<ServeConfig>;
  /** Plain API keys (hashed at once; never stored or logged). Required unless config.insecureNoAuth. */
  apiKeys?: readonly string[];
  /** Key for /v1/admin/*; admin routes answer 403 when unset. */
  adminKey?: string;
  /** URL of the module exporting loadPredictor(dir); default src/tasks/index. */
  loader?: string;
  /**
   * ES modules that register tasks (heed.registerTask), imported by every worker before it loads
   * a model; default: the modules imported with importTaskModules (`heed --task-module`).
   */
  taskModules?: readonly string[];
  /** Fastify/pino logger options; false silences logs. Authorization headers are always redacted. */
  logger?: boolean | { level?: string; stream?: NodeJS.WritableStream };
}

export interface HeedServer {
  app: FastifyInstance;
  config: ServeConfig;
  models: ModelRegistry;
  scheduler: Scheduler;
  metrics: ServeMetrics;
  /** Resolves when every model is loaded and warmed up; rejects if one fails to load. */
  ready: Promise<void>;
  /** 'loading' → 'ready' → 'draining'. */
  readonly state: 'loading' | 'ready' | 'draining';
  listen(): Promise<string>;
  reload(model?: string): Promise<void>;
  close(): Promise<void>;
}

/** While draining: how long a request whose body is still arriving may take to finish sending it. */
const DRAIN_RECEIVE_GRACE_MS = 1000;
/** While draining: how long answered requests may take to write their responses once every prediction is done. */
const DRAIN_SEND_GRACE_MS = 2000;
/** Longest error message sent to a client. */
const MAX_MESSAGE_CHARS = 500;
const DEFAULT_LOADER = new URL(import.meta.url.endsWith('.ts') ? '../tasks/index.ts' : '../tasks/index.js', import.meta.url).href;

declare module 'fastify' {
  interface FastifyContextConfig { access?: Access }
  interface FastifyRequest { clientId?: string }
}

/** A request's path without its query string, cut to a bounded length: what logs and messages may show. */
export function loggablePath(url: string): string {
  const q = url.indexOf('?');
  return clip(q < 0 ? url : url.slice(0, q), 200);
}

/**
 * Logs show a request's method, path and peer, never its query string: a client that puts
 * its key in `?api_key=…` must not find it in the log. Authorization headers are redacted
 * too, should anything log headers.
 */
function loggerOptions(logger: ServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false || logger === undefined) return false;
  const redact = { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization'], censor: '[redacted]' };
  const serializers = {
    req: (req: FastifyRequest) => ({
      method: req.method, url: loggablePath(req.url), remoteAddress: req.ip, remotePort: req.socket?.remotePort,
    }),
  };
  const level = logger === true ? 'info' : logger.level ?? 'info';
  const stream = logger === true || logger.stream === undefined ? {} : { stream: logger.stream };
  return { level, redact, serializers, ...stream };
}

export function createServer(options: ServerOptions): HeedServer {
  const config = resolveServeConfig(options.config);
  if (options.models.length === 0) throw new ConfigError('serve: give at least one model directory.');
  const keys = new KeyStore(options.apiKeys ?? []);
  if (!config.insecureNoAuth && keys.size === 0) {
    throw new ConfigError('serve: no API keys. Set HEED_API_KEYS (comma-separated) or pass --api-key-file; for a local test only, pass --insecure-no-auth.');
  }
  const adminKeys = options.adminKey === undefined || options.adminKey === '' ? null : new KeyStore([options.adminKey]);
  const buckets = new TokenBuckets(config.rateLimit, config.rateBurst);
  const metrics = new ServeMetrics();

  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Headers are due within the same budget as the whole request; Node checks every second
    // (its default, 30 s, would let a silent socket outlive requestTimeoutMs by that much).
    http: { requestTimeout: config.requestTimeoutMs, headersTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs) },
    // Draining is ours (close() below): requests during it get our JSON 503, sockets are closed by phase.
    return503OnClosing: false,
    forceCloseConnections: false,
  });
  app.server.maxConnections = config.maxConnections;
  const connections = new ConnectionTracker(app.server);
  // JSON only: text/plain bodies get 415 instead of reaching handlers as strings.
  app.removeContentTypeParser('text/plain');

  if (config.ui) {
    registerPage(app, ROUTES.ui);
    app.get('/', { config: { access: 'public' } }, async (_req, reply) => reply.redirect(ROUTES.ui + '/'));
  }

  let state: HeedServer['state'] = 'loading';
  const onError = (e: Error) => app.log.error({ err: e }, 'serve: internal error');
  const pool = new WorkerPool({
    size: config.workers, threadsPerWorker: config.threadsPerWorker, loader: options.loader ?? DEFAULT_LOADER, taskModules: [...(options.taskModules ?? taskModuleUrls())],
    onIdle: () => scheduler.pump(), onError, batchTimeoutMs: config.timeoutMs,
  });
  const models = new ModelRegistry(options.models, pool);
  const scheduler = new Scheduler(pool, config, metrics, (m) => models.versionOf(m), onError);

  // Health and readiness answer while draining (readyz says 'draining'); every other request
  // that starts, or whose body completes, after the drain began gets 503 + Connection: close.
  const refuseWhileDraining = (req: FastifyRequest) => {
    const url = req.routeOptions.url;
    if (state === 'draining' && url !== ROUTES.health && url !== ROUTES.ready) throw overloaded('the server is shutting down; retry on another instance');
  };

  app.addHook('onRequest', async (req: FastifyRequest) => {
    refuseWhileDraining(req);
    const access = req.routeOptions.config?.access ?? 'public';
    if (access === 'public') return;
    const token = bearerToken(req.headers.authorization);
    if (access === 'admin') {
      if (adminKeys === null) throw forbidden('admin endpoints are disabled; set HEED_ADMIN_KEY to enable them');
      if (token === null || adminKeys.verify(token) === null) throw unauthorized('a valid admin key is required (Authorization: Bearer <key>)');
      return;
    }
    let id: string;
    if (config.insecureNoAuth) {
      id = `ip:${req.ip}`;
    } else {
      if (token === null) throw unauthorized('an API key is required (Authorization: Bearer <key>)');
      const keyId = keys.verify(token);
      if (keyId === null) throw unauthorized('the API key is not valid');
      id = `key:${keyId}`;
    }
    req.clientId = id;
    const wait = buckets.take(id);
    if (wait > 0) throw rateLimited(wait);
  });

  app.addHook('preHandler', async (req: FastifyRequest) => {
    connections.markHandling(req.raw.socket);
    refuseWhileDraining(req);
  });

  // While draining, every answer closes its connection, so keep-alive clients cannot hold
  // the server open after their last in-flight request.
  app.addHook('onSend', async (_req, reply) => {
    if (state === 'draining') reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const model = (req.params as { name?: string } | undefined)?.name ?? '';
    const labels = { model: models.get(model) === undefined ? '' : model, route, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.requestDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    // Messages are cut to MAX_MESSAGE_CHARS: a task's message may quote the input it rejects.
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).headers(err.headers).send({ error: { code: err.code, message: clip(err.message, MAX_MESSAGE_CHARS) } });
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own: bad JSON (400), body too large (413), unsupported media type (415).
      return reply.code(err.statusCode).send({ error: { code: err.code ?? 'bad_request', message: clip(err.message, MAX_MESSAGE_CHARS) } });
    }
    req.log.error({ err }, 'serve: internal error');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${loggablePath(req.url)}` } }));

  const route = (name: RouteName) => ({ config: { access: ROUTE_ACCESS[name] } });

  app.get(ROUTES.health, route('health'), async () => ({ status: 'ok' }));
  app.get(ROUTES.ready, route('ready'), async (_req, reply) => {
    if (state !== 'ready') return reply.code(503).send({ status: state });
    return { status: 'ready', models: models.names, backend: backendInfo().backend };
  });
  app.get(ROUTES.metrics, route('metrics'), async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get(ROUTES.openapi, route('openapi'), async () => openApiDocument());

  app.get(ROUTES.models, route('models'), async () => ({
    models: models.all().map((m) => ({ name: m.name, task: m.task, version: m.version, loadedAt: m.loadedAt, config: m.config })),
  }));

  app.post<{ Params: { name: string } }>(ROUTES.predict, route('predict'), async (req) => {
    const name = req.params.name;
    if (models.get(name) === undefined) throw notFound(`no model named '${name}'. Served models: ${models.names.join(', ')}`);
    const { inputs, options: predictOptions } = parsePredictBody(req.body, config);
    const predictions = await scheduler.submit(name, inputs, predictOptions);
    return { model: name, predictions };
  });

  app.get<{ Params: { name: string } }>(ROUTES.training, route('training'), async (req) => {
    const entry = models.get(req.params.name);
    if (entry === undefined) throw notFound(`no model named '${req.params.name}'. Served models: ${models.names.join(', ')}`);
    try {
      return { model: entry.name, ...(await readTrainingCurves(entry.dir)) };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      // The operator's file is wrong, not the request: log where, answer without server paths.
      req.log.error({ err: e }, 'serve: cannot read training curves');
      throw new HttpError(500, 'metrics_unreadable', `the training metrics of model '${entry.name}' cannot be read; see the server log`);
    }
  });

  app.post(ROUTES.reload, route('reload'), async (req) => {
    const body = (req.body ?? {}) as { model?: unknown };
    if (typeof body !== 'object' || (body.model !== undefined && typeof body.model !== 'string')) throw badRequest('the body must be {} or {"model": "<name>"}');
    const entries = await models.reload(body.model as string | undefined);
    return { reloaded: entries.map((e) => ({ name: e.name, version: e.version, loadedAt: e.loadedAt })) };
  });

  const ready = models.loadAll().then(() => {
    if (state === 'loading') state = 'ready';
    metrics.modelsReady.set(1);
  });
  ready.catch(() => undefined);

  let closing: Promise<void> | null = null;
  return {
    app, config, models, scheduler, metrics, ready,
    get state() { return state; },
    async listen() {
      return app.listen({ host: config.host, port: config.port });
    },
    async reload(model?: string) {
      await models.reload(model);
    },
    close() {
      closing ??= (async () => {
        state = 'draining';
        metrics.modelsReady.set(0);
        const stopped = app.close(); // no new connections
        // Sockets with no request (never active, idle keep-alive, headers still trickling in)
        // hold no work: close them now. Bodies still arriving get a moment to finish (their
        // request is then answered 503); requests being handled run to their end.
        connections.destroy(['idle']);
        await connections.untilNone('receiving', DRAIN_RECEIVE_GRACE_MS);
        connections.destroy(['idle', 'receiving']);
        await scheduler.drain(); // bounded by timeoutMs: a stuck forward pass is stopped
        await connections.untilNone('handling', DRAIN_SEND_GRACE_MS);
        // Whatever is left (a client not reading its response) is cut off.
        connections.destroy(['idle', 'receiving', 'handling']);
        await stopped;
        scheduler.close();
        await pool.close();
        metrics.close();
      })();
      return closing;
    },
  };
}
