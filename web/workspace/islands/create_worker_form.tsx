/**
 * The New worker form: runtime choices from `GET /api/runtimes` (those that
 * cannot create workers are shown disabled with the reason), the chosen
 * runtime's profiles, an optional display name. Creates the worker through
 * the Backend and opens its console.
 * @module
 */
import { useRef, useState } from "preact/hooks";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import type { Diagnostic, ErrorCode } from "../../../shared/error_codes.ts";
import { Badge, statusTone } from "../components/badge.tsx";
import { ErrorNotice } from "../components/diagnostics.tsx";
import { consoleHref } from "../components/format.ts";

/** What the form needs of one `GET /api/runtimes` entry. */
export interface RuntimeChoice {
  runtime_id: string;
  display_name: string;
  kind: "embedded" | "remote";
  status: string;
  can_create_worker: boolean;
  profiles: string[];
  diagnostics: Diagnostic[];
}

export interface CreateWorkerFormProps extends Record<string, unknown> {
  runtimes: RuntimeChoice[];
  /** Runtime to preselect (e.g. from `?runtime=`), if it can create workers. */
  selected?: string;
}

const DISPLAY_NAME_MAX = 80;
// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a runtime cannot create workers, as a sentence. */
export function unavailableReason(r: RuntimeChoice): string {
  const diag = r.diagnostics.find((d) => d.severity === "error") ?? r.diagnostics[0];
  if (diag) return diag.message;
  if (r.status !== "running") return `It is ${r.status}.`;
  return "It does not offer worker creation.";
}

function requestId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // Not a secure context (e.g. a LAN host over http): build one from random bytes.
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

interface Failure {
  message: string;
  code?: ErrorCode;
  diagnostics?: Diagnostic[];
}

export default function CreateWorkerForm(props: CreateWorkerFormProps) {
  const usable = props.runtimes.filter((r) => r.can_create_worker);
  const initial = usable.find((r) => r.runtime_id === props.selected) ?? usable[0];
  const [runtimeId, setRuntimeId] = useState<string>(initial?.runtime_id ?? "");
  const [profile, setProfile] = useState<string>("");
  const [name, setName] = useState("");
  const [first, setFirst] = useState("");
  const [nameError, setNameError] = useState("");
  const [error, setError] = useState<Failure | null>(null);
  const [pending, setPending] = useState(false);
  // One request id per distinct request: a retry of the same request is idempotent.
  const reqId = useRef<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);

  const runtime = props.runtimes.find((r) => r.runtime_id === runtimeId);
  const changed = () => {
    reqId.current = null;
    setError(null);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (pending || !runtime?.can_create_worker) return;
    const display = name.trim();
    if (CONTROL_CHARS.test(display)) {
      setNameError("The display name must not contain control characters.");
      nameRef.current?.focus();
      return;
    }
    if (display.length > DISPLAY_NAME_MAX) {
      setNameError(`The display name must be at most ${DISPLAY_NAME_MAX} characters.`);
      nameRef.current?.focus();
      return;
    }
    setNameError("");
    setError(null);
    setPending(true);
    reqId.current ??= requestId();
    try {
      const { worker } = await new BrowserClient().call("worker.create", {
        params: runtime,
        body: {
          ...(profile ? { profile } : {}),
          ...(display ? { display_name: display } : {}),
          // The first instruction starts the first turn with the create, atomically.
          ...(first.trim() ? { input: first } : {}),
          request_id: reqId.current,
        },
      });
      location.assign(consoleHref(worker.runtime_id, worker.worker_id));
    } catch (err) {
      setPending(false);
      if (err instanceof ApiClientError) {
        if (err.code === "invalid_request" && /display_name/.test(err.message)) {
          setNameError(err.message);
        }
        setError({ message: err.message, code: err.code, diagnostics: err.diagnostics });
      } else {
        setError({ message: "The worker could not be created." });
      }
    }
  };

  return (
    <form class="stack" onSubmit={submit} aria-describedby={error ? "create-error" : undefined}>
      <fieldset class="runtime-choices">
        <legend>Runtime</legend>
        {props.runtimes.length === 0 && <p class="muted">No runtimes are registered.</p>}
        {props.runtimes.map((r) => {
          const id = `rt-${r.runtime_id}`;
          const reasonId = `${id}-reason`;
          return (
            <div class={r.can_create_worker ? "choice" : "choice disabled"} key={r.runtime_id}>
              <input
                type="radio"
                name="runtime"
                id={id}
                value={r.runtime_id}
                checked={r.runtime_id === runtimeId}
                disabled={!r.can_create_worker || pending}
                aria-describedby={reasonId}
                onChange={() => {
                  setRuntimeId(r.runtime_id);
                  setProfile("");
                  changed();
                }}
              />
              <label for={id}>
                <span class="choice-title">
                  {r.display_name} <code>{r.runtime_id}</code>
                </span>{" "}
                <Badge tone={r.kind === "embedded" ? "accent" : "neutral"}>{r.kind}</Badge>{" "}
                <Badge tone={statusTone(r.status)}>{r.status}</Badge>
              </label>
              <span class="choice-detail" id={reasonId}>
                {r.can_create_worker
                  ? `Profiles: ${r.profiles.length ? r.profiles.join(", ") : "none reported"}.`
                  : `Cannot create workers. ${unavailableReason(r)}`}
              </span>
            </div>
          );
        })}
      </fieldset>

      <div class="field">
        <label for="profile">Profile</label>
        <select
          id="profile"
          value={profile}
          disabled={!runtime?.can_create_worker || pending}
          aria-describedby="profile-hint"
          onChange={(e) => {
            setProfile(e.currentTarget.value);
            changed();
          }}
        >
          <option value="">Runtime default</option>
          {(runtime?.profiles ?? []).map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <span class="hint" id="profile-hint">
          {runtime
            ? `What a turn does is set by the profile in ${runtime.display_name}'s own config.`
            : "Choose a runtime first."}
        </span>
      </div>

      <div class="field">
        <label for="display-name">
          Display name <span class="muted">(optional)</span>
        </label>
        <input
          id="display-name"
          ref={nameRef}
          type="text"
          value={name}
          maxLength={DISPLAY_NAME_MAX}
          autocomplete="off"
          disabled={pending}
          aria-invalid={nameError ? "true" : undefined}
          aria-describedby={nameError ? "display-name-error" : "display-name-hint"}
          onInput={(e) => {
            setName(e.currentTarget.value);
            setNameError("");
            changed();
          }}
        />
        {nameError
          ? <span class="error" id="display-name-error">{nameError}</span>
          : (
            <span class="hint" id="display-name-hint">
              Up to {DISPLAY_NAME_MAX}{" "}
              characters. Without one, the runtime names it after the profile.
            </span>
          )}
      </div>

      <div class="field">
        <label for="first-input">
          First instruction <span class="muted">(optional)</span>
        </label>
        <textarea
          id="first-input"
          rows={3}
          value={first}
          disabled={pending}
          aria-describedby="first-input-hint"
          onInput={(e) => {
            setFirst(e.currentTarget.value);
            changed();
          }}
        />
        <span class="hint" id="first-input-hint">
          Sent as the worker's first turn as it is created; the console opens on it.
        </span>
      </div>

      {error && (
        <div id="create-error">
          <ErrorNotice
            title="The worker was not created"
            message={error.message}
            code={error.code}
            diagnostics={error.diagnostics}
          />
        </div>
      )}
      {usable.length === 0 && (
        <div class="notice warning" role="status">
          <strong>No runtime can create workers right now</strong>
          Check the reasons above, or review{" "}
          <a href="/settings/runtime-connections">Runtime Connections</a>.
        </div>
      )}

      <div class="actions">
        <button type="submit" disabled={pending || !runtime?.can_create_worker}>
          {pending ? "Creating…" : "Create worker"}
        </button>
        <a href="/workers">Cancel</a>
      </div>
    </form>
  );
}
