/**
 * Test a connection: runs the Backend's negotiation probe and shows what it
 * found — compatibility and its basis, reachability, the operations matrix
 * and diagnostics. Errors are sentences, never raw JSON. Nothing is saved.
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import type { OperationSupport, ProbeResult } from "../../../shared/settings_dto.ts";
import type { Diagnostic } from "../../../shared/error_codes.ts";
import { Badge } from "../components/badge.tsx";
import { Diagnostics, ErrorNotice } from "../components/diagnostics.tsx";

export type TestConnectionProps = { id: string };

type State =
  | { kind: "idle" }
  | { kind: "running" }
  | { kind: "done"; result: ProbeResult }
  | { kind: "error"; message: string; code?: string; diagnostics?: Diagnostic[] };

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

function Support(props: { value: OperationSupport }) {
  return <Badge tone={props.value === "supported" ? "success" : "neutral"}>{props.value}</Badge>;
}

function Result(props: { id: string; result: ProbeResult }) {
  const r = props.result;
  const o = r.observed;
  return (
    <div class="probe-result">
      <p class="row-head">
        <Badge tone={r.protocol.compatible ? "success" : "danger"}>
          {r.protocol.compatible ? "compatible" : "not compatible"}
        </Badge>
        <Badge tone={r.reachable ? "success" : "danger"}>
          {r.reachable ? "reachable" : "not reachable"}
        </Badge>
        <span class="muted">
          checked <time dateTime={r.checked_at}>{r.checked_at}</time>
        </span>
      </p>
      <dl class="facts">
        <dt>Basis</dt>
        <dd>{r.protocol.basis}</dd>
        <dt>Protocol</dt>
        <dd>
          {r.protocol.name
            ? `${r.protocol.name}${
              r.protocol.version !== undefined ? `/${r.protocol.version}` : ""
            }`
            : "not reported"}
        </dd>
        <dt>Runtime reports</dt>
        <dd>
          {o.runtime_id
            ? (
              <>
                <code>{o.runtime_id}</code>
                {o.display_name && ` “${o.display_name}”`}
                {o.status && `, ${o.status}`}
              </>
            )
            : "nothing"}
        </dd>
        <dt>Profiles</dt>
        <dd>{o.profiles.length ? o.profiles.join(", ") : "none reported"}</dd>
      </dl>
      <table class="operations">
        <caption>Operations of {props.id}</caption>
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
      <Diagnostics items={r.diagnostics} label={`Test diagnostics for ${props.id}`} />
    </div>
  );
}

export default function TestConnection(props: TestConnectionProps) {
  const [ready, setReady] = useState(false);
  const [state, setState] = useState<State>({ kind: "idle" });
  useEffect(() => setReady(true), []);
  const running = state.kind === "running";

  async function run() {
    if (running) return;
    setState({ kind: "running" });
    try {
      setState({ kind: "done", result: await new BrowserClient().testConnection(props.id) });
    } catch (e) {
      setState(
        e instanceof ApiClientError
          ? { kind: "error", message: e.message, code: e.code, diagnostics: e.diagnostics }
          : { kind: "error", message: "The test could not be run. Try again." },
      );
    }
  }

  return (
    <div class="probe">
      <div class="actions">
        <button
          type="button"
          class="secondary"
          disabled={!ready}
          aria-disabled={running ? "true" : undefined}
          onClick={run}
        >
          {running ? "Testing…" : "Test connection"}
          <span class="visually-hidden">{` ${props.id}`}</span>
        </button>
      </div>
      <div aria-live="polite" aria-busy={running}>
        {state.kind === "done" && <Result id={props.id} result={state.result} />}
        {state.kind === "error" && (
          <ErrorNotice
            title="The test could not be run"
            message={state.message}
            code={state.code}
            diagnostics={state.diagnostics}
          />
        )}
      </div>
    </div>
  );
}
