/**
 * `GET /v1/workers` as JSON text built once per change (issue 15): each worker's summary is
 * serialised when one of its listed fields changes, and a list is a join of those texts, not
 * per-worker object building and stringify on every request. Its version — the list's `ETag` —
 * changes whenever a listed field of any worker changes, a worker comes or goes, or the
 * runtime process restarts, so a caller holding the last answer asks with `If-None-Match` and
 * gets a 304 instead of the same bytes again.
 * @module
 */
import type { Diagnostic, WorkerStatus } from "../shared/mod.ts";
import { summaryOf, type WorkerState } from "./worker_state.ts";

/** One list answer: its version and its body (`{workers, diagnostics}` as JSON text). */
export interface ListedWorkers {
  etag: string;
  json: string;
  /** The workers alone, comma-joined (what an embedding Backend splices into its lists). */
  items: string;
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
    const key = status ?? "";
    const hit = this.#lists.get(key);
    if (hit && hit.gen === this.#gen) return hit.answer;
    const texts: string[] = [];
    for (const w of sorted) if (!status || w.status === status) texts.push(w.listed!.json);
    const items = texts.join(",");
    const answer = {
      etag: `"${this.#boot}-${this.#gen}${status ? `-${status}` : ""}"`,
      json: `{"workers":[${items}],"diagnostics":${JSON.stringify(this.#diagnostics)}}`,
      items,
    };
    this.#lists.set(key, { gen: this.#gen, answer });
    return answer;
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
