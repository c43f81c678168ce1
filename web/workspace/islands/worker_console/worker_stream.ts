/**
 * The console's live event stream, without Preact: a WebSocket opened after the last seq
 * shown, reopened after the last seq seen whenever it drops (so nothing is shown twice), with
 * its own backoff as the slower fallback to the Backend's upstream reconnect. While the runtime
 * is down the console is told why (it asks the Backend) and when the next attempt is due.
 * @module
 */
import type { BrowserClient } from "../../../../shared/browser_client.ts";
import type { ApiClientError } from "../../../../shared/browser_client.ts";
import type { WorkerEvent } from "../../../../shared/runtime_dto.ts";
import {
  isStreamControl,
  isWorkerEvent,
  type StreamControl,
} from "../../components/console_view.ts";
import type { Conn, Down } from "./conn.ts";
import { explain } from "./failure.ts";

/** Pauses between the console's own reconnect attempts (the last repeats). */
export const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
/** Close codes after which reconnecting cannot help. */
export const TERMINAL: readonly string[] = ["worker_not_found", "invalid_id", "runtime_not_found"];
/** After `stream.reconnecting` the Backend retries the runtime itself: ours starts this far in. */
export const UPSTREAM_ATTEMPT = 3;

/** The pause before reconnect attempt `attempt` (0-based). */
export function backoffMs(attempt: number): number {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
}

/** The closed state a control frame ends the stream with, or null while reconnecting can help. */
export function terminalClose(msg: StreamControl, runtimeId: string): Conn | null {
  if (msg.type === "stream.ended" && (msg as { reason?: string }).reason === "runtime_removed") {
    // The connection was deleted in Settings: nothing to reconnect to.
    return {
      state: "closed",
      message: `runtime ${runtimeId} was removed from this Backend.`,
      code: "runtime_not_found",
    };
  }
  if (msg.type === "stream.closed" && msg.code !== undefined && TERMINAL.includes(msg.code)) {
    return { state: "closed", message: msg.message ?? "the Backend ended it.", code: msg.code };
  }
  return null;
}

/** The two calls the stream needs from the Backend client. */
export type StreamClient = Pick<BrowserClient, "eventsUrl" | "call">;

/** Where the stream reports to (in the island: its state setters). */
export interface StreamSink {
  /** The highest seq shown: where a (re)opened stream resumes. */
  lastSeq(): number;
  onEvent(ev: WorkerEvent): void;
  setConn(c: Conn): void;
  setDown(next: Down | null | ((d: Down | null) => Down | null)): void;
  /** Set when the page was rendered while the runtime was down: why. */
  down?: string;
  /** The runtime answers again after a page rendered down (the island reloads the page). */
  onBack(): void;
}

/** A followed stream: `retryNow` reconnects at once, `close` ends it for good. */
export interface WorkerStream {
  retryNow(): void;
  close(): void;
}

/** Opens (or, when the page was rendered down, schedules) the stream and keeps it open. */
export function followWorkerStream(
  client: () => StreamClient,
  runtimeId: string,
  workerId: string,
  sink: StreamSink,
): WorkerStream {
  const { lastSeq, setConn, setDown } = sink;
  let ws: WebSocket | null = null;
  let disposed = false;
  let dropped = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  /** Marks the runtime down and schedules the next reconnect (backoff per attempt). */
  const retryLater = (reason?: string) => {
    clearTimeout(timer);
    const ms = backoffMs(attempt++);
    setDown((d) => ({ ...d, reason: reason ?? d?.reason ?? "", at: Date.now() + ms }));
    timer = setTimeout(connect, ms);
  };
  const connect = () => {
    if (disposed) return;
    clearTimeout(timer);
    const old = ws;
    ws = null;
    old?.close();
    const sock = new WebSocket(client().eventsUrl(runtimeId, workerId, lastSeq()));
    ws = sock;
    sock.addEventListener("open", () => {
      // The Backend only upgrades once the runtime answered for this worker: it is back.
      if (sink.down !== undefined) return sink.onBack();
      attempt = 0;
      setDown(null);
      setConn(dropped ? { state: "resumed", after: lastSeq() } : { state: "live" });
    });
    sock.addEventListener("message", (ev) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (isWorkerEvent(msg)) {
        sink.onEvent(msg);
      } else if (isStreamControl(msg)) {
        if (msg.type === "stream.reconnecting") {
          setConn({ state: "upstream-reconnecting" });
          // The Backend retries the runtime itself; ours is the slower fallback.
          attempt = Math.max(attempt, UPSTREAM_ATTEMPT);
          retryLater();
        } else if (msg.type === "stream.resumed") {
          clearTimeout(timer);
          attempt = 0;
          setDown(null);
          setConn({ state: "resumed", after: msg.after ?? lastSeq() });
        } else {
          const closed = terminalClose(msg, runtimeId);
          if (closed) {
            disposed = true;
            setConn(closed);
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
      // Each answer replaces the last one whole: the Backend back, the runtime still down.
      client().call("worker.get", { params: { runtime_id: runtimeId, worker_id: workerId } })
        .then(
          () => ({ reason: "", backend: false }),
          (e: ApiClientError) =>
            e.httpStatus
              ? explain(e, runtimeId).then((reason) => ({ reason, backend: false }))
              : { reason: e.message, backend: true },
        ).then((r) => setDown((d) => d && { ...d, ...r }));
    });
  };
  if (sink.down !== undefined) {
    dropped = true;
    retryLater(sink.down);
  } else connect();
  return {
    retryNow() {
      attempt = 0;
      connect();
    },
    close() {
      disposed = true;
      clearTimeout(timer);
      ws?.close();
    },
  };
}
