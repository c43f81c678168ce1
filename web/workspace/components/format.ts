/**
 * Small formatting helpers shared by pages and islands (no server-only code).
 * @module
 */

/** `2026-01-02T03:04:05.678Z` → `2026-01-02 03:04 UTC` (same on server and in the browser). */
export function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The console page of a worker. */
export function consoleHref(runtimeId: string, workerId: string): string {
  return `/runtimes/${encodeURIComponent(runtimeId)}/workers/${encodeURIComponent(workerId)}`;
}
