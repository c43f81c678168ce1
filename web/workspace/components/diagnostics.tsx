/**
 * Diagnostics and errors shown as sentences, never as raw JSON. Usable from islands.
 * @module
 */
import type { Diagnostic } from "../../../shared/error_codes.ts";
import { Badge } from "./badge.tsx";

const TONE = { info: "neutral", warning: "warning", error: "danger" } as const;

/** Where a config diagnostic points: "workspace-backend.local.toml, line 3, column 10". */
export function where(d: Diagnostic): string {
  const parts = [d.file, d.line !== undefined && `line ${d.line}`];
  if (d.column !== undefined) parts.push(`column ${d.column}`);
  return parts.filter(Boolean).join(", ");
}

export function Diagnostics(props: { items: Diagnostic[]; label?: string }) {
  if (props.items.length === 0) return null;
  return (
    <ul class="diagnostics" aria-label={props.label ?? "Diagnostics"}>
      {props.items.map((d, i) => (
        <li key={i}>
          <Badge tone={TONE[d.severity]}>{d.severity}</Badge> {d.message}
          {(d.file || d.line !== undefined) && <span class="where">{` (${where(d)})`}</span>}{" "}
          <code class="muted">{d.code}</code>
        </li>
      ))}
    </ul>
  );
}

/** A typed Backend error as a sentence with its code, plus any diagnostics. */
export function ErrorNotice(
  props: { title?: string; message: string; code?: string; diagnostics?: Diagnostic[] },
) {
  return (
    <div class="notice danger" role="alert">
      <strong>{props.title ?? "Something went wrong"}</strong>
      {props.message} {props.code && <code class="muted">{props.code}</code>}
      {props.diagnostics && props.diagnostics.length > 0 && (
        <Diagnostics items={props.diagnostics} />
      )}
    </div>
  );
}
