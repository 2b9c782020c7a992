/**
 * Writing a file so that it is on disk before anything refers to it: create it (never over an
 * existing one), write, fsync, close. Checkpoint saves write every file this way and only then
 * rename the directory into place, so a power cut cannot publish a half-written file.
 */
import { open } from 'node:fs/promises';

/** Creates `path` (it must not exist), writes `data` and flushes it to disk. */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
