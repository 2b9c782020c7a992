/**
 * Typed errors. Every message names the op and argument, what was received,
 * what was expected and, when there is one, the fix:
 *
 *   matmul: input b has shape [3, 5], expected its dim -2 to equal a's last dim 4
 *   (a has shape [2, 4]). Fix: transpose b or check the layer sizes.
 *
 * Catch by class (`err instanceof ShapeError`) or by `err.code`.
 */

export class HeedError extends Error {
  readonly code: string = 'HEED_ERROR';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor has the wrong number of dimensions or the wrong sizes. */
export class ShapeError extends HeedError {
  override readonly code = 'HEED_SHAPE';
}

/** A tensor has the wrong element type (for example float targets for crossEntropy). */
export class DTypeError extends HeedError {
  override readonly code = 'HEED_DTYPE';
}

/** An index is out of range or not an integer. */
export class IndexError extends HeedError {
  override readonly code = 'HEED_INDEX';
}

/** A scalar argument or option is invalid (negative probability, unknown option, ...). */
export class ValueError extends HeedError {
  override readonly code: string = 'HEED_VALUE';
}

/** Autograd was asked for something it cannot do (backward of a non-scalar without a gradient, ...). */
export class AutogradError extends HeedError {
  override readonly code = 'HEED_AUTOGRAD';
}

/** A model or training config has an unknown key, a wrong type or inconsistent values. */
export class ConfigError extends HeedError {
  override readonly code = 'HEED_CONFIG';
}

/** A checkpoint directory or file is missing, corrupt or does not match the model. */
export class CheckpointError extends HeedError {
  override readonly code = 'HEED_CHECKPOINT';
}

/** A backend or kernel is unavailable or was called with bad arguments. */
export class BackendError extends HeedError {
  override readonly code = 'HEED_BACKEND';
}

/** A feature that is declared but not implemented. Never returns a plausible value instead. */
export class NotImplementedError extends HeedError {
  override readonly code = 'HEED_NOT_IMPLEMENTED';
}

/** Training produced a non-finite loss or gradient. */
export class NumericalError extends HeedError {
  override readonly code = 'HEED_NUMERICAL';
}

/**
 * A model holds a module (or a module option) that has no ONNX mapping. `moduleType` names the
 * class or feature, `modulePath` where it sits in the model's module tree ('' for the model itself).
 */
export class OnnxExportError extends HeedError {
  override readonly code = 'HEED_ONNX_EXPORT';
  constructor(message: string, readonly moduleType: string, readonly modulePath: string) {
    super(message);
  }
}

/**
 * A data file is malformed: missing column, bad CoNLL line, non-UTF-8 bytes, empty file. The message is
 * one line that starts `file:line:column:` (1-based, as editors and compilers print them).
 */
export class DataError extends ValueError {
  override readonly code: string = 'HEED_DATA';
  constructor(readonly file: string, readonly line: number, readonly column: number, message: string) {
    super(`${file}:${line}:${column}: ${message}`);
  }
}

/** Most dimensions fmtShape prints; a longer shape shows its head and tail. */
const MAX_SHAPE_DIMS = 12;

/**
 * Formats a shape the way messages print it: `[2, 4, 7]`. A shape read from a file or a request
 * can have any length, so one past MAX_SHAPE_DIMS prints as `[1, 2, 3, 4, 5, 6, …, 9, 9, 9] (200000 dims)`
 * instead of a line of megabytes.
 */
export function fmtShape(shape: readonly number[]): string {
  if (shape.length <= MAX_SHAPE_DIMS) return `[${shape.join(', ')}]`;
  const head = shape.slice(0, MAX_SHAPE_DIMS / 2);
  const tail = shape.slice(shape.length - 3);
  return `[${head.join(', ')}, …, ${tail.join(', ')}] (${shape.length} dims)`;
}
