/**
 * The fs store's per-worker index beside `events.jsonl`, so a start reads a few hundred bytes
 * per worker instead of its whole log, and a read by seq starts near its page:
 *
 * - `events.index`: one JSON line and its checksum, rewritten atomically (tmp + rename): how
 *   far the log was covered (`log_bytes`, the end of a complete line), where the last event's
 *   line starts, line and corrupt-line counts, how many marks are valid, and the
 *   {@link LogSummary} a start needs.
 * - `events.marks`: append-only, 16 bytes per mark (seq and byte offset of an event's line,
 *   float64 little-endian), one every {@link MARK_EVENTS} events or {@link MARK_BYTES} bytes.
 *
 * The log stays the truth. The index may lag it (a crash between a log write and the next
 * index write): a start then reads only the tail past `log_bytes`. An index that is missing,
 * fails its checksum or schema, does not match the line it names, or claims more than the log
 * holds is ignored, and that one worker's log is scanned in full.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { type LogSummary, LogSummarySchema } from "./log_summary.ts";

export const INDEX_FILE = "events.index";
const INDEX_TMP = "events.index.tmp";
export const MARKS_FILE = "events.marks";
const VERSION = 1;
/** A mark at least every this many events… */
export const MARK_EVENTS = 128;
/** …and at least every this many bytes of log. */
export const MARK_BYTES = 64 * 1024;
const MARK_SIZE = 16;

/** What `events.index` says about the log up to `log_bytes`. */
export interface LogIndex {
  worker_id: string;
  /** End of the last complete line covered. */
  log_bytes: number;
  /** Start of the line holding `summary.last_seq`; -1 when no event was covered. */
  last_line: number;
  /** Complete lines in `[0, log_bytes)`, valid or not. */
  lines: number;
  /** Lines skipped as corrupt, and the 1-based number of the first. */
  corrupt: number;
  first_corrupt: number;
  /** Valid marks at the start of `events.marks`. */
  marks: number;
  summary: LogSummary;
}

const LogIndexSchema = z.object({
  v: z.literal(VERSION),
  worker_id: z.string(),
  log_bytes: z.number().int().nonnegative(),
  last_line: z.number().int().min(-1),
  lines: z.number().int().nonnegative(),
  corrupt: z.number().int().nonnegative(),
  first_corrupt: z.number().int().nonnegative(),
  marks: z.number().int().nonnegative(),
  summary: LogSummarySchema,
});

/**
 * Sparse positions in a log: the seq and line offset of an event every so often, so a read
 * of `seq > after` starts at most {@link MARK_EVENTS} events or {@link MARK_BYTES} bytes
 * before its first event instead of at the start of the log.
 */
export class LogMarks {
  readonly seqs: number[] = [];
  readonly offs: number[] = [];

  get length(): number {
    return this.seqs.length;
  }

  /** Called for every valid event in log order; keeps it when far enough from the last mark. */
  consider(seq: number, off: number): void {
    const n = this.seqs.length;
    const lastSeq = n ? this.seqs[n - 1] : 0;
    const lastOff = n ? this.offs[n - 1] : 0;
    if (seq - lastSeq >= MARK_EVENTS || off - lastOff >= MARK_BYTES) {
      this.seqs.push(seq);
      this.offs.push(off);
    }
  }

  /** Byte offset to read from for the events with `seq > after`. */
  startFor(after: number): number {
    // The last mark whose event is not past the first one wanted (seq `after + 1` or later).
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid] <= after + 1) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.offs[lo - 1];
  }

  /** The marks from index `from` on, in the file's format. */
  encode(from: number): Uint8Array {
    const n = this.seqs.length - from;
    const view = new DataView(new ArrayBuffer(Math.max(0, n) * MARK_SIZE));
    for (let i = 0; i < n; i++) {
      view.setFloat64(i * MARK_SIZE, this.seqs[from + i], true);
      view.setFloat64(i * MARK_SIZE + 8, this.offs[from + i], true);
    }
    return new Uint8Array(view.buffer);
  }

  /** The first `count` marks of `bytes`; undefined unless they all increase and fit the log. */
  static decode(bytes: Uint8Array, count: number, index: LogIndex): LogMarks | undefined {
    if (bytes.length < count * MARK_SIZE) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, count * MARK_SIZE);
    const marks = new LogMarks();
    let seq = 0;
    let off = -1;
    for (let i = 0; i < count; i++) {
      const s = view.getFloat64(i * MARK_SIZE, true);
      const o = view.getFloat64(i * MARK_SIZE + 8, true);
      const ok = Number.isSafeInteger(s) && Number.isSafeInteger(o) && s > seq && o > off &&
        s <= index.summary.last_seq && o <= index.last_line;
      if (!ok) return undefined;
      marks.seqs.push(s);
      marks.offs.push(o);
      seq = s;
      off = o;
    }
    return marks;
  }
}

/** FNV-1a over the UTF-16 code units: catches a torn or edited index, cheaply. */
function checksum(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * The worker's saved index and marks, or undefined when there is none or it cannot be
 * believed (unreadable, checksum or schema mismatch, another worker's, marks missing).
 * Whether it matches the log is for the caller to check against the line it names.
 */
export async function loadIndex(
  dir: string,
  workerId: string,
): Promise<{ index: LogIndex; marks: LogMarks } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, INDEX_FILE));
  } catch {
    return undefined;
  }
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  const body = text.slice(0, nl);
  if (text.slice(nl + 1).trim() !== checksum(body)) return undefined;
  let parsed;
  try {
    parsed = LogIndexSchema.safeParse(JSON.parse(body));
  } catch {
    return undefined;
  }
  if (!parsed.success || parsed.data.worker_id !== workerId) return undefined;
  const { v: _, ...index } = parsed.data;
  if (index.last_line >= index.log_bytes || (index.summary.last_seq > 0) !== index.last_line >= 0) {
    return undefined;
  }
  if (index.marks === 0) return { index, marks: new LogMarks() };
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(join(dir, MARKS_FILE));
  } catch {
    return undefined;
  }
  const marks = LogMarks.decode(bytes, index.marks, index);
  return marks ? { index, marks } : undefined;
}

/**
 * Appends the marks past `persistedMarks` to `events.marks`, then replaces `events.index`.
 * With `cut`, whatever the file holds past `persistedMarks` (left by a crash or a failed save)
 * is cut first; otherwise the file is known to end there and the marks are simply appended.
 * No fsync: the index is a cache of the log, and a lost or stale one only costs a longer scan
 * at the next start.
 */
export async function saveIndex(
  dir: string,
  index: LogIndex,
  marks: LogMarks,
  persistedMarks: number,
  cut: boolean,
): Promise<void> {
  const path = join(dir, MARKS_FILE);
  if (cut) {
    using f = await Deno.open(path, { write: true, create: true });
    await f.truncate(persistedMarks * MARK_SIZE);
  }
  if (marks.length > persistedMarks) {
    await Deno.writeFile(path, marks.encode(persistedMarks), { append: true, create: true });
  }
  const body = JSON.stringify({ v: VERSION, ...index });
  const tmp = join(dir, INDEX_TMP);
  await Deno.writeTextFile(tmp, `${body}\n${checksum(body)}\n`);
  await Deno.rename(tmp, join(dir, INDEX_FILE));
}
