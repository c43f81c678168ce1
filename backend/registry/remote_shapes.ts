/**
 * Structural checks of what the Backend itself reads from a remote Runtime's answers
 * (issue 15): the fields it keys, filters and builds links on, by hand — a few property
 * reads per worker instead of a full schema parse on every answer. An answer that fails
 * them is `remote_runtime_malformed_response`; the full zod schemas stay for the runtime
 * summary (health checks) and for the Backend's own request validation.
 * @module
 */
import type { z } from "zod";
import {
  type Ack,
  isWorkerId,
  WORKER_STATUSES,
  type WorkerDetail,
  type WorkerSummary,
} from "../../shared/mod.ts";

const STATUSES: ReadonlySet<string> = new Set(WORKER_STATUSES);
const OUTCOMES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

function count(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** A worker list entry: ids usable in paths, a known status, the shown fields typed. */
export function isWorkerSummary(v: unknown): v is WorkerSummary {
  if (typeof v !== "object" || v === null) return false;
  const w = v as Record<string, unknown>;
  return typeof w.worker_id === "string" && isWorkerId(w.worker_id) &&
    typeof w.runtime_id === "string" && typeof w.status === "string" && STATUSES.has(w.status) &&
    typeof w.display_name === "string" && typeof w.profile === "string" &&
    typeof w.created_at === "string" && count(w.last_seq) &&
    (w.stale === undefined || typeof w.stale === "boolean");
}

/** A worker detail: a summary plus its turn fields. */
export function isWorkerDetail(v: unknown): v is WorkerDetail {
  if (!isWorkerSummary(v)) return false;
  const w = v as unknown as Record<string, unknown>;
  return typeof w.updated_at === "string" && count(w.turn_count) &&
    (w.last_turn_outcome === null ||
      (typeof w.last_turn_outcome === "string" && OUTCOMES.has(w.last_turn_outcome)));
}

/** An acknowledgement: the worker, its status and the seq. */
export function isAck(v: unknown): v is Ack {
  if (typeof v !== "object" || v === null) return false;
  const a = v as Record<string, unknown>;
  return typeof a.worker_id === "string" && isWorkerId(a.worker_id) &&
    typeof a.status === "string" && STATUSES.has(a.status) && count(a.seq);
}

/** Where a schema check failed, as "(at a.b, c)", with only id-like path parts kept. */
export function shapeError(error: z.ZodError): string {
  const where = error.issues.slice(0, 3).map((i) =>
    i.path.length
      ? i.path.map((p) => typeof p === "number" || /^[a-z0-9_]{1,40}$/.test(String(p)) ? p : "?")
        .join(".")
      : "body"
  );
  return `does not match the protocol (at ${where.join(", ")})`;
}
