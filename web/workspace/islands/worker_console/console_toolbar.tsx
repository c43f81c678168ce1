/**
 * The console's buttons: Send (Cancel turn while a turn runs), Pause/Resume, Restore of a
 * stopped worker, Stop with an inline confirmation (focus on "Keep it running", Escape keeps
 * it), and the keyboard shortcuts popover.
 * @module
 */
import { useEffect, useRef } from "preact/hooks";
import type { Pending } from "./use_console_actions.ts";
import type { Action } from "./shortcuts.ts";

/** The shortcuts the help popover lists: keys (joined by "+") and what they do. */
const SHORTCUTS: [string[], string][] = [
  [["Ctrl", "C"], "Pause the turn (no text selected)"],
  [["Ctrl", "X"], "Cancel the turn (no text selected)"],
  [["Enter"], "Send input; resume a paused turn"],
  [["Shift", "Enter"], "New line in the input"],
  [["Escape"], "Leave the input"],
];

/** The "Keyboard shortcuts" popover. */
function ShortcutHelp() {
  return (
    <details class="console-help">
      <summary>Keyboard shortcuts</summary>
      <dl>
        {SHORTCUTS.map(([keys, what]) => (
          <div key={what}>
            <dt>{keys.map((k, i) => [i > 0 && "+", <kbd key={k}>{k}</kbd>])}</dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

/** The action row and, when asked, the stop confirmation below it. */
export function ConsoleToolbar(props: {
  busy: boolean;
  paused: boolean;
  stopped: boolean;
  canSend: boolean;
  pending: Pending;
  confirmStop: boolean;
  setConfirmStop: (on: boolean) => void;
  act: (what: Action) => Promise<void>;
  restore: () => Promise<void>;
}) {
  const { busy, paused, stopped, pending, confirmStop } = props;
  const keepRef = useRef<HTMLButtonElement>(null);
  const stopRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirmStop) keepRef.current?.focus();
  }, [confirmStop]);

  const keepRunning = () => {
    props.setConfirmStop(false);
    queueMicrotask(() => stopRef.current?.focus());
  };

  return (
    <>
      <div class="actions">
        {busy
          ? (
            <button
              type="button"
              disabled={pending !== null}
              onClick={() => void props.act("cancel")}
            >
              {pending === "cancel" ? "Cancelling…" : "Cancel turn"}
            </button>
          )
          : (
            <button type="submit" disabled={!props.canSend}>
              {pending === "input" ? "Sending…" : "Send"}
            </button>
          )}
        {busy && (
          <button
            type="button"
            class="secondary"
            disabled={pending !== null}
            onClick={() => void props.act(paused ? "resume" : "pause")}
          >
            {paused
              ? (pending === "resume" ? "Resuming…" : "Resume")
              : (pending === "pause" ? "Pausing…" : "Pause")}
          </button>
        )}
        {stopped && (
          <button
            type="button"
            class="secondary"
            disabled={pending !== null}
            onClick={props.restore}
          >
            {pending === "restore" ? "Restoring…" : "Restore worker"}
          </button>
        )}
        {!confirmStop && !stopped && (
          <button
            ref={stopRef}
            type="button"
            class="secondary"
            disabled={pending !== null}
            onClick={() => props.setConfirmStop(true)}
          >
            Stop worker…
          </button>
        )}
        <ShortcutHelp />
      </div>
      {confirmStop && !stopped && (
        <div
          class="notice warning confirm"
          role="group"
          aria-labelledby="stop-confirm-text"
          onKeyDown={(e) => {
            if (e.key === "Escape") keepRunning();
          }}
        >
          <p id="stop-confirm-text">
            Stop this worker? A running turn is cancelled and the worker takes no more input until
            you restore it (its history is kept).
          </p>
          <div class="actions">
            <button
              type="button"
              class="danger"
              disabled={pending !== null}
              onClick={() => void props.act("stop")}
            >
              {pending === "stop" ? "Stopping…" : "Stop worker"}
            </button>
            <button ref={keepRef} type="button" class="secondary" onClick={keepRunning}>
              Keep it running
            </button>
          </div>
        </div>
      )}
    </>
  );
}
