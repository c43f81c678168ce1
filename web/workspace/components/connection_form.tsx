/**
 * The add and edit form of a runtime connection, with "Save & test": the
 * candidate is probed first (nothing saved), and it is saved at once only
 * when all four answers are yes; otherwise the answers are shown and the
 * admin chooses "Save anyway" or goes back to editing. The Backend validates;
 * its typed errors are shown next to the field they concern and focus moves
 * to the first invalid field. No field takes a raw token, only a reference.
 * @module
 */
import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import type { Diagnostic, ErrorCode } from "../../../shared/error_codes.ts";
import type { ConnectionRow, ProbeResult } from "../../../shared/settings_dto.ts";
import { ErrorNotice } from "./diagnostics.tsx";
import { probeGood, ProbeResultView } from "./probe_result.tsx";

type FieldName = "id" | "display_name" | "endpoint" | "token_ref";
const FIELDS: FieldName[] = ["id", "display_name", "endpoint", "token_ref"];

/** Which field a diagnostic code is about. */
const FIELD_OF: Partial<Record<ErrorCode, FieldName>> = {
  invalid_id: "id",
  duplicate_runtime_id: "id",
  invalid_display_name: "display_name",
  invalid_endpoint: "endpoint",
  invalid_token_ref: "token_ref",
  token_ref_not_allowed: "token_ref",
  raw_token_rejected: "token_ref",
};

/** With its leading space, so the label's accessible name reads "Display name (optional)". */
const OPTIONAL = " (optional)";

type FormError = { message: string; code?: string; diagnostics?: Diagnostic[] };
type Values = Record<FieldName, string>;

export interface ConnectionFormProps {
  /** Prefix of every element id: "add", or "edit-<id>" (several edit forms may be open). */
  prefix: string;
  /** The row being edited; absent when adding. */
  row?: ConnectionRow;
  /** True when the config file does not parse: nothing can be saved. */
  disabled?: boolean;
  /** False until hydrated (server render): the submit button waits for the script. */
  interactive?: boolean;
  /** Saved and applied; `probe` is the test that preceded the save. */
  onSaved: (row: ConnectionRow, probe: ProbeResult) => void;
  onCancel?: () => void;
}

function Field(props: {
  prefix: string;
  name: FieldName;
  label: string;
  hint: ComponentChildren;
  value?: string;
  error?: string;
  required?: boolean;
  readOnly?: boolean;
  disabled?: boolean;
  placeholder?: string;
  inputMode?: "url" | "text";
  inputRef: (el: HTMLInputElement | null) => void;
  onInput: () => void;
}) {
  const id = `${props.prefix}-${props.name}`;
  const describedBy = props.error ? `${id}-error ${id}-hint` : `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>
        {props.label}
        {!props.required && !props.readOnly && <span class="optional">{OPTIONAL}</span>}
      </label>
      <input
        id={id}
        name={props.name}
        ref={props.inputRef}
        defaultValue={props.value}
        required={props.required}
        readOnly={props.readOnly}
        disabled={props.disabled}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        autoComplete="off"
        spellcheck={false}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy}
        onInput={props.onInput}
      />
      {props.error && <p class="error" id={`${id}-error`}>{props.error}</p>}
      <p class="hint" id={`${id}-hint`}>{props.hint}</p>
    </div>
  );
}

type Step =
  | { kind: "editing" }
  | { kind: "testing" }
  | { kind: "tested"; probe: ProbeResult; values: Values }
  | { kind: "saving"; probe: ProbeResult };

export function ConnectionForm(props: ConnectionFormProps) {
  const row = props.row;
  const editing = row !== undefined;
  const [step, setStep] = useState<Step>({ kind: "editing" });
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formError, setFormError] = useState<FormError | null>(null);
  const inputs = useRef<Partial<Record<FieldName, HTMLInputElement | null>>>({});
  const formErrorRef = useRef<HTMLDivElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const resultRef = useRef<HTMLDivElement>(null);
  const focusNext = useRef<FieldName | "form" | "result" | null>(null);
  const client = new BrowserClient();
  const busy = step.kind === "testing" || step.kind === "saving";

  // Focus moves right after the render that shows its target.
  useLayoutEffect(() => {
    const target = focusNext.current;
    focusNext.current = null;
    if (target === "form") formErrorRef.current?.focus();
    else if (target === "result") resultRef.current?.focus();
    else if (target) inputs.current[target]?.focus();
  });

  const clear = (name: FieldName) => () => {
    if (errors[name]) setErrors({ ...errors, [name]: undefined });
    // Changed settings need a new test: the shown answers are about the old ones.
    if (step.kind === "tested") setStep({ kind: "editing" });
  };

  /** Shows a failed call's typed errors next to their fields, the rest above the form. */
  function showError(err: unknown, what: string) {
    setStep({ kind: "editing" });
    if (!(err instanceof ApiClientError)) {
      setFormError({ message: `The connection could not be ${what}. Try again.` });
      focusNext.current = "form";
      return;
    }
    const items = err.diagnostics.length
      ? err.diagnostics
      : [{ code: err.code, severity: "error" as const, message: err.message }];
    const byField: Partial<Record<FieldName, string>> = {};
    const rest: Diagnostic[] = [];
    for (const d of items) {
      const f = FIELD_OF[d.code];
      if (f && !(editing && f === "id")) byField[f] ??= d.message;
      else rest.push(d);
    }
    setErrors(byField);
    if (rest.length) {
      setFormError({
        message: rest[0].message,
        code: rest[0].code,
        diagnostics: rest.length > 1 ? rest.slice(1) : undefined,
      });
    }
    focusNext.current = FIELDS.find((f) => byField[f]) ?? "form";
  }

  async function save(values: Values, probe: ProbeResult) {
    setStep({ kind: "saving", probe });
    try {
      let saved;
      if (row) {
        // Only what changed; clearing a token reference sends "" (removes it).
        const req: { endpoint?: string; display_name?: string; token_ref?: string } = {};
        if (values.endpoint !== (row.endpoint ?? "")) req.endpoint = values.endpoint;
        if (values.display_name !== row.display_name) req.display_name = values.display_name;
        if (values.token_ref !== (row.token_ref ?? "")) req.token_ref = values.token_ref;
        saved = await client.call("connection.edit", { params: row, body: req });
      } else {
        const req: { id: string; endpoint: string; display_name?: string; token_ref?: string } = {
          id: values.id,
          endpoint: values.endpoint,
        };
        if (values.display_name.trim()) req.display_name = values.display_name;
        if (values.token_ref) req.token_ref = values.token_ref;
        saved = await client.call("connection.add", { body: req });
      }
      setStep({ kind: "editing" });
      if (!row) formRef.current?.reset();
      props.onSaved(saved.connection, probe);
    } catch (err) {
      showError(err, "saved");
    }
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (busy || props.disabled) return;
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const value = (k: FieldName) => String(data.get(k) ?? "");
    const values: Values = {
      id: row ? row.id : value("id").trim(),
      display_name: value("display_name").trim() ? value("display_name") : "",
      endpoint: value("endpoint").trim(),
      token_ref: value("token_ref").trim(),
    };
    if (row && !values.display_name) values.display_name = row.display_name;
    setStep({ kind: "testing" });
    setErrors({});
    setFormError(null);
    let probe: ProbeResult;
    try {
      probe = await client.call("connection.test_candidate", {
        body: {
          id: values.id,
          endpoint: values.endpoint,
          ...(values.token_ref ? { token_ref: values.token_ref } : {}),
        },
      });
    } catch (err) {
      showError(err, "tested");
      return;
    }
    if (probeGood(probe)) {
      await save(values, probe);
    } else {
      setStep({ kind: "tested", probe, values });
      focusNext.current = "result";
    }
  }

  const field = (name: FieldName) => ({
    prefix: props.prefix,
    name,
    error: errors[name],
    disabled: props.disabled,
    inputRef: (el: HTMLInputElement | null) => (inputs.current[name] = el),
    onInput: clear(name),
  });
  const label = row ? row.display_name : "the new connection";
  const tested = step.kind === "tested" ? step : null;

  return (
    <form
      ref={formRef}
      class="stack connection-form"
      noValidate
      onSubmit={submit}
      aria-describedby={`${props.prefix}-intro`}
      onKeyDown={(e) => {
        if (e.key === "Escape" && props.onCancel && !busy) props.onCancel();
      }}
    >
      <p class="hint" id={`${props.prefix}-intro`}>
        {props.disabled
          ? "Saving is unavailable until the config file parses again."
          : "Save & test checks the runtime first; the connection applies at once, no restart."}
      </p>
      {formError && (
        <div tabIndex={-1} ref={formErrorRef} class="form-error">
          <ErrorNotice
            title="The connection was not saved"
            message={formError.message}
            code={formError.code}
            diagnostics={formError.diagnostics}
          />
        </div>
      )}
      <Field
        {...field("id")}
        label="Id"
        required={!row}
        readOnly={editing}
        value={row?.id}
        hint={editing
          ? "The id never changes; delete and add to use another."
          : "Lowercase letters, digits, _ and -. Must equal the runtime's own --id."}
      />
      <Field
        {...field("display_name")}
        label="Display name"
        value={row?.display_name}
        hint="Shown in lists; up to 80 characters. Defaults to the id."
      />
      <Field
        {...field("endpoint")}
        label="Endpoint"
        required
        inputMode="url"
        value={row?.endpoint ?? undefined}
        placeholder="http://10.0.0.5:8790"
        hint="The runtime's base URL: http:// or https://, no user name, query or fragment."
      />
      <Field
        {...field("token_ref")}
        label="Token reference"
        value={row?.token_ref ?? undefined}
        placeholder="env:YOI_NAME"
        hint={
          <>
            <code>env:YOI_NAME</code>{" "}
            — an environment variable of the Backend whose name starts with <code>YOI_</code>{" "}
            (or is listed in <code>token_env_allow</code>), or <code>file:NAME</code>{" "}
            — a chmod-600 file in{" "}
            <code>.yoi/secrets/</code>. The token itself stays with the Backend; never type a token
            here.
          </>
        }
      />
      {tested && (
        <div
          class="notice warning candidate"
          tabIndex={-1}
          ref={resultRef}
          role="group"
          aria-labelledby={`${props.prefix}-tested`}
        >
          <strong id={`${props.prefix}-tested`}>Not saved: the test found a problem</strong>
          <ProbeResultView label={label} result={tested.probe} />
          <div class="actions">
            <button
              type="button"
              class="danger"
              onClick={() => void save(tested.values, tested.probe)}
            >
              Save anyway
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setStep({ kind: "editing" });
                focusNext.current = "endpoint";
              }}
            >
              Change settings
            </button>
          </div>
        </div>
      )}
      <div class="actions">
        <button
          type="submit"
          disabled={busy || props.disabled || props.interactive === false || tested !== null}
          aria-busy={busy}
        >
          {step.kind === "testing"
            ? "Testing…"
            : step.kind === "saving"
            ? "Saving…"
            : "Save & test"}
        </button>
        {props.onCancel && (
          <button type="button" class="secondary" disabled={busy} onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
