/**
 * What the tests need from the install, and the one rule for skipping when it is missing.
 *
 * A test may skip (saying why) only when the thing it needs is outside the project's control on
 * this machine. The native addon is the project's own: HEED_REQUIRE_NATIVE=1 (exported by .ci/run)
 * makes it required, and then the tests that need it run and fail instead of skipping.
 * scripts/run-tests.mjs lists every skip with its reason and fails the run on any skip under CI=true.
 */
import { backendInfo } from '../src/index.ts';

/** HEED_REQUIRE_NATIVE=1: a missing native addon is an error, not a reason to skip. */
export const nativeRequired = process.env.HEED_REQUIRE_NATIVE === '1';

/** Why the native addon is unavailable, or undefined when it loaded. */
export const nativeError: string | undefined = backendInfo().nativeAvailable
  ? undefined
  : `the native addon is not built or does not load (${backendInfo().nativeError ?? 'no reason given'}). Fix: npm run build:native (needs a C++17 compiler and python3)`;

/**
 * The `skip` option for a test that needs the native addon: false when the addon loaded or is
 * required (the test then runs, and fails if the addon is missing), else the reason.
 */
export const nativeSkip: string | false = nativeError !== undefined && !nativeRequired ? nativeError : false;

/** The failure message for a required addon that did not load. */
export function nativeRequiredMessage(): string {
  return `HEED_REQUIRE_NATIVE=1, but ${nativeError}.`;
}
