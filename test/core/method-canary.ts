/**
 * Not a test: a module that calls Tensor methods, compiled with src/ by test/api/package-build.ts
 * so test/core/methods.test.ts can check that its method-call finder finds calls at all.
 */
import { tensor } from '../../src/tensor/creation.js';
import '../../src/ops/index.js';

export const canary = tensor([[1, 2], [3, 4]]).reshape([4]).sum().item();
