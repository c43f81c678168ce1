/**
 * `GET /v1/workers` as JSON text built once per change (issue 15): each worker's summary is
 * serialised when one of its listed fields changes, and a list is a join of those texts, not
 * per-worker object building and stringify on every request. Its version — the list's `ETag` —
 * changes whenever a listed field of any worker changes, a worker comes or goes, or the
 * runtime process restarts, so a caller holding the last answer asks with `If-None-Match` and
 * gets a 304 instead of the same bytes again.
 *
 * A caller may also wait for the next version (`GET /v1/workers?wait=MS`, the Backend's change
 * feed): {@link WorkerListCache.wait} holds it until the version moves or the wait ends. The
 * Runtime tells the cache when something listed may have changed ({@link
 * WorkerListCache.changed}); with nobody waiting that costs one comparison, with waiters one
 * re-check per turn of the event loop however many events came.
 * @module
 */
import { type Diagnostic, LIST_WAIT_MAX_MS, type WorkerStatus } from "../shared/mod.ts";
import { summaryOf, type WorkerState } from "./worker_state.ts";

/** One list answer: its version and its body (`{workers, diagnostics}` as JSON text). */
export interface ListedWorkers {
  etag: string;
  json: string;
  /** The workers alone, comma-joined (what an embedding Backend splices into its lists). */
  items: string;
}

/** Requests held for the next version at most, per runtime (more are answered at once). */
export const MAX_LIST_WAITERS = 64;

/** One held list request: answered once, by a change, its timer, its abort or a stop. */
interface Waiter {
  status: WorkerStatus | undefined;
  etag: string;
  timer: ReturnType<typeof setTimeout>;
  done: (changed: ListedWorkers | null) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** The list of one runtime's workers, kept as text; the Runtime owns one. */
export class WorkerListCache {
  readonly #runtimeId: string;
  readonly #workers: ReadonlyMap<string, WorkerState>;
  readonly #diagnostics: readonly Diagnostic[];
  /** Differs per process: a version of an earlier run never matches one of this run. */
  readonly #boot = crypto.randomUUID().slice(-12);
  /** Bumped on any change seen; part of every ETag. */
  #gen = 0;
  #diagCount = -1;
  /** Workers sorted by id (creation order), as of the last list. */
  #sorted: WorkerState[] = [];
  /** Built bodies by status filter ("" = all): at most five entries. */
  readonly #lists = new Map<string, { gen: number; answer: ListedWorkers }>();
  /** Held requests (at most {@link MAX_LIST_WAITERS}). */
  readonly #waiters = new Set<Waiter>();
  /** A re-check for the waiters is queued. */
  #wakeQueued = false;
  /** The runtime stops: nothing is held any more. */
  #closed = false;

  constructor(
    runtimeId: string,
    workers: ReadonlyMap<string, WorkerState>,
    diagnostics: readonly Diagnostic[],
  ) {
    this.#runtimeId = runtimeId;
    this.#workers = workers;
    this.#diagnostics = diagnostics;
  }

  /** Whether the workers are still those of the last list (none came or went). */
  #sameWorkers(): boolean {
    if (this.#sorted.length !== this.#workers.size) return false;
    for (const w of this.#sorted) if (this.#workers.get(w.record.worker_id) !== w) return false;
    return true;
  }

  /** The current list (only workers in `status` when given) and its version. */
  list(status?: WorkerStatus): ListedWorkers {
    const before = this.#gen;
    this.#refresh();
    if (this.#gen !== before) this.changed();
    const key = status ?? "";
    const hit = this.#lists.get(key);
    if (hit && hit.gen === this.#gen) return hit.answer;
    const texts: string[] = [];
    for (const w of this.#sorted) if (!status || w.status === status) texts.push(w.listed!.json);
    const items = texts.join(",");
    const answer = {
      etag: `"${this.#boot}-${this.#gen}${status ? `-${status}` : ""}"`,
      json: `{"workers":[${items}],"diagnostics":${JSON.stringify(this.#diagnostics)}}`,
      items,
    };
    this.#lists.set(key, { gen: this.#gen, answer });
    return answer;
  }

  /**
   * Holds a request for the list after version `etag` (the current one) until it changes —
   * resolves with the new answer — or `ms` pass, `signal` aborts or the runtime stops —
   * resolves null. Returns null at once when it cannot be held (too many held, stopping).
   */
  wait(
    status: WorkerStatus | undefined,
    etag: string,
    ms: number,
    signal?: AbortSignal,
  ): Promise<ListedWorkers | null> | null {
    if (this.#closed || this.#waiters.size >= MAX_LIST_WAITERS || signal?.aborted) return null;
    return new Promise((resolve) => {
      const onAbort = () => this.#finish(w, null);
      const timer = setTimeout(onAbort, Math.min(ms, LIST_WAIT_MAX_MS));
      const w: Waiter = { status, etag, signal, timer, onAbort, done: resolve };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(w);
    });
  }

  /**
   * Something listed may have changed (an event published, a request that mutates). Nothing
   * to do unless someone waits; then one re-check after the current burst of work.
   */
  changed(): void {
    if (this.#waiters.size === 0 || this.#wakeQueued) return;
    this.#wakeQueued = true;
    setTimeout(() => {
      this.#wakeQueued = false;
      for (const w of this.#waiters) {
        const now = this.list(w.status);
        if (now.etag !== w.etag) this.#finish(w, now);
      }
    }, 0);
  }

  /**
   * The runtime stops: every held request is answered now (changed or not), none held later.
   * Resolves once their answers had a moment to be written: the server's abort that follows
   * drops connections without waiting for pending writes.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const held = this.#waiters.size;
    for (const w of this.#waiters) {
      const now = this.list(w.status);
      this.#finish(w, now.etag !== w.etag ? now : null);
    }
    if (held > 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** Requests held now (tests and the bound). */
  get waiting(): number {
    return this.#waiters.size;
  }

  #finish(w: Waiter, answer: ListedWorkers | null): void {
    if (!this.#waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.signal?.removeEventListener("abort", w.onAbort);
    w.done(answer);
  }

  /** Brings `#sorted`, each worker's text and `#gen` up to date. */
  #refresh(): void {
    if (!this.#sameWorkers()) {
      this.#sorted = [...this.#workers.values()].sort((a, b) =>
        a.record.worker_id < b.record.worker_id ? -1 : 1
      );
      this.#gen++;
    }
    const sorted = this.#sorted;
    // Three comparisons per worker find what changed since the last list.
    for (const w of sorted) {
      const t = w.listed;
      if (t && t.record === w.record && t.status === w.status && t.seq === w.publishedSeq) continue;
      w.listed = {
        record: w.record,
        status: w.status,
        seq: w.publishedSeq,
        json: JSON.stringify(summaryOf(this.#runtimeId, w)),
      };
      this.#gen++;
    }
    if (this.#diagnostics.length !== this.#diagCount) {
      this.#diagCount = this.#diagnostics.length;
      this.#gen++;
    }
  }
}

/**
 * Whether an `If-None-Match` value names `etag` (a list of tags, `*`, or weak tags: the
 * weak comparison HTTP asks for on a conditional GET).
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  for (const part of ifNoneMatch.split(",")) {
    const tag = part.trim();
    if (tag === etag || (tag.startsWith("W/") && tag.slice(2) === etag)) return true;
  }
  return false;
}
