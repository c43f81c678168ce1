/**
 * `{workers, diagnostics}` of a fan-out list assembled as text from each runtime's part
 * (issue 15): a handle keeps its workers as JSON text built once per change, so a list is a
 * join, not a parse and a re-serialisation of every worker per request. Also the answer of
 * one runtime's list (`/api/runtimes/{id}/workers`).
 * @module
 */
import type { Diagnostic, WorkerStatus } from "../../shared/mod.ts";
import { JsonBody } from "./json_body.ts";
import type { WorkerList } from "./runtime_handle.ts";

/** The last answer per status filter: the parts it was built from and its bytes. */
export type BodyCache = Map<string, { parts: string[]; diagnostics: string; body: JsonBody }>;

const enc = new TextEncoder();

/** One runtime's part of a `workers` array: its kept text, else its workers serialised. */
function partOf(list: WorkerList): string {
  return list.json ?? list.workers.map((w) => JSON.stringify(w)).join(",");
}

/**
 * The answer listing `lists` in order, `diagnostics` first among the diagnostics. With a
 * `cache`, an answer whose parts are all the same as the last one's reuses its bytes.
 */
export function workerListBody(
  lists: WorkerList[],
  diagnostics: Diagnostic[] = [],
  cache?: BodyCache,
  status?: WorkerStatus,
): JsonBody {
  const parts: string[] = [];
  for (const l of lists) {
    const p = partOf(l);
    if (p.length > 0) parts.push(p);
  }
  const diags = JSON.stringify([...diagnostics, ...lists.flatMap((l) => l.diagnostics)]);
  const key = status ?? "";
  const last = cache?.get(key);
  if (
    last && last.diagnostics === diags && last.parts.length === parts.length &&
    last.parts.every((p, i) => p === parts[i])
  ) {
    return last.body;
  }
  const body = new JsonBody(
    enc.encode(`{"workers":[${parts.join(",")}],"diagnostics":${diags}}`),
  );
  cache?.set(key, { parts, diagnostics: diags, body });
  return body;
}
