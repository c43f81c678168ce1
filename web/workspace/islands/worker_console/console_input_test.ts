import assert from "node:assert/strict";
import { inputHint, inputPlaceholder, type InputState } from "./console_input.tsx";

const s = (o: Partial<InputState>): InputState => ({
  down: false,
  stopped: false,
  paused: false,
  busy: false,
  ...o,
});

Deno.test("input hint: the runtime being down comes first, then stopped, paused, busy", () => {
  assert.equal(
    inputHint(s({ down: true, stopped: true, busy: true })),
    "Input is off until the runtime is back.",
  );
  assert.equal(inputHint(s({ stopped: true })), "Restore the worker to send input.");
  assert.equal(
    inputHint(s({ paused: true, busy: true })),
    "The turn is paused: Enter or Resume continues it, Ctrl+X cancels it.",
  );
  assert.equal(
    inputHint(s({ busy: true })),
    "A turn is running: Ctrl+C pauses it, Ctrl+X or Cancel turn cancels it.",
  );
  assert.equal(
    inputHint(s({})),
    "Enter sends, Shift+Enter adds a new line, Escape leaves the input.",
  );
});

Deno.test("input placeholder: a stopped worker before a down runtime", () => {
  assert.equal(inputPlaceholder(s({ stopped: true, down: true })), "This worker is stopped.");
  assert.equal(inputPlaceholder(s({ down: true })), "Waiting for the runtime…");
  assert.equal(inputPlaceholder(s({ busy: true })), "Type input for the worker");
});
