/**
 * Delete a connection with an inline confirmation (no `window.confirm`) that
 * states how many workers that are not stopped run there, read from
 * `GET /api/runtimes/{id}/workers` when the button is pressed. When the
 * Backend still refuses with 409 `runtime_in_use` (a worker appeared, or the
 * count could not be read), it offers "Delete anyway" (`?force=true`).
 * Escape cancels; focus lands on Cancel in each question and back on Delete.
 * @module
 */
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import { ErrorNotice } from "./diagnostics.tsx";

export interface DeleteControlProps {
  id: string;
  display_name: string;
  /** True until hydrated. */
  disabled?: boolean;
  onDeleted: (id: string) => void;
}

type Step =
  | { kind: "idle" }
  | { kind: "counting" }
  | { kind: "confirm"; count: number | null; why?: string }
  | { kind: "in_use"; message: string }
  | { kind: "deleting"; force: boolean };

/** "2 workers that are not stopped run there." — the sentence of the confirmation. */
export function workersSentence(count: number | null, why?: string): string {
  if (count === null) {
    return `How many workers run there could not be read${why ? `: ${why}` : "."}`;
  }
  if (count === 0) return "No workers run there.";
  return `${count} ${count === 1 ? "worker that is" : "workers that are"} not stopped ${
    count === 1 ? "runs" : "run"
  } there; ${count === 1 ? "it" : "they"} can no longer be reached through this Backend.`;
}

export function DeleteControl(props: DeleteControlProps) {
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [error, setError] = useState<{ message: string; code?: string } | null>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const focusNext = useRef<"delete" | "cancel" | null>(null);

  useLayoutEffect(() => {
    const target = focusNext.current;
    focusNext.current = null;
    if (target === "delete") deleteRef.current?.focus();
    if (target === "cancel") cancelRef.current?.focus();
  });

  async function ask() {
    setError(null);
    setStep({ kind: "counting" });
    let next: Step;
    try {
      const { workers } = await new BrowserClient().call("worker.list", {
        params: { runtime_id: props.id },
      });
      next = { kind: "confirm", count: workers.filter((w) => w.status !== "stopped").length };
    } catch (e) {
      next = { kind: "confirm", count: null, why: e instanceof ApiClientError ? e.message : "" };
    }
    setStep(next);
    focusNext.current = "cancel";
  }
  const cancel = () => {
    setStep({ kind: "idle" });
    focusNext.current = "delete";
  };
  async function remove(force: boolean) {
    if (step.kind === "deleting") return;
    setStep({ kind: "deleting", force });
    try {
      await new BrowserClient().call("connection.delete", {
        params: props,
        query: { force: force ? "true" : undefined },
      });
      props.onDeleted(props.id);
    } catch (e) {
      if (e instanceof ApiClientError && e.code === "runtime_in_use") {
        setStep({ kind: "in_use", message: e.message });
        focusNext.current = "cancel";
        return;
      }
      setError(
        e instanceof ApiClientError
          ? { message: e.message, code: e.code }
          : { message: "The connection could not be deleted. Try again." },
      );
      setStep({ kind: "idle" });
      focusNext.current = "delete";
    }
  }

  const questionId = `delete-${props.id}-question`;
  const deleting = step.kind === "deleting";
  return (
    <div class="delete-connection">
      {step.kind === "idle" || step.kind === "counting"
        ? (
          <button
            type="button"
            class="secondary"
            ref={deleteRef}
            disabled={props.disabled}
            aria-disabled={step.kind === "counting" ? "true" : undefined}
            onClick={() => step.kind === "idle" && void ask()}
          >
            {step.kind === "counting" ? "Checking workers…" : "Delete"}
            <span class="visually-hidden">{` ${props.display_name}`}</span>
          </button>
        )
        : (
          <div
            class="notice warning confirm"
            role="group"
            aria-labelledby={questionId}
            aria-describedby={`${questionId}-detail`}
            onKeyDown={(e) => {
              if (e.key === "Escape" && !deleting) cancel();
            }}
          >
            <strong id={questionId}>
              {step.kind === "in_use" || (deleting && step.force)
                ? `Delete ${props.display_name} although workers run there?`
                : `Delete ${props.display_name}?`}
            </strong>
            <p id={`${questionId}-detail`}>
              {step.kind === "confirm"
                ? workersSentence(step.count, step.why)
                : step.kind === "in_use"
                ? `${step.message} Deleting anyway removes the connection; those workers keep running on the runtime.`
                : "Deleting…"}
            </p>
            <div class="actions">
              {step.kind === "in_use" || (deleting && step.force)
                ? (
                  <button
                    type="button"
                    class="danger"
                    aria-disabled={deleting ? "true" : undefined}
                    onClick={() => void remove(true)}
                  >
                    {deleting ? "Deleting…" : "Delete anyway"}
                  </button>
                )
                : (
                  <button
                    type="button"
                    class="danger"
                    aria-disabled={deleting ? "true" : undefined}
                    onClick={() => void remove(false)}
                  >
                    {deleting ? "Deleting…" : "Confirm"}
                  </button>
                )}
              <button
                type="button"
                class="secondary"
                ref={cancelRef}
                disabled={deleting}
                onClick={cancel}
              >
                Cancel
              </button>
            </div>
          </div>
        )}
      {error && (
        <ErrorNotice
          title="The connection was not deleted"
          message={error.message}
          code={error.code}
        />
      )}
    </div>
  );
}
