/**
 * One row per measured comparison, rendered as a Markdown table (readable in
 * a terminal too) and kept as raw numbers in `bench/results/latest.json`.
 * @module
 */

export interface Row {
  /** Scenario number and name, e.g. "1 proxy". */
  scenario: string;
  /** What was measured, e.g. "GET worker detail c=1 p50". */
  metric: string;
  /** The side-by-side baseline, with its unit, e.g. "direct 0.41 ms". */
  baseline: string;
  /** The measured side, with its unit, e.g. "Backend 0.92 ms". */
  measured: string;
  /** The comparison: a ratio ("0.55×") or a difference ("+0.51 ms"). */
  compare: string;
  /** The target, or "—" for an informational row. */
  target: string;
  /** Whether the target is met; null when there is no target. */
  met: boolean | null;
  /** Raw numbers behind the row. */
  values: Record<string, number>;
  note?: string;
}

export const fmtMs = (x: number): string =>
  Number.isFinite(x)
    ? `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)} ms`
    : "n/a";
export const fmtRate = (x: number, unit = "/s"): string =>
  Number.isFinite(x) ? `${Math.round(x).toLocaleString("en-US")}${unit}` : "n/a";
export const fmtRatio = (x: number): string => Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a";
export const fmtDelta = (x: number): string =>
  Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${fmtMs(Math.abs(x))}` : "n/a";

function metText(met: boolean | null): string {
  return met === null ? "—" : met ? "yes" : "**no**";
}

/** A Markdown table of the rows, columns padded so it also reads well in a terminal. */
export function renderTable(rows: Row[]): string {
  const head = ["scenario", "metric", "baseline", "measured", "compare", "target", "met?"];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    r.baseline,
    r.measured,
    r.compare,
    r.target,
    metText(r.met),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => [...b[i]].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(width[i] - [...c].length)).join(" | ")} |`;
  return [
    line(head),
    `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...body.map(line),
  ].join("\n");
}

/** Notes attached to rows, numbered in table order. */
export function renderNotes(rows: Row[]): string {
  return rows.filter((r) => r.note).map((r) => `- ${r.scenario} / ${r.metric}: ${r.note}`)
    .join("\n");
}
