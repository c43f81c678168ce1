/**
 * Delete a connection, with an inline confirmation step (no `window.confirm`):
 * "Delete <name>?" with Confirm and Cancel; Escape cancels. On success the
 * page reloads without the row and with the "restart to apply" notice.
 * @module
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import { ErrorNotice } from "../components/diagnostics.tsx";

export type DeleteConnectionProps = { id: string; display_name: string };

type Step = "idle" | "confirm" | "deleting";

export default function DeleteConnection(props: DeleteConnectionProps) {
  const [ready, setReady] = useState(false);
  const [step, setStep] = useState<Step>("idle");
  const [error, setError] = useState<{ message: string; code?: string } | null>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const focusNext = useRef<"delete" | "cancel" | null>(null);

  useEffect(() => setReady(true), []);
  // Focus moves right after the render that shows its target.
  useLayoutEffect(() => {
    const target = focusNext.current;
    focusNext.current = null;
    if (target === "delete") deleteRef.current?.focus();
    if (target === "cancel") cancelRef.current?.focus();
  });

  const ask = () => {
    setError(null);
    setStep("confirm");
    focusNext.current = "cancel";
  };
  const cancel = () => {
    setStep("idle");
    focusNext.current = "delete";
  };
  async function confirm() {
    if (step === "deleting") return;
    setStep("deleting");
    try {
      await new BrowserClient().deleteConnection(props.id);
      location.assign(`${location.pathname}?saved=deleted&id=${encodeURIComponent(props.id)}`);
    } catch (e) {
      setError(
        e instanceof ApiClientError
          ? { message: e.message, code: e.code }
          : { message: "The connection could not be deleted. Try again." },
      );
      setStep("idle");
      focusNext.current = "delete";
    }
  }

  const questionId = `delete-${props.id}-question`;
  return (
    <div class="delete-connection">
      {step === "idle"
        ? (
          <button
            type="button"
            class="secondary"
            ref={deleteRef}
            disabled={!ready}
            onClick={ask}
          >
            Delete<span class="visually-hidden">{` ${props.display_name}`}</span>
          </button>
        )
        : (
          <div
            class="confirm actions"
            role="group"
            aria-labelledby={questionId}
            onKeyDown={(e) => {
              if (e.key === "Escape" && step === "confirm") cancel();
            }}
          >
            <span id={questionId}>
              Delete <strong>{props.display_name}</strong>?
            </span>
            <button
              type="button"
              class="danger"
              aria-disabled={step === "deleting" ? "true" : undefined}
              onClick={confirm}
            >
              {step === "deleting" ? "Deleting…" : "Confirm"}
            </button>
            <button
              type="button"
              class="secondary"
              ref={cancelRef}
              disabled={step === "deleting"}
              onClick={cancel}
            >
              Cancel
            </button>
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
