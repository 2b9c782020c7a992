/**
 * The thread pool (native/threadpool.cpp) runs every task of a job exactly once, with jobs of 1–40
 * tasks back to back on 2 and 3 threads, while the workers spin, sleep (a spin budget of 0 and
 * 3 µs sends them to sleep between jobs) and wake. The probe is bench/pool-wake.cpp's --stress mode,
 * compiled here against the pool's source with HEED_POOL_RACE_PROBE, which widens the race windows
 * between publishing a job and claiming its tasks. On the pool before the fix it failed every run:
 * a worker still in a finished job read the next job's task count before the next job's claim word
 * was published, and ran a task of the next job that the job then handed out again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the pool runs every task of every job exactly once, spinning, sleeping and waking', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-pool-stress-'));
  try {
    const bin = join(dir, 'pool-stress');
    execFileSync('g++', ['-O2', '-std=c++17', `-I${join(root, 'native')}`, join(root, 'bench', 'pool-wake.cpp'), join(root, 'native', 'threadpool.cpp'), '-DHEED_POOL_RACE_PROBE', '-o', bin, '-lpthread']);
    for (const spinUs of ['0', '3']) {
      for (let run = 0; run < 1; run++) {
        const out = execFileSync(bin, ['--stress', '60000'], { encoding: 'utf8', env: { ...process.env, HEED_POOL_SPIN_US: spinUs } });
        assert.equal(out.trim(), 'ok', `HEED_POOL_SPIN_US=${spinUs}, run ${run}: ${out.trim()}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
