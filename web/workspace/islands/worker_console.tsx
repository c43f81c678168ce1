/**
 * The worker console: the transcript folded on the server, then live events
 * from the Backend's WebSocket (resumed from the last seq after any drop, so
 * nothing is shown twice), an input box whose Send turns into Cancel while a
 * turn runs, Pause/Resume, Stop (with an inline confirmation) and Restore of a
 * stopped worker, with keyboard shortcuts (listed in a help popover: Ctrl+C
 * pauses, Ctrl+X cancels, Enter resumes, Escape leaves the input). Status
 * follows `worker.status` events.
 * @module
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { TargetedKeyboardEvent } from "preact";
import { ApiClientError, BrowserClient } from "../../../shared/browser_client.ts";
import type { Ack } from "../../../shared/runtime_dto.ts";
import type { ErrorCode } from "../../../shared/error_codes.ts";
import { Badge, statusTone } from "../components/badge.tsx";
import { ErrorNotice } from "../components/diagnostics.tsx";
import { RelativeTime } from "../components/relative_time.tsx";
import { AnsiText, hasAnsi } from "../components/ansi_text.tsx";
import { LazyMarkdown } from "./worker_console/mod.ts";
import {
  applyEvents,
  type Block,
  type ConsoleView,
  isStreamControl,
  isWorkerEvent,
} from "../components/console_view.ts";

export interface WorkerConsoleProps extends Record<string, unknown> {
  runtimeId: string;
  workerId: string;
  displayName: string;
  profile: string;
  /** Empty when unknown (the runtime is down and the worker was not in the last list). */
  createdAt: string;
  view: ConsoleView;
  /** Server time of the render, so relative times hydrate as rendered. */
  now: number;
  /** Set when the page was rendered while the runtime was down: why. */
  down?: { code: string; message: string };
}

/** Connection state shown in the status line. */
type Conn =
  | { state: "connecting" }
  | { state: "live" }
  | { state: "reconnecting"; attempt: number }
  | { state: "upstream-reconnecting" }
  | { state: "resumed"; after: number }
  | { state: "closed"; message: string; code?: string };

/** Pauses between the console's own reconnect attempts (the last repeats). */
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
/** Close codes after which reconnecting cannot help. */
const TERMINAL: readonly string[] = ["worker_not_found", "invalid_id", "runtime_not_found"];

function connText(c: Conn): string {
  switch (c.state) {
    case "connecting":
      return "Connecting to the event stream…";
    case "live":
      return "Live";
    case "reconnecting":
      return `Reconnecting… (attempt ${c.attempt})`;
    case "upstream-reconnecting":
      return "Reconnecting… to the runtime.";
    case "resumed":
      return `Resumed from event ${c.after}; no events were missed.`;
    case "closed":
      return `The event stream closed: ${c.message}`;
  }
}

function connTone(c: Conn) {
  switch (c.state) {
    case "live":
    case "resumed":
      return "success" as const;
    case "closed":
      return "danger" as const;
    case "connecting":
      return "neutral" as const;
    default:
      return "warning" as const;
  }
}

/** The runtime is out of reach: why (as far as known) and when the console retries. */
interface Down {
  reason: string;
  at: number;
  /** The Backend itself did not answer (not the runtime). */
  backend?: boolean;
}

interface Failure {
  message: string;
  code?: ErrorCode;
  /** 0 when the Backend did not answer at all. */
  status?: number;
}

function failure(e: unknown): Failure {
  if (e instanceof ApiClientError) {
    return { message: e.message, code: e.code, status: e.httpStatus };
  }
  return { message: "The request failed unexpectedly." };
}

/** The sentences per code, loaded with the first error (they stay out of the page's budget). */
let sentence: (code: string | undefined, runtimeId: string) => string = () => "";
const sentences = () =>
  import("../components/error_text.ts").then((m) => sentence = m.errorSentence, () => {});

/** The code's own sentence and the server's message. */
async function explain(e: ApiClientError, runtimeId: string): Promise<string> {
  await sentences();
  return `${sentence(e.code, runtimeId)} ${e.message}`;
}

/** Whether the user has text selected (then Ctrl+C/Ctrl+X keep their copy/cut meaning). */
function hasSelection(): boolean {
  const a = document.activeElement;
  if (a instanceof HTMLTextAreaElement || a instanceof HTMLInputElement) {
    if ((a.selectionStart ?? 0) !== (a.selectionEnd ?? 0)) return true;
  }
  return (globalThis.getSelection?.()?.toString() ?? "") !== "";
}

type Action = "cancel" | "stop" | "pause" | "resume" | "restore";

function BlockView(props: { block: Block }) {
  const b = props.block;
  if (b.kind === "input") {
    return (
      <div class="console-block input">
        <span class="console-prompt" aria-hidden="true">›</span>
        <span class="visually-hidden">{`Input: `}</span>
        {b.text}
      </div>
    );
  }
  if (b.kind === "output") {
    return (
      <div class="console-block output">
        {b.parts.map((p, i) =>
          // Text without a stream is a model's answer (Markdown); stdout/stderr stay verbatim.
          p.stream === undefined
            ? <LazyMarkdown key={i} source={p.text} />
            : hasAnsi(p.text)
            ? (
              <AnsiText
                key={i}
                text={p.text}
                class={p.stream === "stderr" ? "stderr" : undefined}
              />
            )
            : <span key={i} class={p.stream === "stderr" ? "stderr" : undefined}>{p.text}</span>
        )}
      </div>
    );
  }
  if (b.kind === "tool") {
    const state = b.result === undefined ? "running" : b.result.ok ? "ok" : "failed";
    return (
      <details class={`console-block tool ${state}`} data-call-id={b.call_id}>
        <summary>
          <span class="tool-name">{b.name}</span> <span class={`tool-state ${state}`}>{state}</span>
        </summary>
        <div class="tool-part">
          <span class="tool-label">Arguments</span>
          <pre>{b.arguments}</pre>
        </div>
        {b.result && (
          <div class="tool-part">
            <span class="tool-label">Result</span>
            <pre>{b.result.output}</pre>
          </div>
        )}
      </details>
    );
  }
  return <div class={`console-block note ${b.tone}`}>{b.text}</div>;
}

export default function WorkerConsole(props: WorkerConsoleProps) {
  const { runtimeId, workerId } = props;
  const [view, setView] = useState<ConsoleView>(props.view);
  const viewRef = useRef<ConsoleView>(props.view);
  const [conn, setConn] = useState<Conn>({ state: "connecting" });
  const [down, setDown] = useState<Down | null>(
    props.down ? { reason: props.down.message, at: props.now } : null,
  );
  const [now, setNow] = useState(props.now);
  const [local, setLocal] = useState(false);
  const retryNow = useRef(() => {});
  const [text, setText] = useState("");
  const [pending, setPending] = useState<null | "input" | Action>(null);
  const [error, setError] = useState<Failure | null>(null);
  const [confirmStop, setConfirmStop] = useState(false);
  const [hint, setHint] = useState("");
  const logRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  /** Where the last automatic scroll left the transcript. */
  const autoTop = useRef(0);
  const keepRef = useRef<HTMLButtonElement>(null);
  const stopRef = useRef<HTMLButtonElement>(null);
  const clientRef = useRef<BrowserClient | null>(null);
  const pendingRef = useRef<null | "input" | Action>(null);
  const client = () => (clientRef.current ??= new BrowserClient());

  const update = (next: ConsoleView) => {
    if (next === viewRef.current) return;
    viewRef.current = next;
    setView(next);
  };

  // The live stream: opened from the last seq shown, reopened from the last seq seen. While the
  // runtime is down (the Backend says `stream.reconnecting`, or our socket closes) the input is
  // off and a banner counts down to the next retry; "Retry now" reconnects at once.
  useEffect(() => {
    let ws: WebSocket | null = null;
    let disposed = false;
    let dropped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    /** Marks the runtime down and schedules the next reconnect (backoff per attempt). */
    const retryLater = (reason?: string) => {
      clearTimeout(timer);
      const ms = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)];
      setDown((d) => ({ ...d, reason: reason ?? d?.reason ?? "", at: Date.now() + ms }));
      timer = setTimeout(connect, ms);
    };
    const connect = () => {
      if (disposed) return;
      clearTimeout(timer);
      const old = ws;
      ws = null;
      old?.close();
      const sock = new WebSocket(client().eventsUrl(runtimeId, workerId, viewRef.current.lastSeq));
      ws = sock;
      sock.addEventListener("open", () => {
        // The Backend only upgrades once the runtime answered for this worker: it is back.
        if (props.down) return location.reload();
        attempt = 0;
        setDown(null);
        setConn(dropped ? { state: "resumed", after: viewRef.current.lastSeq } : { state: "live" });
      });
      sock.addEventListener("message", (ev) => {
        let msg: unknown;
        try {
          msg = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        if (isWorkerEvent(msg)) {
          update(applyEvents(viewRef.current, [msg]));
        } else if (isStreamControl(msg)) {
          if (msg.type === "stream.reconnecting") {
            setConn({ state: "upstream-reconnecting" });
            // The Backend retries the runtime itself; ours is the slower fallback.
            attempt = Math.max(attempt, 3);
            retryLater();
          } else if (msg.type === "stream.resumed") {
            clearTimeout(timer);
            attempt = 0;
            setDown(null);
            setConn({ state: "resumed", after: msg.after ?? viewRef.current.lastSeq });
          } else if (
            msg.type === "stream.ended" &&
            (msg as { reason?: string }).reason === "runtime_removed"
          ) {
            // The connection was deleted in Settings: nothing to reconnect to.
            disposed = true;
            setConn({
              state: "closed",
              message: `runtime ${runtimeId} was removed from this Backend.`,
              code: "runtime_not_found",
            });
          } else if (msg.type === "stream.closed") {
            const terminal = msg.code !== undefined && TERMINAL.includes(msg.code);
            if (terminal) {
              disposed = true;
              setConn({
                state: "closed",
                message: msg.message ?? "the Backend ended it.",
                code: msg.code,
              });
            }
          }
        }
      });
      sock.addEventListener("close", () => {
        if (disposed || ws !== sock) return;
        dropped = true;
        setConn({ state: "reconnecting", attempt: attempt + 1 });
        retryLater();
        // Ask the Backend why: it answers for the runtime, or it is itself out of reach.
        client().getWorker(runtimeId, workerId).then(
          () => ({ reason: "" }),
          (e: ApiClientError) =>
            e.httpStatus
              ? explain(e, runtimeId).then((reason) => ({ reason }))
              : { reason: e.message, backend: true },
        ).then((r) => setDown((d) => d && { ...d, ...r }));
      });
    };
    retryNow.current = () => {
      attempt = 0;
      connect();
    };
    if (props.down) {
      dropped = true;
      retryLater(props.down.message);
    } else connect();
    return () => {
      disposed = true;
      clearTimeout(timer);
      ws?.close();
    };
  }, [runtimeId, workerId]);

  // A clock for relative times: every second while counting down, else every 15 s.
  useEffect(() => {
    setLocal(true);
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), down ? 1000 : 15_000);
    return () => clearInterval(t);
  }, [down !== null]);

  // Keep the newest output in view, but only if the reader was already at the bottom. A reader
  // who scrolled up since the last automatic scroll stays put even before the scroll event
  // (which arrives asynchronously) has updated `atBottom`.
  useLayoutEffect(() => {
    const el = logRef.current;
    if (!el || !atBottom.current || el.scrollTop < autoTop.current - 8) return;
    el.scrollTop = el.scrollHeight;
    autoTop.current = el.scrollTop;
  }, [view.blocks]);

  useEffect(() => {
    if (confirmStop) keepRef.current?.focus();
  }, [confirmStop]);

  const onScroll = () => {
    const el = logRef.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
  };

  /** Applies an ack's status unless the stream already showed something newer. */
  const applyAck = (ack: Ack) => {
    const cur = viewRef.current;
    if (ack.seq >= cur.statusSeq && ack.status !== cur.status) {
      update({ ...cur, status: ack.status, statusSeq: ack.seq });
    }
  };

  const status = view.status;
  const paused = status === "paused";
  /** A turn is running (possibly paused): Send is Cancel meanwhile. */
  const busy = status === "busy" || paused;
  const stopped = status === "stopped";
  const canSend = !busy && !stopped && !down && pending === null && text.trim().length > 0;
  const inputRef = useRef<HTMLTextAreaElement>(null);

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
    try {
      const { ack } = await client().input(runtimeId, workerId, text);
      applyAck(ack);
      setText("");
      atBottom.current = true;
      autoTop.current = 0; // the reader's own input: follow the answer
    } catch (e) {
      await sentences();
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
      const c = client();
      const { ack } = what === "cancel"
        ? await c.cancel(runtimeId, workerId)
        : what === "stop"
        ? await c.stop(runtimeId, workerId)
        : what === "pause"
        ? await c.pause(runtimeId, workerId)
        : what === "resume"
        ? await c.resume(runtimeId, workerId)
        : await c.restore(runtimeId, workerId);
      applyAck(ack);
      if (what === "stop") {
        setConfirmStop(false);
        logRef.current?.focus(); // the confirmation is gone; land on the transcript
      }
    } catch (e) {
      await sentences();
      setError(failure(e));
    } finally {
      pendingRef.current = null;
      setPending(null);
      // A button that went away or was disabled drops focus to <body>: keep the user where
      // they were, or in the input (after Cancel, Send is disabled until something is typed).
      setTimeout(() => {
        const a = document.activeElement;
        if (a && a !== document.body) return;
        (before?.isConnected && !before.disabled ? before : inputRef.current)?.focus();
      }, 0);
    }
  };
  const actRef = useRef(act);
  actRef.current = act;

  // Console shortcuts, anywhere on the page: Ctrl+C pauses a running turn and Ctrl+X cancels
  // it (unless text is selected: then they copy and cut), Enter resumes a paused turn.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing || e.altKey || e.metaKey) return;
      const st = viewRef.current.status;
      const key = e.key.toLowerCase();
      if (e.ctrlKey && !e.shiftKey && (key === "c" || key === "x")) {
        if (hasSelection()) return;
        if (key === "c" ? st !== "busy" : st !== "busy" && st !== "paused") return;
        e.preventDefault();
        void actRef.current(key === "c" ? "pause" : "cancel");
      } else if (e.key === "Enter" && !e.ctrlKey && !e.shiftKey && st === "paused") {
        const t = e.target as HTMLElement | null;
        if (t?.closest?.("button, a, summary")) return; // they act on Enter themselves
        e.preventDefault();
        void actRef.current("resume");
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const onKeyDown = (e: TargetedKeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Escape") {
      // Leave the input for the transcript, so the shortcuts and Tab start from there.
      e.preventDefault();
      logRef.current?.focus();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.ctrlKey) {
      if (paused) return; // the page-level shortcut resumes
      e.preventDefault();
      void send();
    }
  };

  const keepRunning = () => {
    setConfirmStop(false);
    queueMicrotask(() => stopRef.current?.focus());
  };

  return (
    <div class="console">
      <div class="console-head">
        <h1>{props.displayName}</h1>
        <span class="console-status">
          <span class="visually-hidden">{`Status: `}</span>
          <Badge tone={statusTone(status)}>{status}</Badge>
        </span>
      </div>
      <dl class="console-meta">
        <div>
          <dt>Runtime</dt>
          <dd>
            <code>{runtimeId}</code>
          </dd>
        </div>
        <div>
          <dt>Profile</dt>
          <dd>{props.profile}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            {props.createdAt
              ? <RelativeTime iso={props.createdAt} now={now} local={local} />
              : "unknown"}
          </dd>
        </div>
        <div>
          <dt>Worker id</dt>
          <dd>
            <code>{workerId}</code>
          </dd>
        </div>
      </dl>
      <p class={`console-conn ${connTone(conn)}`} role="status" data-conn={conn.state}>
        {connText(conn)}
      </p>
      {down && (
        <div class="notice warning console-down" role="alert">
          <p>
            <strong>
              {`${down.backend ? "The Backend" : `Runtime ${runtimeId}`} is unreachable — ${
                down.at > now ? `retrying in ${Math.ceil((down.at - now) / 1000)} s` : "retrying…"
              }`}
            </strong>
            {down.reason && ` ${down.reason}`}
          </p>
          <button type="button" class="secondary" onClick={() => retryNow.current()}>
            Retry now
          </button>
        </div>
      )}
      <div
        ref={logRef}
        class="console-output"
        role="log"
        aria-live="polite"
        aria-label="Transcript"
        tabIndex={0}
        onScroll={onScroll}
      >
        {view.blocks.length === 0
          ? <div class="console-block note muted">No events yet.</div>
          : view.blocks.map((b) => <BlockView key={b.seq} block={b} />)}
      </div>
      {error && (
        <ErrorNotice
          title={error.status === 0
            ? "The Backend could not be reached."
            : sentence(error.code, runtimeId) || "That did not succeed."}
          message={error.message}
          code={error.code}
        />
      )}
      <form
        class="console-input"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <div class="field">
          <label for="console-input">Input</label>
          <textarea
            ref={inputRef}
            id="console-input"
            rows={3}
            value={text}
            disabled={stopped || !!down}
            aria-describedby="console-input-hint"
            placeholder={stopped
              ? "This worker is stopped."
              : down
              ? "Waiting for the runtime…"
              : "Type input for the worker"}
            onInput={(e) => {
              setText(e.currentTarget.value);
              if (hint) setHint("");
            }}
            onKeyDown={onKeyDown}
          />
          <span class="hint" id="console-input-hint">
            {hint ||
              (down
                ? "Input is off until the runtime is back."
                : stopped
                ? "Restore the worker to send input."
                : paused
                ? "The turn is paused: Enter or Resume continues it, Ctrl+X cancels it."
                : busy
                ? "A turn is running: Ctrl+C pauses it, Ctrl+X or Cancel turn cancels it."
                : "Enter sends, Shift+Enter adds a new line, Escape leaves the input.")}
          </span>
        </div>
        <div class="actions">
          {busy
            ? (
              <button
                type="button"
                disabled={pending !== null}
                onClick={() => void act("cancel")}
              >
                {pending === "cancel" ? "Cancelling…" : "Cancel turn"}
              </button>
            )
            : (
              <button type="submit" disabled={!canSend}>
                {pending === "input" ? "Sending…" : "Send"}
              </button>
            )}
          {busy && (
            <button
              type="button"
              class="secondary"
              disabled={pending !== null}
              onClick={() => void act(paused ? "resume" : "pause")}
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
              onClick={async () => {
                await act("restore");
                if (viewRef.current.status !== "stopped") {
                  setTimeout(() => inputRef.current?.focus(), 0);
                }
              }}
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
              onClick={() => setConfirmStop(true)}
            >
              Stop worker…
            </button>
          )}
          <details class="console-help">
            <summary>Keyboard shortcuts</summary>
            <dl>
              <div>
                <dt>
                  <kbd>Ctrl</kbd>+<kbd>C</kbd>
                </dt>
                <dd>Pause the turn (no text selected)</dd>
              </div>
              <div>
                <dt>
                  <kbd>Ctrl</kbd>+<kbd>X</kbd>
                </dt>
                <dd>Cancel the turn (no text selected)</dd>
              </div>
              <div>
                <dt>
                  <kbd>Enter</kbd>
                </dt>
                <dd>Send input; resume a paused turn</dd>
              </div>
              <div>
                <dt>
                  <kbd>Shift</kbd>+<kbd>Enter</kbd>
                </dt>
                <dd>New line in the input</dd>
              </div>
              <div>
                <dt>
                  <kbd>Escape</kbd>
                </dt>
                <dd>Leave the input</dd>
              </div>
            </dl>
          </details>
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
              Stop this worker? A running turn is cancelled and the worker takes no more input. This
              cannot be undone.
            </p>
            <div class="actions">
              <button
                type="button"
                class="danger"
                disabled={pending !== null}
                onClick={() => void act("stop")}
              >
                {pending === "stop" ? "Stopping…" : "Stop worker"}
              </button>
              <button ref={keepRef} type="button" class="secondary" onClick={keepRunning}>
                Keep it running
              </button>
            </div>
          </div>
        )}
      </form>
    </div>
  );
}
