import assert from "node:assert/strict";
import type { WorkerStatus } from "../../../../shared/runtime_dto.ts";
import { shortcutAction, type ShortcutKey } from "./shortcuts.ts";

const key = (k: string, mods: Partial<ShortcutKey> = {}): ShortcutKey => ({
  key: k,
  ctrlKey: false,
  shiftKey: false,
  altKey: false,
  metaKey: false,
  isComposing: false,
  defaultPrevented: false,
  target: null,
  ...mods,
});
const none = () => false;
const STATUSES: WorkerStatus[] = ["idle", "busy", "paused", "stopped"];
const table = (k: ShortcutKey, selected = none) =>
  STATUSES.map((s) => shortcutAction(k, s, selected));

Deno.test("shortcuts: Ctrl+C pauses a running turn, Ctrl+X cancels a running or paused one", () => {
  assert.deepEqual(table(key("c", { ctrlKey: true })), [null, "pause", null, null]);
  assert.deepEqual(table(key("C", { ctrlKey: true })), [null, "pause", null, null], "caps lock");
  assert.deepEqual(table(key("x", { ctrlKey: true })), [null, "cancel", "cancel", null]);
});

Deno.test("shortcuts: selected text keeps copy and cut; other modifiers are not shortcuts", () => {
  assert.deepEqual(table(key("c", { ctrlKey: true }), () => true), [null, null, null, null]);
  assert.deepEqual(table(key("x", { ctrlKey: true }), () => true), [null, null, null, null]);
  for (
    const mods of [
      { ctrlKey: true, shiftKey: true },
      { ctrlKey: true, altKey: true },
      { ctrlKey: true, metaKey: true },
      { ctrlKey: true, isComposing: true },
      { ctrlKey: true, defaultPrevented: true },
      {},
    ]
  ) {
    assert.deepEqual(table(key("x", mods)), [null, null, null, null], JSON.stringify(mods));
  }
});

Deno.test("shortcuts: Enter resumes a paused turn, except on a control that acts on Enter", () => {
  assert.deepEqual(table(key("Enter")), [null, null, "resume", null]);
  assert.deepEqual(table(key("Enter", { shiftKey: true })), [null, null, null, null]);
  assert.deepEqual(table(key("Enter", { ctrlKey: true })), [null, null, null, null]);
  const on = (matches: boolean) =>
    ({
      closest: (sel: string) => (sel === "button, a, summary" && matches ? {} : null),
    }) as unknown as EventTarget;
  assert.equal(shortcutAction(key("Enter", { target: on(true) }), "paused", none), null);
  assert.equal(shortcutAction(key("Enter", { target: on(false) }), "paused", none), "resume");
});
