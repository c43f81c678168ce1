/**
 * Add a remote runtime connection. The Backend validates; its typed errors
 * are shown next to the field they concern (or above the form when they
 * concern none), and focus moves to the first invalid field. No field takes
 * a raw token: only a reference such as `env:NAME`.
 * @module
 */
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import type { Diagnostic, ErrorCode } from "../../../shared/error_codes.ts";
import { ErrorNotice } from "../components/diagnostics.tsx";

export type AddConnectionFormProps = {
  /** True when the config file does not parse: nothing can be saved. */
  disabled?: boolean;
};

type FieldName = "id" | "display_name" | "endpoint" | "token_ref";
const FIELDS: FieldName[] = ["id", "display_name", "endpoint", "token_ref"];

/** Which field a diagnostic code is about. */
const FIELD_OF: Partial<Record<ErrorCode, FieldName>> = {
  invalid_id: "id",
  duplicate_runtime_id: "id",
  invalid_display_name: "display_name",
  invalid_endpoint: "endpoint",
  invalid_token_ref: "token_ref",
  raw_token_rejected: "token_ref",
};

/** With its leading space, so the label's accessible name reads "Display name (optional)". */
const OPTIONAL = " (optional)";

type FormError = { message: string; code?: string; diagnostics?: Diagnostic[] };

function Field(props: {
  name: FieldName;
  label: string;
  hint: ComponentChildren;
  error?: string;
  required?: boolean;
  disabled?: boolean;
  placeholder?: string;
  inputMode?: "url" | "text";
  inputRef: (el: HTMLInputElement | null) => void;
  onInput: () => void;
}) {
  const id = `add-${props.name}`;
  const describedBy = props.error ? `${id}-error ${id}-hint` : `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>
        {props.label}
        {!props.required && <span class="optional">{OPTIONAL}</span>}
      </label>
      <input
        id={id}
        name={props.name}
        ref={props.inputRef}
        required={props.required}
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

export default function AddConnectionForm(props: AddConnectionFormProps) {
  const [ready, setReady] = useState(false);
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [formError, setFormError] = useState<FormError | null>(null);
  const inputs = useRef<Partial<Record<FieldName, HTMLInputElement | null>>>({});
  const formErrorRef = useRef<HTMLDivElement>(null);
  const focusNext = useRef<FieldName | "form" | null>(null);

  useEffect(() => setReady(true), []);
  // Focus moves right after the render that shows its target.
  useLayoutEffect(() => {
    const target = focusNext.current;
    focusNext.current = null;
    if (target === "form") formErrorRef.current?.focus();
    else if (target) inputs.current[target]?.focus();
  });

  const clear = (name: FieldName) => () => {
    if (errors[name]) setErrors({ ...errors, [name]: undefined });
  };

  async function submit(e: Event) {
    e.preventDefault();
    if (saving || props.disabled) return;
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const value = (k: FieldName) => String(data.get(k) ?? "");
    const id = value("id").trim();
    const req: { id: string; endpoint: string; display_name?: string; token_ref?: string } = {
      id,
      endpoint: value("endpoint").trim(),
    };
    if (value("display_name").trim()) req.display_name = value("display_name");
    if (value("token_ref").trim()) req.token_ref = value("token_ref").trim();
    setSaving(true);
    setErrors({});
    setFormError(null);
    try {
      await new BrowserClient().addConnection(req);
      location.assign(`${location.pathname}?saved=added&id=${encodeURIComponent(id)}`);
    } catch (err) {
      setSaving(false);
      if (!(err instanceof ApiClientError)) {
        setFormError({ message: "The connection could not be saved. Try again." });
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
        if (f) byField[f] ??= d.message;
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
  }

  const field = (name: FieldName) => ({
    name,
    error: errors[name],
    disabled: props.disabled,
    inputRef: (el: HTMLInputElement | null) => (inputs.current[name] = el),
    onInput: clear(name),
  });

  return (
    <form class="stack" noValidate onSubmit={submit} aria-describedby="add-intro">
      <p class="hint" id="add-intro">
        {props.disabled
          ? "Adding is unavailable until the config file parses again."
          : "Saved to the Backend's config file; the Backend connects to it after a restart."}
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
        required
        hint="Lowercase letters, digits, _ and -. Must equal the runtime's own --id."
      />
      <Field
        {...field("display_name")}
        label="Display name"
        hint="Shown in lists; up to 80 characters. Defaults to the id."
      />
      <Field
        {...field("endpoint")}
        label="Endpoint"
        required
        inputMode="url"
        placeholder="http://10.0.0.5:8790"
        hint="The runtime's base URL: http:// or https://, no user name, query or fragment."
      />
      <Field
        {...field("token_ref")}
        label="Token reference"
        placeholder="env:NAME"
        hint={
          <>
            <code>env:NAME</code>{" "}
            — the name of an environment variable of the Backend. The token itself stays in the
            Backend's environment; never type a token here.
          </>
        }
      />
      <div class="actions">
        <button type="submit" disabled={!ready || saving || props.disabled} aria-busy={saving}>
          {saving ? "Saving…" : "Add connection"}
        </button>
      </div>
    </form>
  );
}
