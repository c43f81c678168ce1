/**
 * File helpers of the fs store: whole writes, bounded line scans, directory
 * syncs, and errors that name only the failure kind (Deno's messages carry paths).
 * @module
 */
import { ApiError } from "../shared/mod.ts";

export const NEWLINE = 0x0a;
/** Bytes read at a time by {@link scanLines}; a longer line grows the buffer to fit it. */
const SCAN_CHUNK = 64 * 1024;

/** Writes every byte (a short write continues where it stopped). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    const n = await file.write(bytes.subarray(off));
    if (n <= 0) throw new Error("write made no progress");
    off += n;
  }
}

/** Where a {@link scanLines} pass stopped. */
export interface ScanEnd {
  /** Offset just past the last complete line handed out. */
  complete: number;
  /** Offset of the end of what was read (past `complete` when a line is unfinished). */
  read: number;
}

/**
 * Hands out the complete lines (without "\n") of `file` from `start` up to `end` (or EOF),
 * reading a chunk at a time, so memory is bounded by the longest line, not the file. The
 * line's bytes are only valid during the call. Stops early when `onLine` returns false.
 */
export async function scanLines(
  file: Deno.FsFile,
  start: number,
  end: number | undefined,
  onLine: (line: Uint8Array, at: number) => boolean | void,
  onRead?: (bytes: number) => void,
): Promise<ScanEnd> {
  file.seekSync(start, Deno.SeekMode.Start); // lseek does no I/O: not worth an async hop
  let buf = new Uint8Array(SCAN_CHUNK);
  let atEof = false;
  let filled = 0;
  let base = start; // file offset of buf[0]
  for (;;) {
    if (filled === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const room = buf.length - filled;
    const want = end === undefined ? room : Math.min(room, end - (base + filled));
    if (want <= 0 || atEof) break;
    const n = await file.read(buf.subarray(filled, filled + want));
    if (n === null) break;
    // A regular file reads short only at its end: no second read just to be told so.
    atEof = n < want;
    onRead?.(n);
    const from = filled;
    filled += n;
    let pos = 0;
    const view = buf.subarray(0, filled);
    for (let nl = view.indexOf(NEWLINE, from); nl >= 0; nl = view.indexOf(NEWLINE, pos)) {
      const more = onLine(view.subarray(pos, nl), base + pos);
      pos = nl + 1;
      if (more === false) return { complete: base + pos, read: base + filled };
    }
    if (pos > 0) {
      buf.copyWithin(0, pos, filled);
      filled -= pos;
      base += pos;
    }
  }
  return { complete: base, read: base + filled };
}

/** Makes a directory's entries durable; directories cannot be opened for sync on Windows. */
export async function syncDir(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  using dir = await Deno.open(path, { read: true });
  await dir.sync();
}

/** The OS error code (ENOSPC, EIO, EROFS, EDQUOT, …) or the error's class name. */
export function ioKind(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  return e instanceof Error ? e.name : "error";
}

/** An internal error naming only the failure kind (Deno error messages carry paths). */
export function wrap(what: string, e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError("internal_error", `${what} (${e instanceof Error ? e.name : "error"})`);
}

/** 507 `store_unavailable` naming only the failure kind (e.g. ENOSPC), never a path. */
export function unavailable(what: string, e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError("store_unavailable", `${what} (${ioKind(e)})`);
}

export function closedError(): ApiError {
  return new ApiError("runtime_stopping", "store is closed");
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
