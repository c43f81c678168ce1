/**
 * The live state of a runtime (DESIGN §10) as a badge: a word and a colour,
 * never the colour alone. One implementation for Runtime Connections, the
 * Runtime Inventory and the Overview, so the three pages always agree.
 * Usable from islands (type-only imports from shared/).
 * @module
 */
import type { RuntimeState } from "../../../shared/backend_dto.ts";
import { Badge, type Tone } from "./badge.tsx";

/** The word shown for each state. */
export const STATE_LABEL: Record<RuntimeState, string> = {
  connecting: "connecting",
  ready: "ready",
  unreachable: "unreachable",
  auth_failed: "auth failed",
  incompatible: "incompatible",
  unconfigured: "unconfigured",
};

const STATE_TONE: Record<RuntimeState, Tone> = {
  connecting: "neutral",
  ready: "success",
  unreachable: "danger",
  auth_failed: "danger",
  incompatible: "danger",
  unconfigured: "warning",
};

/** What each state means for the admin, as one sentence (shown next to the badge). */
export const STATE_MEANING: Record<RuntimeState, string> = {
  connecting: "Registered; the first check is running.",
  ready: "Identity and protocol verified; worker calls are routed here.",
  unreachable: "Did not answer (refused, timed out, DNS or TLS); no worker calls are routed here.",
  auth_failed: "Refused the Backend's token (401/403); no worker calls are routed here.",
  incompatible:
    "Answers as another runtime or speaks another protocol; no worker calls are routed here.",
  unconfigured: "Its token reference does not resolve; nothing is sent to it.",
};

/** The state's tone; unknown strings (older Backends) are neutral. */
export function stateTone(state: string): Tone {
  return STATE_TONE[state as RuntimeState] ?? "neutral";
}

/** A state badge; `data-state` carries the raw value for styling and tests. */
export function StateBadge(props: { state: RuntimeState }) {
  return (
    <span class="state" data-state={props.state}>
      <Badge tone={stateTone(props.state)}>
        {STATE_LABEL[props.state] ?? props.state}
      </Badge>
    </span>
  );
}
