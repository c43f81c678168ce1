/**
 * The file-system {@link EventStore}: one directory per worker holding an
 * atomically written `record.json`, an append-only `events.jsonl` (the truth)
 * and an index beside it (`events.index`, `events.marks`; see fs_log_index.ts).
 *
 * Start-up reads each worker's record and index and only the log's tail past
 * what the index covers, so its cost does not grow with the stored history;
 * a worker whose index is missing or cannot be believed is scanned in full
 * (and its index rewritten). Reads by seq start at the nearest mark.
 *
 * Group commit: appends are queued per worker and written once per tick — all
 * appends of a worker that arrive in the same tick (or while its previous
 * write is in flight) go out in one write, and each resolves only after that
 * write. Open log handles are an LRU cache so 10,000 workers do not hold
 * 10,000 descriptors.
 *
 * A failed write (ENOSPC, EIO, EROFS, EDQUOT, …) rejects every append of its
 * batch and every one queued behind it with 507 `store_unavailable`, and rolls
 * the worker's log back to its last complete write (the partial tail is
 * truncated before the next write), so no `seq` is skipped or reused: the next
 * append must carry the seq after the last one written. Nothing this module
 * throws or reports names a path.
 * @module
 */
import { join } from "node:path";
import { clearImmediate, setImmediate } from "node:timers";
import { z } from "zod";
import { concatBytes } from "../shared/bytes.ts";
import { ApiError, type Diagnostic, diagnostic, isWorkerId } from "../shared/mod.ts";
import type { WorkerEvent } from "../shared/mod.ts";
import type { EventStore, RestoredWorker, StoreOpenResult, WorkerRecord } from "./store.ts";
import { closedError, ioKind, mapLimit, syncDir, unavailable, wrap, writeAll } from "./fs_io.ts";
import {
  encodeAppend,
  type FsStoreHooks,
  newWorkerLog,
  readLog,
  recordWritten,
  restoreLog,
  saveLogIndex,
  type WorkerLog,
} from "./fs_worker_log.ts";

export { ioKind } from "./fs_io.ts";
export type { FsStoreHooks } from "./fs_worker_log.ts";

const RECORD_FILE = "record.json";
const RECORD_TMP = "record.json.tmp";
/**
 * The index is saved (before the write that crosses it is acknowledged) once this many lines
 * or bytes are past it, and at close: a crash leaves at most this much tail to scan.
 */
const INDEX_EVERY_LINES = 256;
const INDEX_EVERY_BYTES = 128 * 1024;
/** Workers restored at once, and indexes saved at once at close (well inside a 5 s stop). */
const PARALLEL = 8;
const PARALLEL_CLOSE = 32;

const WorkerRecordSchema = z.object({
  worker_id: z.string().refine(isWorkerId),
  profile: z.string(),
  display_name: z.string(),
  created_at: z.string(),
  request_id: z.string().optional(),
});

/** Options of an {@link FsStore}. */
export interface FsStoreOptions {
  /** Log files kept open for appending at once; least recently used are closed first. */
  maxOpenFiles?: number;
  hooks?: FsStoreHooks;
}

/** Default bound of the open-log cache. */
export const MAX_OPEN_FILES_DEFAULT = 128;

/** Durable {@link EventStore} under `dataDir`; see the module doc for the layout. */
export class FsStore implements EventStore {
  readonly kind = "fs";
  readonly #dataDir: string;
  readonly #workersDir: string;
  /** Where a deleted worker's folder is moved (atomically) before it is removed. */
  readonly #deletedDir: string;
  readonly #workers = new Map<string, WorkerLog>();
  readonly #creating = new Set<string>();
  /** Workers whose log handle is open, least recently used first. */
  readonly #open = new Map<string, WorkerLog>();
  readonly #maxOpen: number;
  readonly #hooks: FsStoreHooks;
  /** Workers with appends queued in this tick, written when the tick ends. */
  readonly #ready = new Set<WorkerLog>();
  #tick: ReturnType<typeof setImmediate> | undefined;
  /** The last write failure's kind (e.g. "ENOSPC"), cleared by the next successful write. */
  #writeError: string | undefined;
  #state: "new" | "open" | "closed" = "new";

  /** `dataDir` is created on {@link open} if missing. */
  constructor(dataDir: string, opts: FsStoreOptions = {}) {
    this.#dataDir = dataDir;
    this.#workersDir = join(dataDir, "workers");
    this.#deletedDir = join(dataDir, "deleted");
    this.#maxOpen = Math.max(1, opts.maxOpenFiles ?? MAX_OPEN_FILES_DEFAULT);
    this.#hooks = opts.hooks ?? {};
  }

  /** Whether writes work, as far as the store knows; the failure kind when not. */
  storeState(): { writable: boolean; reason?: string } {
    return this.#writeError ? { writable: false, reason: this.#writeError } : { writable: true };
  }

  /** Number of log files currently held open (bounded by `maxOpenFiles`). */
  get openFiles(): number {
    return this.#open.size;
  }

  /** Restores every worker, repairing a torn last line left by a crash mid-append. */
  async open(): Promise<StoreOpenResult> {
    if (this.#state !== "new") throw new ApiError("internal_error", "store was already opened");
    const diagnostics: Diagnostic[] = [];
    const ids: string[] = [];
    let ignored = 0;
    try {
      await Deno.mkdir(this.#workersDir, { recursive: true });
      // Leftovers of deletes cut short by a crash: already gone from the workers folder.
      await Deno.remove(this.#deletedDir, { recursive: true }).catch(() => {});
      for await (const entry of Deno.readDir(this.#workersDir)) {
        if (entry.isDirectory && isWorkerId(entry.name)) ids.push(entry.name);
        else if (!entry.isFile) ignored++;
      }
    } catch (e) {
      throw wrap("store open failed", e);
    }
    if (ignored > 0) {
      diagnostics.push(diagnostic(
        "store_entry_skipped",
        `ignored ${ignored} store entr${
          ignored === 1 ? "y" : "ies"
        } not named by a valid worker id`,
        "warning",
      ));
    }
    ids.sort(); // UUIDv7: creation order
    const results = await mapLimit(ids, PARALLEL, async (id) => {
      const found: Diagnostic[] = [];
      try {
        return { restored: await this.#restore(id, found), found };
      } catch (e) {
        const why = wrap(`worker ${id} skipped: restore failed`, e).message;
        return { restored: undefined, found: [...found, diagnostic("store_entry_skipped", why)] };
      }
    });
    const workers: RestoredWorker[] = [];
    for (const { restored, found } of results) {
      diagnostics.push(...found);
      if (restored) workers.push(restored);
    }
    await this.probe();
    this.#state = "open";
    return { workers, diagnostics };
  }

  /**
   * Finds out whether the folder takes writes (at start, so a start on a full
   * disk still serves and says so; then while writes fail). Never rejects.
   */
  async probe(): Promise<void> {
    const probe = join(this.#dataDir, ".write-probe");
    try {
      await Deno.writeFile(probe, new Uint8Array(512));
      this.#writeError = undefined;
    } catch (e) {
      this.#writeError = ioKind(e);
    } finally {
      await Deno.remove(probe).catch(() => {});
    }
  }

  /** Moves the worker's folder out of `workers/` in one rename, then removes it. */
  async deleteWorker(workerId: string): Promise<void> {
    this.#assertOpen();
    const id = validId(workerId);
    const w = this.#workers.get(id);
    if (!w) throw new ApiError("worker_not_found", `worker ${id} is not in the store`);
    this.#commit();
    await w.writing;
    this.#closeHandle(w);
    const gone = join(this.#deletedDir, id);
    try {
      await Deno.mkdir(this.#deletedDir, { recursive: true });
      await Deno.rename(w.dir, gone);
      await syncDir(this.#workersDir);
    } catch (e) {
      this.#writeError = ioKind(e);
      throw unavailable(`the store could not delete worker ${id}`, e);
    }
    this.#workers.delete(id);
    await Deno.remove(gone, { recursive: true }).catch(() => {});
  }

  /** Creates the worker's directory, empty log and record (atomically, fsynced). */
  async createWorker(record: WorkerRecord): Promise<void> {
    this.#assertOpen();
    const id = validId(record.worker_id);
    const parsed = WorkerRecordSchema.safeParse(record);
    if (!parsed.success) throw new ApiError("internal_error", `invalid record for worker ${id}`);
    if (this.#workers.has(id) || this.#creating.has(id)) {
      throw new ApiError("internal_error", `worker ${id} already exists`);
    }
    this.#creating.add(id);
    const w = newWorkerLog(id, join(this.#workersDir, id));
    let madeDir = false;
    try {
      await Deno.mkdir(w.dir);
      madeDir = true;
      (await Deno.open(w.eventsPath, { create: true, append: true })).close();
      const tmp = join(w.dir, RECORD_TMP);
      const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
      try {
        await writeAll(f, new TextEncoder().encode(JSON.stringify(parsed.data, null, 2) + "\n"));
        await f.sync();
      } finally {
        f.close();
      }
      await Deno.rename(tmp, join(w.dir, RECORD_FILE));
      await syncDir(w.dir);
      await syncDir(this.#workersDir);
    } catch (e) {
      if (madeDir) await Deno.remove(w.dir, { recursive: true }).catch(() => {});
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new ApiError("internal_error", `worker ${id} already exists`);
      }
      this.#writeError = ioKind(e);
      throw unavailable(`the store could not create worker ${id}`, e);
    } finally {
      this.#creating.delete(id);
    }
    if (this.#state !== "open") throw closedError();
    w.indexedEnd = 0; // an empty log needs no index
    w.marksUntrusted = false; // and there is no marks file yet
    this.#workers.set(id, w);
  }

  /**
   * Queues `events` for the worker's log. They are written with everything else the worker
   * appends in the same tick (group commit), and the promise resolves once that write is
   * done (no fsync); calls for one worker land and resolve in call order. The first event
   * must carry the seq after the last one queued (or, after a failed write, the last one
   * written): a seq is never skipped.
   */
  append(workerId: string, events: WorkerEvent[]): Promise<void> {
    try {
      this.#assertOpen();
      const w = this.#worker(workerId);
      const pending = encodeAppend(w, events);
      w.queuedSeq += events.length;
      const done = new Promise<void>((resolve, reject) => {
        w.queue.push({ ...pending, resolve, reject });
      });
      if (!w.writing) {
        // A drain in flight takes this with its next write; otherwise the tick's end does.
        this.#ready.add(w);
        this.#tick ??= setImmediate(() => {
          this.#tick = undefined;
          this.#commit();
        });
      }
      return done;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Events with `seq > after`, at most `limit`, read from the nearest mark on. */
  async read(workerId: string, after: number, limit: number): Promise<WorkerEvent[]> {
    this.#assertOpen();
    const w = this.#worker(workerId);
    try {
      return await readLog(w, after, limit > 0 ? Math.floor(limit) : 0, this.#hooks);
    } catch (e) {
      // Also covers a log changed behind the store's back (parse errors quote content).
      throw wrap(`store read failed for worker ${w.id}`, e);
    }
  }

  /** Waits for queued appends, then fsyncs every open log. */
  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#syncAll();
  }

  /** Waits for queued appends, fsyncs and closes every log, saves lagging indexes. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    if (!wasOpen) return;
    if (this.#tick) clearImmediate(this.#tick);
    this.#tick = undefined;
    try {
      await this.#syncAll();
    } finally {
      for (const w of this.#workers.values()) this.#closeHandle(w);
    }
    const lagging = [...this.#workers.values()].filter((w) => w.indexedEnd !== w.writtenEnd);
    await mapLimit(lagging, PARALLEL_CLOSE, (w) => saveLogIndex(w));
  }

  /** Starts the drain of every worker with appends queued in this tick. */
  #commit(): void {
    for (const w of this.#ready) w.writing ??= this.#drain(w);
    this.#ready.clear();
  }

  async #syncAll(): Promise<void> {
    this.#commit();
    const workers = [...this.#workers.values()];
    await Promise.all(workers.map((w) => w.writing));
    await Promise.all(workers.map(async (w) => {
      if (!w.file) return;
      try {
        await w.file.sync();
      } catch (e) {
        throw unavailable(`store flush failed for worker ${w.id}`, e);
      }
    }));
  }

  /** The worker's append handle, opened on demand; closes the least recently used beyond the cap. */
  async #handle(w: WorkerLog): Promise<Deno.FsFile> {
    this.#open.delete(w.id);
    this.#open.set(w.id, w);
    if (!w.file) {
      w.file = await Deno.open(w.eventsPath, { create: true, append: true });
    }
    this.#evict(w);
    return w.file;
  }

  /**
   * Closes least recently used handles beyond the cap. A handle a drain is
   * using stays open until its drain ends (then this runs again), so at rest
   * at most `maxOpenFiles` logs are open.
   */
  #evict(keep?: WorkerLog): void {
    for (const [id, o] of this.#open) {
      if (this.#open.size <= this.#maxOpen) break;
      if (o === keep || o.writing) continue;
      o.file?.close();
      o.file = undefined;
      this.#open.delete(id);
    }
  }

  #closeHandle(w: WorkerLog): void {
    try {
      w.file?.close();
    } catch { /* already closed */ }
    w.file = undefined;
    this.#open.delete(w.id);
  }

  /** Writes what is queued, one group commit at a time, until the queue is empty. */
  async #drain(w: WorkerLog): Promise<void> {
    while (w.queue.length > 0) await this.#writeBatch(w);
    w.writing = undefined;
    this.#evict();
  }

  /** One group commit: everything queued, in one write, then every append of it resolved. */
  async #writeBatch(w: WorkerLog): Promise<void> {
    const batch = w.queue.splice(0);
    const bytes = concatBytes(batch.map((p) => p.bytes));
    try {
      if (w.needsTruncate) {
        // Cut the partial tail of the failed write so the log stays whole lines.
        this.#closeHandle(w);
        await Deno.truncate(w.eventsPath, w.writtenEnd);
        w.needsTruncate = false;
      }
      const file = await this.#handle(w);
      this.#hooks.onLogWrite?.(bytes.length);
      await writeAll(file, bytes);
    } catch (e) {
      // Refuse this batch and everything queued behind it, and roll the queue
      // back to the last complete write: the caller resumes from that seq.
      w.needsTruncate = true;
      this.#closeHandle(w);
      this.#writeError = ioKind(e);
      w.queuedSeq = w.summary.last_seq;
      const err = unavailable(`the store could not write worker ${w.id}'s log`, e);
      for (const p of [...batch, ...w.queue.splice(0)]) p.reject(err);
      return;
    }
    this.#writeError = undefined;
    recordWritten(w, batch);
    if (
      w.lines - w.indexedLines >= INDEX_EVERY_LINES ||
      w.writtenEnd - Math.max(0, w.indexedEnd) >= INDEX_EVERY_BYTES
    ) {
      // Before the acknowledgement: once a caller sees its events, no write of this is pending.
      await saveLogIndex(w);
    }
    for (const p of batch) p.resolve();
  }

  /**
   * Loads one worker dir: its record, its index if it matches the log, and the log's
   * tail past it (all of it without an index). Undefined (with a diagnostic) when the
   * worker has no valid record.
   */
  async #restore(id: string, diagnostics: Diagnostic[]): Promise<RestoredWorker | undefined> {
    const w = newWorkerLog(id, join(this.#workersDir, id));
    let record: WorkerRecord | undefined;
    try {
      const raw = JSON.parse(await Deno.readTextFile(join(w.dir, RECORD_FILE)));
      const parsed = WorkerRecordSchema.safeParse(raw);
      if (parsed.success && parsed.data.worker_id === id) record = parsed.data;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof SyntaxError)) throw e;
    }
    if (!record) {
      diagnostics.push(
        diagnostic("store_entry_skipped", `worker ${id} skipped: no valid record`, "warning"),
      );
      return undefined;
    }
    const restored = await restoreLog(w, this.#hooks);
    diagnostics.push(...restored.diagnostics);
    if (restored.writeError) this.#writeError = restored.writeError;
    // A full scan or a crash's tail: index it now, so the next start reads neither again.
    else if (w.indexedEnd !== w.writtenEnd) await saveLogIndex(w);
    this.#workers.set(id, w);
    return { record, summary: { ...w.summary } };
  }

  #assertOpen(): void {
    if (this.#state === "closed") throw closedError();
    if (this.#state !== "open") throw new ApiError("internal_error", "store is not open");
  }

  #worker(workerId: string): WorkerLog {
    const w = this.#workers.get(validId(workerId));
    if (!w) throw new ApiError("worker_not_found", `worker ${workerId} not found`);
    return w;
  }
}

/** The id, if it may become a path segment; never echoes a rejected id. */
function validId(id: unknown): string {
  if (!isWorkerId(id)) throw new ApiError("invalid_id", "invalid worker id");
  return id;
}
