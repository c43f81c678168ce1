/**
 * The file-system {@link EventStore}: one directory per worker holding an
 * atomically written `record.json` and an append-only `events.jsonl`.
 *
 * Appends are coalesced per worker into single writes (one append queue per
 * worker); open log handles are an LRU cache so 10,000 workers do not hold
 * 10,000 descriptors; reads use an in-memory byte-offset index so a page near
 * the end of a large log reads only that page's bytes from disk.
 *
 * A failed write (ENOSPC, EIO, EROFS, EDQUOT, …) rejects that append and every
 * one queued behind it with 507 `store_unavailable`, and rolls the worker's log
 * back to its last complete write (the partial tail is truncated before the
 * next write), so no `seq` is skipped or reused: the next append must carry
 * the seq after the last one written. Nothing this module throws or reports
 * names a path.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import {
  ApiError,
  type Diagnostic,
  diagnostic,
  isWorkerId,
  WorkerEventSchema,
} from "../shared/mod.ts";
import type { WorkerEvent } from "../shared/mod.ts";
import type { EventStore, RestoredWorker, StoreOpenResult, WorkerRecord } from "./store.ts";

const RECORD_FILE = "record.json";
const RECORD_TMP = "record.json.tmp";
const EVENTS_FILE = "events.jsonl";
const NEWLINE = 0x0a;

const WorkerRecordSchema = z.object({
  worker_id: z.string().refine(isWorkerId),
  profile: z.string(),
  display_name: z.string(),
  created_at: z.string(),
  request_id: z.string().optional(),
});

/** An `append` call waiting for its bytes to reach the OS. */
interface PendingAppend {
  bytes: Uint8Array;
  /** Index entries to publish once the bytes are written. */
  seqs: number[];
  starts: number[];
  ends: number[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Per-worker state: paths, the append handle, the write queue and the read index. */
interface WorkerState {
  id: string;
  dir: string;
  eventsPath: string;
  /** Open append handle, while in the LRU cache of open logs. */
  file?: Deno.FsFile;
  /** Per written event: its seq and the byte range of its line (without "\n"). */
  seqs: number[];
  starts: number[];
  ends: number[];
  /** Byte length of the log once every queued write has landed. */
  queuedEnd: number;
  /** Highest seq accepted by `append` (queued or written). */
  queuedSeq: number;
  queue: PendingAppend[];
  /** The running drain loop, while one is in flight; it never rejects. */
  writing?: Promise<void>;
  /** Byte length of the log's complete, indexed writes. */
  writtenEnd: number;
  /** Set after a failed write: bytes past `writtenEnd` are cut before the next write. */
  needsTruncate: boolean;
}

/** Options of an {@link FsStore}. */
export interface FsStoreOptions {
  /** Log files kept open for appending at once; least recently used are closed first. */
  maxOpenFiles?: number;
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
  readonly #workers = new Map<string, WorkerState>();
  readonly #creating = new Set<string>();
  /** Workers whose log handle is open, least recently used first. */
  readonly #open = new Map<string, WorkerState>();
  readonly #maxOpen: number;
  /** The last write failure's kind (e.g. "ENOSPC"), cleared by the next successful write. */
  #writeError: string | undefined;
  #state: "new" | "open" | "closed" = "new";

  /** `dataDir` is created on {@link open} if missing. */
  constructor(dataDir: string, opts: FsStoreOptions = {}) {
    this.#dataDir = dataDir;
    this.#workersDir = join(dataDir, "workers");
    this.#deletedDir = join(dataDir, "deleted");
    this.#maxOpen = Math.max(1, opts.maxOpenFiles ?? MAX_OPEN_FILES_DEFAULT);
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
    const workers: RestoredWorker[] = [];
    for (const id of ids) {
      try {
        const restored = await this.#restore(id, diagnostics);
        if (restored) workers.push(restored);
      } catch (e) {
        diagnostics.push(
          diagnostic(
            "store_entry_skipped",
            wrap(`worker ${id} skipped: restore failed`, e).message,
          ),
        );
      }
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
    const w = newWorkerState(id, join(this.#workersDir, id));
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
    this.#workers.set(id, w);
  }

  /**
   * Queues `events` for the worker's log. Resolves once the bytes are handed to
   * the OS (no fsync); calls for one worker land and resolve in call order.
   * The first event must carry the seq after the last one queued (or, after a
   * failed write, the last one written): a seq is never skipped.
   */
  append(workerId: string, events: WorkerEvent[]): Promise<void> {
    try {
      this.#assertOpen();
      const w = this.#worker(workerId);
      const enc = new TextEncoder();
      const pending: Omit<PendingAppend, "resolve" | "reject"> = {
        bytes: new Uint8Array(),
        seqs: [],
        starts: [],
        ends: [],
      };
      let text = "";
      let seq = w.queuedSeq;
      for (const ev of events) {
        if (ev.worker_id !== w.id || ev.seq !== seq + 1) {
          // Also an append queued behind a failed write, carrying seqs that were rolled back.
          throw new ApiError(
            "internal_error",
            `event out of sequence for worker ${w.id} (resume from the last written seq)`,
          );
        }
        seq = ev.seq;
        text += JSON.stringify(ev) + "\n";
        pending.seqs.push(ev.seq);
      }
      pending.bytes = enc.encode(text);
      // Line offsets: walk the encoded bytes so multi-byte characters count right.
      let pos = 0;
      for (let i = 0; i < pending.seqs.length; i++) {
        const nl = pending.bytes.indexOf(NEWLINE, pos);
        pending.starts.push(w.queuedEnd + pos);
        pending.ends.push(w.queuedEnd + nl);
        pos = nl + 1;
      }
      w.queuedSeq = seq;
      w.queuedEnd += pending.bytes.length;
      const done = new Promise<void>((resolve, reject) => {
        w.queue.push({ ...pending, resolve, reject });
      });
      w.writing ??= this.#drain(w);
      return done;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Events with `seq > after`, at most `limit`, reading only their byte range. */
  async read(workerId: string, after: number, limit: number): Promise<WorkerEvent[]> {
    this.#assertOpen();
    const w = this.#worker(workerId);
    // Snapshot: the index only grows, and only with bytes already written.
    const n = w.seqs.length;
    const first = upperBound(w.seqs, n, after);
    const last = Math.min(n, first + (limit > 0 ? Math.floor(limit) : 0));
    if (first >= last) return [];
    const base = w.starts[first];
    try {
      const bytes = await readRange(w.eventsPath, base, w.ends[last - 1] - base);
      const dec = new TextDecoder();
      const out: WorkerEvent[] = [];
      for (let i = first; i < last; i++) {
        out.push(JSON.parse(dec.decode(bytes.subarray(w.starts[i] - base, w.ends[i] - base))));
      }
      return out;
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

  /** Waits for queued appends, fsyncs and closes every log; later calls throw. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    if (!wasOpen) return;
    try {
      await this.#syncAll();
    } finally {
      for (const w of this.#workers.values()) this.#closeHandle(w);
    }
  }

  async #syncAll(): Promise<void> {
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
  async #handle(w: WorkerState): Promise<Deno.FsFile> {
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
  #evict(keep?: WorkerState): void {
    for (const [id, o] of this.#open) {
      if (this.#open.size <= this.#maxOpen) break;
      if (o === keep || o.writing) continue;
      o.file?.close();
      o.file = undefined;
      this.#open.delete(id);
    }
  }

  #closeHandle(w: WorkerState): void {
    try {
      w.file?.close();
    } catch { /* already closed */ }
    w.file = undefined;
    this.#open.delete(w.id);
  }

  /** Writes queued appends, batching everything queued while a write is in flight. */
  async #drain(w: WorkerState): Promise<void> {
    while (w.queue.length > 0) {
      const batch = w.queue.splice(0);
      const bytes = concat(batch.map((p) => p.bytes));
      try {
        if (w.needsTruncate) {
          // Cut the partial tail of the failed write so the log stays whole lines.
          this.#closeHandle(w);
          await Deno.truncate(w.eventsPath, w.writtenEnd);
          w.needsTruncate = false;
        }
        await writeAll(await this.#handle(w), bytes);
      } catch (e) {
        // Refuse this batch and everything queued behind it, and roll the queue
        // back to the last complete write: the caller resumes from that seq.
        w.needsTruncate = true;
        this.#closeHandle(w);
        this.#writeError = ioKind(e);
        w.queuedSeq = w.seqs.length > 0 ? w.seqs[w.seqs.length - 1] : 0;
        w.queuedEnd = w.writtenEnd;
        const err = unavailable(`the store could not write worker ${w.id}'s log`, e);
        for (const p of [...batch, ...w.queue.splice(0)]) p.reject(err);
        break;
      }
      w.writtenEnd += bytes.length;
      this.#writeError = undefined;
      for (const p of batch) {
        for (let i = 0; i < p.seqs.length; i++) {
          w.seqs.push(p.seqs[i]);
          w.starts.push(p.starts[i]);
          w.ends.push(p.ends[i]);
        }
        p.resolve();
      }
    }
    w.writing = undefined;
    this.#evict();
  }

  /** Loads one worker dir; returns undefined (with a diagnostic) when it has no valid record. */
  async #restore(id: string, diagnostics: Diagnostic[]): Promise<RestoredWorker | undefined> {
    const w = newWorkerState(id, join(this.#workersDir, id));
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
    await Deno.remove(join(w.dir, RECORD_TMP)).catch(() => {});

    let bytes = new Uint8Array();
    try {
      bytes = await Deno.readFile(w.eventsPath);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const complete = bytes.lastIndexOf(NEWLINE) + 1;
    if (complete < bytes.length) {
      try {
        const f = await Deno.open(w.eventsPath, { write: true });
        try {
          await f.truncate(complete);
          await f.sync();
        } finally {
          f.close();
        }
      } catch (e) {
        // A read-only or failing disk: serve the complete lines, cut the tail before the next write.
        w.needsTruncate = true;
        this.#writeError = ioKind(e);
      }
      diagnostics.push(diagnostic(
        "store_torn_line_truncated",
        `worker ${id}: truncated an incomplete last log line (${bytes.length - complete} bytes)`,
        "warning",
      ));
    }

    const dec = new TextDecoder("utf-8", { fatal: true });
    const events: WorkerEvent[] = [];
    let corrupt = 0;
    let firstCorrupt = 0;
    let line = 0;
    for (let pos = 0; pos < complete;) {
      const nl = bytes.indexOf(NEWLINE, pos);
      line++;
      const ev = parseLine(dec, bytes.subarray(pos, nl));
      if (ev && ev.worker_id === id && ev.seq > w.queuedSeq) {
        events.push(ev);
        w.seqs.push(ev.seq);
        w.starts.push(pos);
        w.ends.push(nl);
        w.queuedSeq = ev.seq;
      } else if (corrupt++ === 0) {
        firstCorrupt = line;
      }
      pos = nl + 1;
    }
    if (corrupt > 0) {
      diagnostics.push(diagnostic(
        "store_corrupt_line_skipped",
        `worker ${id}: skipped ${corrupt} corrupt log line${
          corrupt === 1 ? "" : "s"
        } (first at line ${firstCorrupt})`,
        "warning",
      ));
    }
    w.queuedEnd = complete;
    w.writtenEnd = complete;
    this.#workers.set(id, w);
    return { record, events };
  }

  #assertOpen(): void {
    if (this.#state === "closed") throw closedError();
    if (this.#state !== "open") throw new ApiError("internal_error", "store is not open");
  }

  #worker(workerId: string): WorkerState {
    const w = this.#workers.get(validId(workerId));
    if (!w) throw new ApiError("worker_not_found", `worker ${workerId} not found`);
    return w;
  }
}

function newWorkerState(id: string, dir: string): WorkerState {
  return {
    id,
    dir,
    eventsPath: join(dir, EVENTS_FILE),
    seqs: [],
    starts: [],
    ends: [],
    queuedEnd: 0,
    queuedSeq: 0,
    queue: [],
    writtenEnd: 0,
    needsTruncate: false,
  };
}

/** The id, if it may become a path segment; never echoes a rejected id. */
function validId(id: unknown): string {
  if (!isWorkerId(id)) throw new ApiError("invalid_id", "invalid worker id");
  return id;
}

/** An internal error naming only the failure kind (Deno error messages carry paths). */
function wrap(what: string, e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError("internal_error", `${what} (${e instanceof Error ? e.name : "error"})`);
}

function closedError(): ApiError {
  return new ApiError("runtime_stopping", "store is closed");
}

/** 507 `store_unavailable` naming only the failure kind (e.g. ENOSPC), never a path. */
function unavailable(what: string, e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError("store_unavailable", `${what} (${ioKind(e)})`);
}

/** The OS error code (ENOSPC, EIO, EROFS, EDQUOT, …) or the error's class name. */
export function ioKind(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  return e instanceof Error ? e.name : "error";
}

function parseLine(dec: TextDecoder, line: Uint8Array): WorkerEvent | undefined {
  try {
    const parsed = WorkerEventSchema.safeParse(JSON.parse(dec.decode(line)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Index of the first element of `seqs[0..n)` greater than `after` (seqs strictly increase). */
function upperBound(seqs: number[], n: number, after: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqs[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    const n = await file.write(bytes.subarray(off));
    if (n <= 0) throw new Error("write made no progress");
    off += n;
  }
}

async function readRange(path: string, start: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  using file = await Deno.open(path, { read: true });
  await file.seek(start, Deno.SeekMode.Start);
  for (let off = 0; off < length;) {
    const n = await file.read(buf.subarray(off));
    if (n === null) throw new Error("log shorter than its index");
    off += n;
  }
  return buf;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Makes a directory's entries durable; directories cannot be opened for sync on Windows. */
async function syncDir(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  using dir = await Deno.open(path, { read: true });
  await dir.sync();
}
