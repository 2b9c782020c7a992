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

/**
 * As writeFileDurable, for data given in pieces (a file's header, then each tensor's bytes viewed in
 * place): the pieces are written one after the other, never joined into one buffer.
 */
export async function writeChunksDurable(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    for (const c of chunks) {
      for (let done = 0; done < c.byteLength; ) {
        const { bytesWritten } = await fh.write(c, done, c.byteLength - done);
        done += bytesWritten;
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
