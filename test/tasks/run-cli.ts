/** Runs the `heed` CLI in-process and returns its exit code and everything it printed (console.log and console.error). */
import { main } from '../../src/cli/main.ts';

export async function heed(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { code: await main(args), out: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = err;
  }
}
