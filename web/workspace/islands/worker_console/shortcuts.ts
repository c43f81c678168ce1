/**
 * The console's keyboard shortcuts, anywhere on the page: Ctrl+C pauses a running turn and
 * Ctrl+X cancels it (unless text is selected: then they copy and cut), Enter resumes a paused
 * turn (except on a control that acts on Enter itself).
 * @module
 */
import { useEffect, useRef } from "preact/hooks";
import type { WorkerStatus } from "../../../../shared/runtime_dto.ts";

/** A lifecycle action of the console. */
export type Action = "cancel" | "stop" | "pause" | "resume" | "restore";

/** The parts of a key event the shortcuts look at. */
export type ShortcutKey =
  & Pick<
    KeyboardEvent,
    "key" | "ctrlKey" | "shiftKey" | "altKey" | "metaKey" | "isComposing" | "defaultPrevented"
  >
  & { target: EventTarget | null };

/** Whether the user has text selected (then Ctrl+C/Ctrl+X keep their copy/cut meaning). */
function hasSelection(): boolean {
  const a = document.activeElement;
  if (a instanceof HTMLTextAreaElement || a instanceof HTMLInputElement) {
    if ((a.selectionStart ?? 0) !== (a.selectionEnd ?? 0)) return true;
  }
  return (globalThis.getSelection?.()?.toString() ?? "") !== "";
}

/** The action a key press asks for, given the worker's status; null when it is not a shortcut. */
export function shortcutAction(
  e: ShortcutKey,
  status: WorkerStatus,
  selected: () => boolean = hasSelection,
): Action | null {
  if (e.defaultPrevented || e.isComposing || e.altKey || e.metaKey) return null;
  const key = e.key.toLowerCase();
  if (e.ctrlKey && !e.shiftKey && (key === "c" || key === "x")) {
    if (selected()) return null;
    if (key === "c" ? status !== "busy" : status !== "busy" && status !== "paused") return null;
    return key === "c" ? "pause" : "cancel";
  }
  if (e.key === "Enter" && !e.ctrlKey && !e.shiftKey && status === "paused") {
    const t = e.target as HTMLElement | null;
    if (t?.closest?.("button, a, summary")) return null; // they act on Enter themselves
    return "resume";
  }
  return null;
}

/** Listens for the shortcuts on the document while mounted; `act` is always the latest. */
export function useShortcuts(status: () => WorkerStatus, act: (a: Action) => unknown): void {
  const actRef = useRef(act);
  actRef.current = act;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const a = shortcutAction(e, status());
      if (!a) return;
      e.preventDefault();
      void actRef.current(a);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}
