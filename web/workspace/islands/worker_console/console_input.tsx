/**
 * The console's input box: Enter sends, Shift+Enter adds a line, Escape leaves for the
 * transcript; off while the worker is stopped or the runtime is down, with a hint that says
 * what the keys do in the worker's current state.
 * @module
 */
import type { RefObject, TargetedKeyboardEvent } from "preact";

/** Where the worker and runtime are, as far as the input cares. */
export interface InputState {
  down: boolean;
  stopped: boolean;
  paused: boolean;
  busy: boolean;
}

/** The input's placeholder. */
export function inputPlaceholder(s: InputState): string {
  return s.stopped
    ? "This worker is stopped."
    : s.down
    ? "Waiting for the runtime…"
    : "Type input for the worker";
}

/** The hint under the input: what the keys do now. */
export function inputHint(s: InputState): string {
  return s.down
    ? "Input is off until the runtime is back."
    : s.stopped
    ? "Restore the worker to send input."
    : s.paused
    ? "The turn is paused: Enter or Resume continues it, Ctrl+X cancels it."
    : s.busy
    ? "A turn is running: Ctrl+C pauses it, Ctrl+X or Cancel turn cancels it."
    : "Enter sends, Shift+Enter adds a new line, Escape leaves the input.";
}

/** The labelled input and its hint (a refusal's hint, e.g. "busy", replaces the default). */
export function ConsoleInput(
  props: InputState & {
    inputRef: RefObject<HTMLTextAreaElement | null>;
    text: string;
    hint: string;
    onText: (text: string) => void;
    /** Escape: focus the transcript. */
    onLeave: () => void;
    onSend: () => void;
  },
) {
  const onKeyDown = (e: TargetedKeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Escape") {
      // Leave the input for the transcript, so the shortcuts and Tab start from there.
      e.preventDefault();
      props.onLeave();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.ctrlKey) {
      if (props.paused) return; // the page-level shortcut resumes
      e.preventDefault();
      props.onSend();
    }
  };
  return (
    <div class="field">
      <label for="console-input">Input</label>
      <textarea
        ref={props.inputRef}
        id="console-input"
        rows={3}
        value={props.text}
        disabled={props.stopped || props.down}
        aria-describedby="console-input-hint"
        placeholder={inputPlaceholder(props)}
        onInput={(e) => props.onText(e.currentTarget.value)}
        onKeyDown={onKeyDown}
      />
      <span class="hint" id="console-input-hint">
        {props.hint || inputHint(props)}
      </span>
    </div>
  );
}
