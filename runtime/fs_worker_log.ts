/**
 * One worker's log in the fs store: its in-memory state (write queue, what the written log
 * holds, its index), restoring it at start from the index plus the log's tail, reading by
 * seq from the nearest mark, and keeping the index current as writes land.
 * @module
 */
import { join } from "node:path";
import {
  ApiError,
  type Diagnostic,
  diagnostic,
  type WorkerEvent,
  WorkerEventSchema,
} from "../shared/mod.ts";
import { emptySummary, foldEvent, type LogSummary } from "./log_summary.ts";
import { loadIndex, type LogIndex, LogMarks, saveIndex } from "./fs_log_index.ts";
import { ioKind, NEWLINE, type ScanEnd, scanLines } from "./fs_io.ts";

const EVENTS_FILE = "events.jsonl";

/** Counters a test (or a probe) can hook into: they see every log read and write. */
export interface FsStoreHooks {
  /** Bytes read from an `events.jsonl` (start-up scans, reads by seq). */
  onLogRead?(bytes: number): void;
  /** One call per write to an `events.jsonl`, with its size. */
  onLogWrite?(bytes: number): void;
}

/** An `append` call waiting for its bytes to be written. */
export interface PendingAppend {
  bytes: Uint8Array;
  events: WorkerEvent[];
  /** Byte length of each event's line, "\n" included. */
  lengths: number[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Per-worker state: paths, the append handle, the write queue and what the log holds. */
export interface WorkerLog {
  id: string;
  dir: string;
  eventsPath: string;
  /** Open append handle, while in the store's LRU cache of open logs. */
  file?: Deno.FsFile;
  /** Highest seq accepted by `append` (queued or written). */
  queuedSeq: number;
  queue: PendingAppend[];
  /** The running drain loop, while one is in flight; never rejects. */
  writing?: Promise<void>;
  /** Byte length of the log's complete written lines. */
  writtenEnd: number;
  /** Set after a failed write: bytes past `writtenEnd` are cut before the next write. */
  needsTruncate: boolean;
  /** The log up to `writtenEnd`, folded; and where its last event's line starts. */
  summary: LogSummary;
  lastLine: number;
  lines: number;
  corrupt: number;
  firstCorrupt: number;
  marks: LogMarks;
  /** Marks in `events.marks` that the saved index counts… */
  persistedMarks: number;
  /** …and whether the file may hold more than those (then they are cut before appending). */
  marksUntrusted: boolean;
  /** `log_bytes` and `lines` of the saved index (-1: none that matches the log). */
  indexedEnd: number;
  indexedLines: number;
}

export function newWorkerLog(id: string, dir: string): WorkerLog {
  return {
    id,
    dir,
    eventsPath: join(dir, EVENTS_FILE),
    queuedSeq: 0,
    queue: [],
    writtenEnd: 0,
    needsTruncate: false,
    summary: emptySummary(),
    lastLine: -1,
    lines: 0,
    corrupt: 0,
    firstCorrupt: 0,
    marks: new LogMarks(),
    persistedMarks: 0,
    marksUntrusted: true,
    indexedEnd: -1,
    indexedLines: 0,
  };
}

/**
 * The bytes of an append and each event's line length. Throws unless the first event
 * carries the seq after the last one queued (or, after a failed write, the last one written).
 */
export function encodeAppend(
  w: WorkerLog,
  events: WorkerEvent[],
): Pick<PendingAppend, "bytes" | "events" | "lengths"> {
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
  }
  const bytes = new TextEncoder().encode(text);
  // Line lengths: walk the encoded bytes so multi-byte characters count right.
  const lengths: number[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const next = bytes.indexOf(NEWLINE, pos) + 1;
    lengths.push(next - pos);
    pos = next;
  }
  return { bytes, events, lengths };
}

/**
 * Restores `w` from its index (if it matches the log) and the log's tail past it (all of
 * the log without one), cutting a torn last line. Returns the diagnostics, and the failure
 * kind when the repair could not be written (the tail is then cut before the next write).
 */
export async function restoreLog(
  w: WorkerLog,
  hooks: FsStoreHooks,
): Promise<{ diagnostics: Diagnostic[]; writeError?: string }> {
  const out: { diagnostics: Diagnostic[]; writeError?: string } = { diagnostics: [] };
  const saved = await loadIndex(w.dir, w.id);
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(w.eventsPath, { read: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  let end: ScanEnd = { complete: 0, read: 0 };
  if (file) {
    try {
      const fromIndex = saved && await scanPastIndex(w, file, saved, hooks);
      if (fromIndex) end = fromIndex;
      else {
        Object.assign(w, newWorkerLog(w.id, w.dir)); // forget what the index said
        end = await scan(w, file, 0, hooks);
      }
    } finally {
      file.close();
    }
  }
  if (end.complete < end.read) {
    try {
      using f = await Deno.open(w.eventsPath, { write: true });
      await f.truncate(end.complete);
      await f.sync();
    } catch (e) {
      // A read-only or failing disk: serve the complete lines, cut the tail before the next write.
      w.needsTruncate = true;
      out.writeError = ioKind(e);
    }
    out.diagnostics.push(diagnostic(
      "store_torn_line_truncated",
      `worker ${w.id}: truncated an incomplete last log line (${end.read - end.complete} bytes)`,
      "warning",
    ));
  }
  if (w.corrupt > 0) {
    out.diagnostics.push(diagnostic(
      "store_corrupt_line_skipped",
      `worker ${w.id}: skipped ${w.corrupt} corrupt log line${
        w.corrupt === 1 ? "" : "s"
      } (first at line ${w.firstCorrupt})`,
      "warning",
    ));
  }
  w.writtenEnd = end.complete;
  w.queuedSeq = w.summary.last_seq;
  if (!saved && end.read === 0) w.indexedEnd = 0; // an empty log needs no index
  return out;
}

/**
 * Takes the saved index into `w` and folds the log's tail past it, reading from the index's
 * last line on: that line must hold the index's last seq and a line must end exactly at
 * `log_bytes`. Undefined when the index does not fit the log (`w` must then be reset).
 */
async function scanPastIndex(
  w: WorkerLog,
  file: Deno.FsFile,
  { index, marks }: { index: LogIndex; marks: LogMarks },
  hooks: FsStoreHooks,
): Promise<ScanEnd | undefined> {
  if (index.last_line < 0) return undefined; // nothing indexed: a full scan is as cheap
  w.summary = index.summary;
  w.lastLine = index.last_line;
  w.lines = w.indexedLines = index.lines;
  w.corrupt = index.corrupt;
  w.firstCorrupt = index.first_corrupt;
  w.marks = marks;
  w.persistedMarks = marks.length;
  w.indexedEnd = index.log_bytes;
  const dec = new TextDecoder("utf-8", { fatal: true });
  let fits = false;
  let broken = false;
  const end = await scanLines(file, index.last_line, undefined, (line, at) => {
    if (at >= index.log_bytes) return takeLine(w, dec, line, at);
    const next = at + line.length + 1;
    if (at === index.last_line) {
      const ev = parseLine(dec, line);
      broken = ev?.worker_id !== w.id || ev.seq !== index.summary.last_seq;
    }
    if (next > index.log_bytes) broken = true;
    fits = next === index.log_bytes;
    return !broken;
  }, hooks.onLogRead);
  return fits && !broken ? end : undefined;
}

/** Folds the log's complete lines from `start` into `w`; where they end and the file ends. */
function scan(w: WorkerLog, file: Deno.FsFile, start: number, hooks: FsStoreHooks) {
  const dec = new TextDecoder("utf-8", { fatal: true });
  return scanLines(
    file,
    start,
    undefined,
    (line, at) => takeLine(w, dec, line, at),
    hooks.onLogRead,
  );
}

/** One complete line found at start: a valid next event is folded, anything else counted. */
function takeLine(w: WorkerLog, dec: TextDecoder, line: Uint8Array, at: number): void {
  w.lines++;
  const ev = parseLine(dec, line);
  if (ev && ev.worker_id === w.id && ev.seq > w.summary.last_seq) {
    foldEvent(w.summary, ev);
    w.marks.consider(ev.seq, at);
    w.lastLine = at;
  } else if (w.corrupt++ === 0) {
    w.firstCorrupt = w.lines;
  }
}

/** Takes a written batch into the summary, marks and line counts. */
export function recordWritten(w: WorkerLog, batch: PendingAppend[]): void {
  let at = w.writtenEnd;
  for (const p of batch) {
    for (let i = 0; i < p.events.length; i++) {
      const ev = p.events[i];
      foldEvent(w.summary, ev);
      w.marks.consider(ev.seq, at);
      w.lastLine = at;
      w.lines++;
      at += p.lengths[i];
    }
  }
  w.writtenEnd = at;
}

/** Saves the index of what is written now; a failure leaves it lagging (it is a cache). */
export async function saveLogIndex(w: WorkerLog): Promise<void> {
  const index: LogIndex = {
    worker_id: w.id,
    log_bytes: w.writtenEnd,
    last_line: w.summary.last_seq > 0 ? w.lastLine : -1,
    lines: w.lines,
    corrupt: w.corrupt,
    first_corrupt: w.firstCorrupt,
    marks: w.marks.length,
    summary: { ...w.summary },
  };
  try {
    await saveIndex(w.dir, index, w.marks, w.persistedMarks, w.marksUntrusted);
    w.marksUntrusted = false;
    w.persistedMarks = index.marks;
    w.indexedEnd = index.log_bytes;
    w.indexedLines = index.lines;
  } catch {
    // Tried again at the next threshold or at close; marks may have landed without the index.
    w.marksUntrusted = true;
  }
}

/**
 * Events with `seq > after`, at most `max`, read from the nearest mark on and never past
 * the written end. Throws the raw error (the caller wraps it without paths).
 */
export async function readLog(
  w: WorkerLog,
  after: number,
  max: number,
  hooks: FsStoreHooks,
): Promise<WorkerEvent[]> {
  // Snapshot: only whole written lines, consistent with the summary.
  const end = w.writtenEnd;
  if (max <= 0 || after >= w.summary.last_seq) return [];
  const from = w.marks.startFor(after);
  // Lines this store wrote or checked are whole events; a log with corrupt lines is checked.
  const strict = w.corrupt > 0;
  const dec = new TextDecoder("utf-8", { fatal: strict });
  const out: WorkerEvent[] = [];
  let prev = 0;
  using file = await Deno.open(w.eventsPath, { read: true });
  await scanLines(file, from, end, (line) => {
    let ev: WorkerEvent | undefined;
    if (strict) {
      ev = parseLine(dec, line);
      if (!ev || ev.worker_id !== w.id || ev.seq <= prev) return true;
      prev = ev.seq;
    } else {
      const seq = leadingSeq(line);
      if (seq !== undefined && seq <= after) return true;
      ev = JSON.parse(dec.decode(line)) as WorkerEvent;
    }
    if (ev.seq <= after) return true;
    out.push(ev);
    return out.length < max;
  }, hooks.onLogRead);
  return out;
}

function parseLine(dec: TextDecoder, line: Uint8Array): WorkerEvent | undefined {
  try {
    const parsed = WorkerEventSchema.safeParse(JSON.parse(dec.decode(line)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `{"seq":`, the way every line this store writes begins. */
const SEQ_PREFIX = [0x7b, 0x22, 0x73, 0x65, 0x71, 0x22, 0x3a];

/** The seq of a line written as `{"seq":N,…` without parsing it; undefined otherwise. */
function leadingSeq(line: Uint8Array): number | undefined {
  for (let i = 0; i < SEQ_PREFIX.length; i++) if (line[i] !== SEQ_PREFIX[i]) return undefined;
  let n = 0;
  for (let i = SEQ_PREFIX.length; i < line.length && i < SEQ_PREFIX.length + 16; i++) {
    const c = line[i];
    if (c === 0x2c) return i > SEQ_PREFIX.length ? n : undefined;
    if (c < 0x30 || c > 0x39) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return undefined;
}
