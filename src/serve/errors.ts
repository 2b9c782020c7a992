/**
 * HTTP errors with a status code, a stable machine code and a message safe to show the
 * client. The server's error handler turns these (and Fastify's own 4xx errors) into
 * `{ error: { code, message } }`; anything else becomes 500 "internal error" and is logged,
 * so no stack trace or internal detail ever reaches a response.
 */
import {
  AutogradError, BackendError, CheckpointError, ConfigError, DTypeError, HeedError, IndexError, NotImplementedError,
  NumericalError, ShapeError, ValueError,
} from '../errors.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const unauthorized = (message: string) =>
  new HttpError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer realm="heed"' });
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
export const tooLarge = (message: string) => new HttpError(413, 'payload_too_large', message);
export const unprocessable = (message: string) => new HttpError(422, 'invalid_input', message);
export const rateLimited = (retryAfterS: number) =>
  new HttpError(429, 'rate_limited', `rate limit exceeded; retry after ${retryAfterS} s`, { 'retry-after': String(retryAfterS) });
export const overloaded = (message: string, retryAfterS = 1) =>
  new HttpError(503, 'overloaded', message, { 'retry-after': String(retryAfterS) });
export const timedOut = (ms: number) => new HttpError(504, 'timeout', `the prediction did not finish within ${ms} ms`);

/**
 * An error raised inside a worker, as it crosses the thread boundary: its class name, its
 * machine code (HeedError's `code`, or a Node errno code) and its message. Stacks stay behind:
 * they name worker internals and are logged nowhere a client sees.
 */
export interface WorkerErrorInfo { name: string; code?: string; message: string }

/** The heed error classes a worker error is rebuilt as, by class name. */
const HEED_ERROR_CLASSES: ReadonlyMap<string, new (message: string) => HeedError> = new Map<string, new (message: string) => HeedError>([
  ShapeError, DTypeError, IndexError, ValueError, AutogradError, ConfigError, CheckpointError, BackendError,
  NotImplementedError, NumericalError, HeedError,
].map((cls) => [cls.name, cls]));

/** What a worker sends back for a thrown value. */
export function workerErrorInfo(e: unknown): WorkerErrorInfo {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? { name: e.name, code, message: e.message } : { name: e.name, message: e.message };
}

/**
 * The error a worker threw, rebuilt on this side with its class: a CheckpointError in the
 * worker is a CheckpointError here (so `heed serve` prints its one-line message, and callers
 * can catch by class). A heed error of a class this build does not know keeps its name and
 * code on a HeedError; anything else is a plain Error with the original name and code.
 */
export function rebuildWorkerError(info: WorkerErrorInfo): Error {
  const cls = HEED_ERROR_CLASSES.get(info.name);
  if (cls !== undefined) return new cls(info.message);
  const e: Error = info.code?.startsWith('HEED_') === true ? new HeedError(info.message) : new Error(info.message);
  e.name = info.name;
  if (info.code !== undefined) Object.defineProperty(e, 'code', { value: info.code, enumerable: true });
  return e;
}

/** Names of heed errors that mean "this input is wrong" (→ 422), as thrown by validateInput/predict. */
export const INPUT_ERROR_NAMES: ReadonlySet<string> = new Set(['ValueError', 'ShapeError', 'DTypeError', 'IndexError']);
