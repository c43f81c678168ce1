/**
 * The console island as the server renders it: the parts in `worker_console/` wired together
 * per worker status and when the runtime is down (the browser tests drive it live).
 * @module
 */
import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import type { WorkerStatus } from "../../../shared/runtime_dto.ts";
import { applyEvents, emptyView } from "../components/console_view.ts";
import WorkerConsole, { type WorkerConsoleProps } from "./worker_console.tsx";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const render = (status: WorkerStatus, more: Partial<WorkerConsoleProps> = {}) =>
  renderToString(
    <WorkerConsole
      runtimeId="box"
      workerId="w-1"
      displayName="Builder"
      profile="shell"
      createdAt="2026-03-01T11:00:00Z"
      view={emptyView(status)}
      now={NOW}
      {...more}
    />,
  );
/** Visible button labels, in order. */
const buttons = (html: string) => [...html.matchAll(/<button[^>]*>([^<]*)</g)].map((m) => m[1]);

Deno.test("console: the buttons and hint follow the worker's status", () => {
  assert.deepEqual(buttons(render("idle")), ["Send", "Stop worker…"]);
  assert.deepEqual(buttons(render("busy")), ["Cancel turn", "Pause", "Stop worker…"]);
  assert.deepEqual(buttons(render("paused")), ["Cancel turn", "Resume", "Stop worker…"]);
  assert.deepEqual(buttons(render("stopped")), ["Send", "Restore worker"]);
  assert.match(render("busy"), /A turn is running: Ctrl\+C pauses it/);
  assert.match(
    render("stopped"),
    /<textarea[^>]*disabled[^>]*placeholder="This worker is stopped."/,
  );
  assert.match(render("idle"), /<button type="submit" disabled>Send</, "nothing typed yet");
});

Deno.test("console: head, transcript, status line and shortcuts popover", () => {
  const html = render("idle", {
    view: applyEvents(emptyView("idle"), [
      { seq: 1, type: "input.accepted", data: { text: "hi" } } as never,
      { seq: 2, type: "output.delta", data: { text: "hello", stream: "stdout" } } as never,
    ]),
  });
  assert.match(html, /<h1>Builder<\/h1>.*<span class="visually-hidden">Status: <\/span>/s);
  assert.match(html, /<dt>Profile<\/dt><dd>shell<\/dd>/);
  assert.match(html, /<dt>Worker id<\/dt><dd><code>w-1<\/code><\/dd>/);
  assert.match(html, /role="status" data-conn="connecting">Connecting to the event stream…</);
  assert.match(
    html,
    /role="log".*Input: <\/span>hi<\/div><div class="console-block output"><span>hello<\/span>/s,
  );
  assert.match(
    html,
    /<dt><kbd>Ctrl<\/kbd>\+<kbd>C<\/kbd><\/dt><dd>Pause the turn \(no text selected\)<\/dd>/,
  );
  assert.match(html, /<dt><kbd>Escape<\/kbd><\/dt><dd>Leave the input<\/dd>/);
  assert.match(render("idle", { createdAt: "" }), /<dt>Created<\/dt><dd>unknown<\/dd>/);
  assert.match(render("idle"), /No events yet\./);
});

Deno.test("console: a page rendered while the runtime is down shows why and turns input off", () => {
  const html = render("idle", { down: { code: "remote_runtime_unavailable", message: "gone." } });
  assert.match(
    html,
    /role="alert"><p><strong>Runtime box is unreachable — retrying…<\/strong> gone.<\/p><button[^>]*>Retry now</,
  );
  assert.match(html, /<textarea[^>]*disabled[^>]*placeholder="Waiting for the runtime…"/);
  assert.match(html, /Input is off until the runtime is back\./);
});
