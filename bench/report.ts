/**
 * Rows of a bench run: each one number with a stable id, its unit, its target
 * (if any), the side-by-side baseline and the per-round samples behind it.
 * Rendered as Markdown tables (padded, so they read in a terminal too) and
 * written as `bench/results/latest.json`.
 * @module
 */

/** A target: the row's value must be `op` this number. */
export interface Target {
  op: "<=" | ">=";
  value: number;
}

/** The side-by-side anchor a row is compared with, in its own unit. */
export interface Baseline {
  name: string;
  value: number;
  unit: string;
}

export interface Row {
  /** Stable id, e.g. `proxy.c32.backend_vs_nginx`. */
  id: string;
  /** Scenario number and name, e.g. "1 proxy". */
  scenario: string;
  /** What was measured, in words. */
  metric: string;
  /** The row's number (NaN when it could not be measured, e.g. nginx skipped). */
  value: number;
  /** Unit of `value`: "×", "µs", "ms", "req/s", "ev/s", "count". */
  unit: string;
  target: Target | null;
  /** Whether `value` meets `target`; null without a target or without a value. */
  met: boolean | null;
  baseline: Baseline | null;
  /** The per-round (or per-run) values the row's value is the median of. */
  samples: number[];
  /** Table cells: the baseline and measured sides and the comparison, with units. */
  show: { baseline: string; measured: string; compare: string; target?: string };
  /** Raw numbers behind the row. */
  values?: Record<string, number>;
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
export const fmtUs = (x: number): string => Number.isFinite(x) ? `${x.toFixed(1)} µs` : "n/a";

/** Whether `value` meets `target` (null when there is no target or no value). */
export function meets(value: number, target: Target | null): boolean | null {
  if (!target || !Number.isFinite(value)) return null;
  return target.op === "<=" ? value <= target.value : value >= target.value;
}

/** Builds a row, deriving `met` from value and target. */
export function row(r: Omit<Row, "met"> & { met?: boolean | null }): Row {
  return { ...r, met: r.met !== undefined ? r.met : meets(r.value, r.target) };
}

/** A number with its unit, the way the tables print it. */
export function fmtValue(x: number, unit: string): string {
  if (!Number.isFinite(x)) return "n/a";
  switch (unit) {
    case "×":
      return fmtRatio(x);
    case "ms":
      return fmtMs(x);
    case "µs":
      return fmtUs(x);
    case "req/s":
    case "ev/s":
      return fmtRate(x, ` ${unit}`);
    default:
      return `${Math.round(x * 100) / 100} ${unit}`.trim();
  }
}

export function fmtTarget(t: Target | null, unit: string): string {
  if (!t) return "—";
  return `${t.op === "<=" ? "≤" : "≥"} ${fmtValue(t.value, unit)}`;
}

function metText(met: boolean | null): string {
  return met === null ? "—" : met ? "yes" : "**no**";
}

/** A Markdown table, columns padded so it also reads well in a terminal. */
export function markdownTable(head: string[], body: string[][]): string {
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => [...b[i]].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(width[i] - [...c].length)).join(" | ")} |`;
  return [line(head), `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)]
    .join("\n");
}

/** The goal table: one line per goal id, in the order given (missing rows say so). */
export function renderGoals(goals: readonly { id: string; goal: string }[], rows: Row[]): string {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return markdownTable(
    ["row id", "goal", "measured", "baseline (same run)", "met?"],
    goals.map((g) => {
      const r = byId.get(g.id);
      if (!r) return [g.id, g.goal, "not run", "—", "—"];
      const base = r.baseline
        ? `${r.baseline.name} ${fmtValue(r.baseline.value, r.baseline.unit)}`
        : "—";
      return [g.id, g.goal, fmtValue(r.value, r.unit), base, metText(r.met)];
    }),
  );
}

/** Every row: id, scenario, metric, both sides, comparison, target, met. */
export function renderTable(rows: Row[]): string {
  return markdownTable(
    ["id", "metric", "baseline", "measured", "compare", "target", "met?"],
    rows.map((r) => [
      r.id,
      r.metric,
      r.show.baseline,
      r.show.measured,
      r.show.compare,
      r.show.target ?? fmtTarget(r.target, r.unit),
      metText(r.met),
    ]),
  );
}

/** Notes attached to rows, in table order. */
export function renderNotes(rows: Row[]): string {
  return rows.filter((r) => r.note).map((r) => `- \`${r.id}\`: ${r.note}`).join("\n");
}

const num = (x: number): number | null => Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null;

/**
 * The `latest.json` document: `{rows: [{id, value, unit, target, met, baseline,
 * samples, …}], machine, …}`. Values that could not be measured are `null`.
 */
export function resultDocument(
  rows: Row[],
  machine: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...extra,
    machine,
    rows: rows.map((r) => ({
      id: r.id,
      value: num(r.value),
      unit: r.unit,
      target: r.target,
      met: r.met,
      baseline: r.baseline ? { ...r.baseline, value: num(r.baseline.value) } : null,
      samples: r.samples.map(num),
      scenario: r.scenario,
      metric: r.metric,
      ...(r.values
        ? { values: Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, num(v)])) }
        : {}),
      ...(r.note ? { note: r.note } : {}),
    })),
  };
}
