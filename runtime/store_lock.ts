/**
 * One writer per store (DESIGN §11): an exclusive OS lock (`flock`) on a file
 * in the data folder. The kernel drops the lock when the process dies, so a
 * `kill -9` never leaves a stale lock behind (no pid files).
 * @module
 */
import { join } from "node:path";

/** The lock file's name inside a data folder. */
export const LOCK_FILE = ".lock";

/** A held store lock; release it (or exit) to let another process open the store. */
export interface StoreLock {
  release(): void;
}

/** Why a lock could not be taken: another process holds it, or the folder is unusable. */
export class StoreLockError extends Error {
  readonly held: boolean;
  constructor(message: string, held: boolean) {
    super(message);
    this.name = "StoreLockError";
    this.held = held;
  }
}

/**
 * Takes the data folder's lock without waiting. Creates the folder and an
 * empty lock file if missing; never writes anything else, so a refused second
 * process has touched nothing of the store.
 */
export async function lockStore(dataDir: string): Promise<StoreLock> {
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    // No truncate and no content: opening an existing lock file changes nothing.
    file = await Deno.open(join(dataDir, LOCK_FILE), { read: true, write: true, create: true });
  } catch (e) {
    throw new StoreLockError(
      `cannot open the data folder's lock file (${e instanceof Error ? e.name : "error"})`,
      false,
    );
  }
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } catch (e) {
    file.close();
    throw new StoreLockError(
      `cannot lock the data folder (${e instanceof Error ? e.name : "error"})`,
      false,
    );
  }
  if (!locked) {
    file.close();
    throw new StoreLockError(
      "the data folder is in use by another runtime process (one writer per store); " +
        "stop that process or pick another --data-dir",
      true,
    );
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        file.unlockSync();
      } catch { /* closing releases it too */ }
      file.close();
    },
  };
}
