/**
 * What the console's buttons and input do: send input, cancel, pause, resume, stop and restore,
 * one request at a time, each ack applied unless the stream already showed something newer, a
 * failure shown with its sentence, and focus kept where the user was.
 * @module
 */
import type { RefObject } from "preact";
import { useRef, useState } from "preact/hooks";
import type { BrowserClient } from "../../../../shared/browser_client.ts";
import type { Ack, WorkerStatus } from "../../../../shared/runtime_dto.ts";
import type { ConsoleView } from "../../components/console_view.ts";
import { type Failure, failure, loadSentences } from "./failure.ts";
import type { Action } from "./shortcuts.ts";

/** `view` with an ack's status, unless the view already shows a newer one (then `view`). */
export function withAck(view: ConsoleView, ack: Ack): ConsoleView {
  return ack.seq >= view.statusSeq && ack.status !== view.status
    ? { ...view, status: ack.status, statusSeq: ack.seq }
    : view;
}

/** What the actions need of the island. */
export interface ActionDeps {
  client: () => BrowserClient;
  runtimeId: string;
  workerId: string;
  /** The status this render shows. */
  status: WorkerStatus;
  /** Whether the runtime is out of reach (input is off). */
  down: boolean;
  viewRef: RefObject<ConsoleView>;
  update: (next: ConsoleView) => void;
  logRef: RefObject<HTMLDivElement | null>;
  inputRef: RefObject<HTMLTextAreaElement | null>;
  /** Makes the transcript follow the next output (the reader's own input). */
  follow: () => void;
}

/** The request in flight: input, or a lifecycle action. */
export type Pending = null | "input" | Action;

/** The console's input and lifecycle state and the handlers that change it. */
export function useConsoleActions(d: ActionDeps) {
  const { client, runtimeId, workerId, status } = d;
  const ids = () => ({ runtime_id: runtimeId, worker_id: workerId });
  const [text, setText] = useState("");
  const [pending, setPending] = useState<Pending>(null);
  const [error, setError] = useState<Failure | null>(null);
  const [confirmStop, setConfirmStop] = useState(false);
  const [hint, setHint] = useState("");
  const pendingRef = useRef<Pending>(null);

  const paused = status === "paused";
  /** A turn is running (possibly paused): Send is Cancel meanwhile. */
  const busy = status === "busy" || paused;
  const stopped = status === "stopped";
  const canSend = !busy && !stopped && !d.down && pending === null && text.trim().length > 0;
  const applyAck = (ack: Ack) => d.update(withAck(d.viewRef.current, ack));

  const send = async () => {
    if (stopped) return;
    if (busy) {
      setHint("The worker is busy with a turn: wait for it to end, or cancel it.");
      return;
    }
    if (pending !== null || text.trim().length === 0) return;
    setPending("input");
    setError(null);
    setHint("");
    // The reader's own input: follow the answer — from now, not from when the request answers
    // (output can come first, and a reader who scrolls up meanwhile stays put).
    d.follow();
    try {
      const { ack } = await client().call("worker.input", { params: ids(), body: { text } });
      applyAck(ack);
      setText("");
    } catch (e) {
      await loadSentences();
      setError(failure(e));
    } finally {
      setPending(null);
    }
  };

  const act = async (what: Action) => {
    if (pendingRef.current !== null) return;
    pendingRef.current = what;
    const before = document.activeElement as HTMLButtonElement | null;
    setPending(what);
    setError(null);
    try {
      const { ack } = await client().call(`worker.${what}`, { params: ids() });
      applyAck(ack);
      if (what === "stop") {
        setConfirmStop(false);
        d.logRef.current?.focus(); // the confirmation is gone; land on the transcript
      }
    } catch (e) {
      await loadSentences();
      setError(failure(e));
    } finally {
      pendingRef.current = null;
      setPending(null);
      // A button that went away or was disabled drops focus to <body>: keep the user where
      // they were, or in the input (after Cancel, Send is disabled until something is typed).
      setTimeout(() => {
        const a = document.activeElement;
        if (a && a !== document.body) return;
        (before?.isConnected && !before.disabled ? before : d.inputRef.current)?.focus();
      }, 0);
    }
  };

  /** Restore, then (if the worker takes input again) put the cursor in the input. */
  const restore = async () => {
    await act("restore");
    if (d.viewRef.current.status !== "stopped") {
      setTimeout(() => d.inputRef.current?.focus(), 0);
    }
  };

  return {
    text,
    setText,
    hint,
    setHint,
    pending,
    error,
    confirmStop,
    setConfirmStop,
    paused,
    busy,
    stopped,
    canSend,
    send,
    act,
    restore,
  };
}
