/**
 * Status badges. Colour is reserved for state (success, warning, danger);
 * everything else is neutral. Usable from islands too (no server-only code).
 * @module
 */
import type { ComponentChildren } from "preact";

export type Tone = "neutral" | "success" | "warning" | "danger" | "accent";

export function Badge(props: { tone?: Tone; children: ComponentChildren; title?: string }) {
  const tone = props.tone ?? "neutral";
  return (
    <span class={tone === "neutral" ? "badge" : `badge ${tone}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** The tone a runtime or worker status is shown in. */
export function statusTone(status: string | null | undefined): Tone {
  switch (status) {
    case "running":
    case "idle":
      return "success";
    case "busy":
    case "stopping":
      return "accent";
    case "unreachable":
    case "incompatible":
      return "danger";
    case "stopped":
      return "neutral";
    default:
      return "warning";
  }
}
