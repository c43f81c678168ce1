/**
 * One row of the Runtime Connections page: live state badge, latency,
 * worker count, "checked 12 s ago", diagnostics, health history, and the
 * row's actions (Test, Edit, Delete). Rendered on the server and inside the
 * live list island, so the first paint and every later update look the same.
 * @module
 */
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { Copyable } from "./copy_button.tsx";
import type { Diagnostic } from "../../../shared/error_codes.ts";
import type { ConnectionRow, ProbeResult } from "../../../shared/settings_dto.ts";
import { Badge } from "./badge.tsx";
import { ConnectionForm } from "./connection_form.tsx";
import { DeleteControl } from "./delete_control.tsx";
import { Diagnostics, ErrorNotice } from "./diagnostics.tsx";
import { ProbeResultView } from "./probe_result.tsx";
import { RelativeTime } from "./relative_time.tsx";
import { STATE_MEANING, StateBadge } from "./state_badge.tsx";

/** A Test run's state, kept by the list so that "Test all" and a row's Test share it. */
export type ProbeState =
  | { kind: "running" }
  | { kind: "done"; result: ProbeResult }
  | { kind: "error"; message: string; code?: string; diagnostics?: Diagnostic[] };

export interface ConnectionCardProps {
  row: ConnectionRow;
  /** Current time (ms) for relative times; the list ticks it. */
  now: number;
  /** True once hydrated: absolute times in the browser's time zone. */
  local: boolean;
  /** False while the config file does not parse: no edit or delete. */
  configOk: boolean;
  /** False on the server: buttons are disabled until hydrated. */
  interactive: boolean;
  probe?: ProbeState;
  onTest: (id: string) => void;
  onSaved: (row: ConnectionRow, probe: ProbeResult) => void;
  onDeleted: (id: string) => void;
}

/** The last check's round trip; a check that got no answer has none. */
function ms(v: number | null, checked: boolean): string {
  return v !== null ? `${Math.round(v)} ms` : checked ? "no answer" : "not checked yet";
}

export function ConnectionCard(props: ConnectionCardProps) {
  const r = props.row;
  const [editing, setEditing] = useState(false);
  const editRef = useRef<HTMLButtonElement>(null);
  const focusEdit = useRef(false);
  useLayoutEffect(() => {
    if (focusEdit.current) editRef.current?.focus();
    focusEdit.current = false;
  });
  const closeEdit = () => {
    setEditing(false);
    focusEdit.current = true;
  };
  const headingId = `rc-${r.id}`;
  const running = props.probe?.kind === "running";
  const history = r.health_history ?? [];
  return (
    <section class="card connection" aria-labelledby={headingId} data-state={r.state}>
      <div class="row-head">
        <h2 id={headingId}>{r.display_name}</h2>
        <Copyable value={r.id} label={`runtime id ${r.id}`} />
        <StateBadge state={r.state} />
        {r.built_in && <Badge tone="accent">built-in</Badge>}
        {!r.built_in && !r.persisted && <Badge>not in the config file</Badge>}
        {!r.built_in && !r.active && <Badge>not active</Badge>}
      </div>
      <dl class="facts">
        <dt>State</dt>
        <dd>{STATE_MEANING[r.state]}</dd>
        <dt>Endpoint</dt>
        <dd>
          {r.endpoint
            ? <Copyable value={r.endpoint} label={`endpoint of ${r.display_name}`} />
            : "none (same process)"}
        </dd>
        {!r.built_in && (
          <>
            <dt>Token</dt>
            <dd>
              {r.token_ref
                ? (
                  <>
                    <code>{r.token_ref}</code> (read from the Backend's environment)
                  </>
                )
                : "none"}
            </dd>
          </>
        )}
        <dt>Latency</dt>
        <dd class="latency">{ms(r.latency_ms, r.last_checked_at !== null)}</dd>
        <dt>Workers</dt>
        <dd class="worker-count">{r.worker_count ?? "unknown"}</dd>
        <dt>Checked</dt>
        <dd class="checked">
          {r.last_checked_at
            ? <RelativeTime iso={r.last_checked_at} now={props.now} local={props.local} />
            : "not yet"}
          {r.last_ok_at && r.last_ok_at !== r.last_checked_at && (
            <>
              {"; last ready "}
              <RelativeTime iso={r.last_ok_at} now={props.now} local={props.local} />
            </>
          )}
        </dd>
      </dl>
      <Diagnostics items={r.diagnostics} label={`Diagnostics for ${r.display_name}`} />
      {history.length > 0 && (
        <details class="history">
          <summary>
            Health history ({history.length}{" "}
            {history.length === 1 ? "check" : "checks"}, newest first)
          </summary>
          <ol>
            {history.map((h) => (
              <li key={h.at}>
                <StateBadge state={h.state} />{" "}
                <RelativeTime iso={h.at} now={props.now} local={props.local} />
                {h.latency_ms !== null && `, ${Math.round(h.latency_ms)} ms`}
                {h.code && (
                  <>
                    {", "}
                    <code class="muted">{h.code}</code>
                  </>
                )}
              </li>
            ))}
          </ol>
        </details>
      )}
      <div class="actions">
        <button
          type="button"
          class="secondary"
          disabled={!props.interactive}
          aria-disabled={running ? "true" : undefined}
          onClick={() => !running && props.onTest(r.id)}
        >
          {running ? "Testing…" : "Test"}
          <span class="visually-hidden">{` ${r.display_name}`}</span>
        </button>
        {!r.built_in && !editing && (
          <button
            type="button"
            class="secondary"
            ref={editRef}
            disabled={!props.interactive || !props.configOk || !r.persisted}
            onClick={() => setEditing(true)}
          >
            Edit<span class="visually-hidden">{` ${r.display_name}`}</span>
          </button>
        )}
        {r.deletable && props.configOk && (
          <DeleteControl
            id={r.id}
            display_name={r.display_name}
            disabled={!props.interactive}
            onDeleted={props.onDeleted}
          />
        )}
      </div>
      {editing && (
        <div class="edit" role="group" aria-label={`Edit ${r.display_name}`}>
          <ConnectionForm
            prefix={`edit-${r.id}`}
            row={r}
            disabled={!props.configOk}
            onCancel={closeEdit}
            onSaved={(row, probe) => {
              closeEdit();
              props.onSaved(row, probe);
            }}
          />
        </div>
      )}
      <div class="probe" aria-live="polite" aria-busy={running}>
        {props.probe?.kind === "done" && (
          <ProbeResultView label={r.id} result={props.probe.result} />
        )}
        {props.probe?.kind === "error" && (
          <ErrorNotice
            title="The test could not be run"
            message={props.probe.message}
            code={props.probe.code}
            diagnostics={props.probe.diagnostics}
          />
        )}
      </div>
    </section>
  );
}
