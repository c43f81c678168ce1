/**
 * A negotiation probe's answer (DESIGN §6) as four separate answers —
 * reachable, authenticated, identity, protocol — plus latency, the
 * operations matrix and diagnostics. Shared by "Test" on a row and by
 * "Save & test" in the add and edit forms. Usable from islands.
 * @module
 */
import type { OperationSupport, ProbeResult } from "../../../shared/settings_dto.ts";
import { Badge } from "./badge.tsx";
import { Diagnostics } from "./diagnostics.tsx";

const OPERATIONS: [keyof ProbeResult["operations"], string][] = [
  ["list_workers", "List workers"],
  ["worker_detail", "Worker detail"],
  ["events_ws", "Event stream"],
  ["create_worker", "Create worker"],
  ["input", "Send input"],
  ["stop", "Stop"],
  ["cancel", "Cancel"],
  ["transcript", "Transcript"],
];

/** True when the runtime can be used as configured: all four answers are yes. */
export function probeGood(r: ProbeResult): boolean {
  return r.reachable && r.authenticated === true && r.identity.status === "match" &&
    r.protocol.compatible;
}

function Support(props: { value: OperationSupport }) {
  return <Badge tone={props.value === "supported" ? "success" : "neutral"}>{props.value}</Badge>;
}

/** The probe's answers. `label` names the runtime (or candidate) in captions. */
export function ProbeResultView(props: { label: string; result: ProbeResult }) {
  const r = props.result;
  const auth = r.authenticated;
  const id = r.identity;
  return (
    <div class="probe-result">
      <p class="row-head">
        <Badge tone={r.protocol.compatible ? "success" : "danger"}>
          {r.protocol.compatible ? "compatible" : "not compatible"}
        </Badge>
        <Badge tone={r.reachable ? "success" : "danger"}>
          {r.reachable ? "reachable" : "not reachable"}
        </Badge>
      </p>
      <dl class="facts probe-answers">
        <dt>Reachable</dt>
        <dd>{r.reachable ? "yes, it answered" : "no answer"}</dd>
        <dt>Authenticated</dt>
        <dd>
          {auth === true
            ? "yes, the token was accepted"
            : auth === false
            ? "no, the runtime refused the token (401/403)"
            : "not asked (no answer)"}
        </dd>
        <dt>Identity</dt>
        <dd>
          {id.status === "match"
            ? (
              <>
                matches <code>{id.observed_runtime_id}</code>
              </>
            )
            : id.status === "mismatch"
            ? (
              <>
                mismatch: it answers as <code>{id.observed_runtime_id ?? "?"}</code>
              </>
            )
            : "unknown"}
        </dd>
        <dt>Protocol</dt>
        <dd>
          {r.protocol.name
            ? `${r.protocol.name}${
              r.protocol.version !== undefined ? `/${r.protocol.version}` : ""
            }`
            : "not reported"} — {r.protocol.basis}
        </dd>
        <dt>Latency</dt>
        <dd>{r.latency_ms === null ? "none (no answer)" : `${Math.round(r.latency_ms)} ms`}</dd>
        <dt>Profiles</dt>
        <dd>{r.observed.profiles.length ? r.observed.profiles.join(", ") : "none reported"}</dd>
      </dl>
      <table class="operations">
        <caption>Operations of {props.label}</caption>
        <thead>
          <tr>
            <th scope="col">Operation</th>
            <th scope="col">Support</th>
          </tr>
        </thead>
        <tbody>
          {OPERATIONS.map(([op, label]) => (
            <tr key={op}>
              <th scope="row">
                {label} <code class="muted">{op}</code>
              </th>
              <td>
                <Support value={r.operations[op]} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Diagnostics items={r.diagnostics} label={`Test diagnostics for ${props.label}`} />
    </div>
  );
}
