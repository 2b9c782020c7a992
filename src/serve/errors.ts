/**
 * HTTP errors with a status code, a stable machine code and a message safe to show the
 * client. The server's error handler turns these (and Fastify's own 4xx errors) into
 * `{ error: { code, message } }`; anything else becomes 500 "internal error" and is logged,
 * so no stack trace or internal detail ever reaches a response.
 */

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

/** An error raised inside a worker, carried back by name and message only. */
export interface WorkerErrorInfo { name: string; message: string }

/** Names of heed errors that mean "this input is wrong" (→ 422), as thrown by validateInput/predict. */
export const INPUT_ERROR_NAMES: ReadonlySet<string> = new Set(['ValueError', 'ShapeError', 'DTypeError', 'IndexError']);
