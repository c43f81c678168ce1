/**
 * The ConnectionStore: runtime connections persisted in
 * `.yoi/workspace-backend.local.toml` (DESIGN §7). Every mutation is a
 * read-modify-write under an in-process mutex and a cross-process file lock,
 * checked by re-parsing, and written atomically (temp file, fsync, rename).
 * @module
 */
import { basename, dirname } from "node:path";
import { ApiError, type Diagnostic } from "../../shared/mod.ts";
import { configFileName, parseBackendConfig, type RemoteConfig } from "./config.ts";
import { addConnection, editConnection, removeConnection } from "./config_edit.ts";

/** What the file holds now, or why it cannot be used. */
export type ConfigSnapshot =
  | { ok: true; exists: boolean; remotes: RemoteConfig[]; diagnostics: Diagnostic[] }
  | { ok: false; exists: true; remotes: []; diagnostics: Diagnostic[] };

export class ConnectionStore {
  readonly #path: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  /** Reads the current file (no lock: a rename-based writer never exposes a partial file). */
  async snapshot(): Promise<ConfigSnapshot> {
    const text = await this.#readText();
    if (text === null) return { ok: true, exists: false, remotes: [], diagnostics: [] };
    const cfg = parseBackendConfig(text, configFileName(this.#path));
    if (!cfg.parsed) return { ok: false, exists: true, remotes: [], diagnostics: cfg.diagnostics };
    return { ok: true, exists: true, remotes: cfg.remotes, diagnostics: cfg.diagnostics };
  }

  /** Adds an entry; `duplicate_runtime_id` when the id is taken. */
  add(entry: RemoteConfig): Promise<void> {
    return this.#mutate((text, file) => addConnection(text, entry, file));
  }

  /**
   * Replaces the entry with `entry.id` (only its changed key values change);
   * `runtime_not_found` when there is none.
   */
  edit(entry: RemoteConfig): Promise<void> {
    return this.#mutate((text, file) => editConnection(text, entry, file));
  }

  /** Removes an entry; `runtime_not_found` when there is none. */
  remove(id: string): Promise<void> {
    return this.#mutate((text, file) => removeConnection(text, id, file));
  }

  /** Serialises mutations in this process, then across processes with an exclusive flock. */
  #mutate(edit: (text: string, file: string) => string): Promise<void> {
    const run = this.#chain.then(() => this.#locked(edit));
    this.#chain = run.catch(() => {});
    return run;
  }

  async #locked(edit: (text: string, file: string) => string): Promise<void> {
    await Deno.mkdir(dirname(this.#path), { recursive: true });
    const lock = await Deno.open(`${this.#path}.lock`, { create: true, write: true, mode: 0o600 });
    try {
      await lock.lock(true);
      // Parsed, edited at the entry's offsets and checked against the intended config: a
      // refusal throws before anything is written.
      const next = edit((await this.#readText()) ?? "", configFileName(this.#path));
      await this.#removeStaleTemps();
      await this.#writeAtomically(next);
    } finally {
      await lock.unlock().catch(() => {});
      lock.close();
    }
  }

  /** Temp files a crashed writer left behind; safe to remove while holding the lock. */
  async #removeStaleTemps(): Promise<void> {
    const dir = dirname(this.#path);
    const prefix = `${basename(this.#path)}.tmp-`;
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && e.name.startsWith(prefix)) {
          await Deno.remove(`${dir}/${e.name}`).catch(() => {});
        }
      }
    } catch { /* best effort */ }
  }

  async #readText(): Promise<string | null> {
    try {
      return await Deno.readTextFile(this.#path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw new ApiError("internal_error", "The config file could not be read.");
    }
  }

  async #writeAtomically(text: string): Promise<void> {
    const tmp = `${this.#path}.tmp-${crypto.randomUUID()}`;
    try {
      let mode = 0o600;
      try {
        mode = (await Deno.stat(this.#path)).mode ?? mode;
      } catch { /* new file */ }
      const f = await Deno.open(tmp, { createNew: true, write: true, mode: mode & 0o777 });
      try {
        const bytes = new TextEncoder().encode(text);
        for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
        await f.sync();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, this.#path);
      const dir = await Deno.open(dirname(this.#path), { read: true });
      try {
        await dir.sync();
      } catch {
        /* some filesystems cannot sync directories */
      } finally {
        dir.close();
      }
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      if (e instanceof ApiError) throw e;
      throw new ApiError(
        "internal_error",
        "The config file could not be written; it is unchanged.",
      );
    }
  }
}
