/**
 * The Backend's mirror of one remote runtime's worker list (issue 15, `fanout.n32_vs_n1`).
 *
 * DESIGN §6 queries every runtime for every list. Even a conditional request (304) wakes each
 * sleeping runtime process, and 32 cold wakes cost more CPU than the whole list may take. So a
 * runtime that advertises `capabilities.list_wait` is followed instead: one loop per ready
 * remote keeps a held `GET /v1/workers?wait=5000` open with the last ETag, and every answer
 * (200 with the new list when something changed, 304 when the wait ended) refreshes the kept
 * list. A list then answers from the kept one, without a request, while it can be trusted:
 *
 * - the runtime is `ready` and the loop is running (the handle's checks decide the state);
 * - the loop's last answer is at most wait + 1 s old (a frozen runtime is distrusted within
 *   ~6 s; a killed one at once, when the held request's socket fails);
 * - no call through this Backend to that runtime ended after the request that produced the kept
 *   answer was sent (read-your-writes: the next list after a create, input, stop … asks the
 *   runtime itself, and that answer refreshes the mirror; and so after a detail or transcript
 *   read, so a list is never older than what a caller has already seen).
 *
 * Otherwise the handle lists as before (a conditional GET). Polls are at least 50 ms apart, so
 * a runtime whose output moves `last_seq` all the time answers at most 20 times a second.
 * Filtered lists (`?status=`) are the kept unfiltered list filtered here. A failed poll ends the
 * loop and changes nothing else: the runtime's state is the calls' and checks' business, as
 * before; the handle starts the loop again once the runtime has answered (after a back-off).
 * @module
 */
import {
  type Diagnostic,
  diagnostic,
  type WorkerStatus,
  type WorkerSummary,
} from "../../shared/mod.ts";
import type { RemoteWorkerList } from "./remote_client.ts";
import type { WorkerList } from "./runtime_handle.ts";

/** How long the runtime holds one feed request, ms. */
export const FEED_WAIT_MS = 5000;
/** Least time between the starts of two feed requests, ms (at most 20 answers a second). */
export const FEED_MIN_GAP_MS = 50;
/** Least pause before the loop starts again after failed feed requests in a row, ms. */
export const FEED_BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/** What the feed needs from the handle that owns it. */
export interface FeedSource {
  /** Whether the feed may run now: the runtime is ready and advertises `list_wait`. */
  eligible(): boolean;
  /** One held list request; the handle learns from its failure as from any call's. */
  poll(waitMs: number, signal: AbortSignal): Promise<RemoteWorkerList>;
}

export interface ListMirrorOptions {
  waitMs?: number;
  minGapMs?: number;
  backoffMs?: number[];
  /** Told when a feed answer brings a list that differs from the kept one. */
  onChanged?: () => void;
}

/** The kept list of one remote runtime and the loop that keeps it current; the handle owns it. */
export class ListMirror {
  readonly #source: FeedSource;
  readonly #waitMs: number;
  readonly #minGapMs: number;
  readonly #backoffMs: number[];
  readonly #onChanged?: () => void;
  /** Orders list requests and ended calls (a counter, not a clock). */
  #tick = 0;
  #touchedAt = 0;
  #kept: { list: RemoteWorkerList; ticket: number; at: number } | null = null;
  /** The kept list filtered per status (cleared when it changes): at most four. */
  readonly #filtered = new Map<WorkerStatus, RemoteWorkerList>();
  /** The running loop's stop switch; null when no loop runs. */
  #loop: AbortController | null = null;
  /** Feed requests sent so far (tests and the bench read it). */
  polls = 0;
  /** Failed feed requests in a row, and when the loop may start again after the last one. */
  #failures = 0;
  #retryAt = 0;

  constructor(source: FeedSource, opts: ListMirrorOptions = {}) {
    this.#source = source;
    this.#waitMs = opts.waitMs ?? FEED_WAIT_MS;
    this.#minGapMs = opts.minGapMs ?? FEED_MIN_GAP_MS;
    this.#backoffMs = opts.backoffMs ?? FEED_BACKOFF_MS;
    this.#onChanged = opts.onChanged;
  }

  /** Whether the loop runs. */
  get running(): boolean {
    return this.#loop !== null;
  }

  /** A list request is about to be sent: the ticket its answer is filed with. */
  ticket(): number {
    return ++this.#tick;
  }

  /** An unfiltered list answered (the feed's or a direct one); the newest request's wins. */
  answered(list: RemoteWorkerList, ticket: number): void {
    if (this.#kept && this.#kept.ticket > ticket) return;
    if (this.#kept?.list !== list) this.#filtered.clear();
    this.#kept = { list, ticket, at: performance.now() };
  }

  /**
   * A call through this Backend to the runtime ended (a mutation, or a read whose answer was
   * passed on): lists ask the runtime until one asked after it has answered.
   */
  touched(): void {
    this.#touchedAt = ++this.#tick;
  }

  /** Forgets the kept list (a failed poll, a state change). */
  distrust(): void {
    this.#kept = null;
    this.#filtered.clear();
  }

  /** The kept list (filtered to `status`) when it may answer a list now; else null. */
  fresh(status?: WorkerStatus): RemoteWorkerList | null {
    const k = this.#kept;
    if (!k || !this.#loop || k.ticket < this.#touchedAt) return null;
    if (performance.now() - k.at > this.#waitMs + 1000) return null;
    if (!status) return k.list;
    let f = this.#filtered.get(status);
    if (!f) {
      f = filtered(k.list, status);
      this.#filtered.set(status, f);
    }
    return f;
  }

  /**
   * Starts the loop when the source is eligible, none runs and no back-off is pending: the
   * handle calls it whenever the runtime proved ready (a check, a direct list that answered).
   */
  start(): void {
    if (this.#loop || performance.now() < this.#retryAt || !this.#source.eligible()) return;
    const loop = new AbortController();
    this.#loop = loop;
    this.#run(loop.signal).finally(() => {
      if (this.#loop !== loop) return; // stopped (and maybe restarted) meanwhile
      this.#loop = null;
      this.distrust();
    });
  }

  /** Stops the loop: its request is aborted and its timer cleared; the kept list is forgotten. */
  stop(): void {
    this.#loop?.abort();
    this.#loop = null;
    this.distrust();
  }

  /**
   * Polls until stopped or no longer eligible. A failed poll ends the loop (the kept list is
   * distrusted at once) without touching the runtime's state: the next list asks the runtime
   * itself, as every call does, and learns what happened from that; once the runtime has
   * answered again (and a back-off has passed) the handle starts the loop anew.
   */
  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.#source.eligible()) {
      const ticket = this.ticket();
      const t0 = performance.now();
      this.polls++;
      try {
        const list = await this.#source.poll(this.#waitMs, signal);
        if (signal.aborted) return;
        const before = this.#kept?.list;
        this.answered(list, ticket);
        this.#failures = 0;
        if (list !== before) this.#onChanged?.(); // a 304 answers with the kept list itself
      } catch {
        this.distrust();
        if (signal.aborted) return;
        this.#failures++;
        const pause = this.#backoffMs[Math.min(this.#failures - 1, this.#backoffMs.length - 1)];
        this.#retryAt = performance.now() + pause;
        return;
      }
      const pause = this.#minGapMs - (performance.now() - t0);
      if (pause > 0) await sleep(pause, signal);
    }
  }
}

/** Last-known workers kept for `stale` listing of an unreachable runtime. */
const LAST_KNOWN_MAX = 10_000;

/** The handle's lists as built from the client's answers, per status filter (at most five). */
export class ListViews {
  readonly #built = new Map<string, { from: RemoteWorkerList; list: WorkerList }>();
  /** The last unfiltered list's workers (for `stale` listing). */
  lastKnown: WorkerSummary[] | null = null;

  /** The list built from `r`; an unchanged answer (304: the same object) reuses the last one. */
  view(runtimeId: string, r: RemoteWorkerList, status?: WorkerStatus): WorkerList {
    const key = status ?? "";
    const kept = this.#built.get(key);
    if (kept?.from === r) return kept.list;
    if (!status) this.lastKnown = r.workers.slice(0, LAST_KNOWN_MAX);
    const list: WorkerList = {
      workers: r.workers,
      json: r.json,
      texts: r.texts,
      diagnostics: r.diagnostics.map((d) => ({
        ...d,
        runtime_id: runtimeId,
        message: `Runtime ${runtimeId}: ${d.message}`,
      })),
    };
    this.#built.set(key, { from: r, list });
    return list;
  }

  clear(): void {
    this.#built.clear();
    this.lastKnown = null;
  }
}

/** The workers of `list` in `status`, as a list of its own (no ETag: never sent back). */
function filtered(list: RemoteWorkerList, status: WorkerStatus): RemoteWorkerList {
  const workers: WorkerSummary[] = [];
  const texts: string[] = [];
  for (let i = 0; i < list.workers.length; i++) {
    if (list.workers[i].status !== status) continue;
    workers.push(list.workers[i]);
    texts.push(list.texts[i]);
  }
  return { workers, texts, json: texts.join(","), diagnostics: list.diagnostics, etag: null };
}

/** Resolves after `ms` or at once when `signal` aborts; leaves no timer behind. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The last-known workers of a runtime that was verified and is now unreachable, marked
 * `stale: true`, with why (`stateDiagnostics`) and a warning.
 */
export function staleList(
  runtimeId: string,
  lastKnown: readonly WorkerSummary[],
  why: Diagnostic[],
  status?: WorkerStatus,
): WorkerList {
  return {
    workers: lastKnown.filter((w) => !status || w.status === status)
      .map((w) => ({ ...w, stale: true })),
    diagnostics: [
      ...why,
      {
        ...diagnostic(
          "remote_runtime_unavailable",
          `Runtime ${runtimeId} is unreachable; its workers are shown as last seen.`,
          "warning",
        ),
        runtime_id: runtimeId,
      },
    ],
  };
}
