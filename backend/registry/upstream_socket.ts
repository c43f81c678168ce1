/**
 * One WebSocket from the Backend to a remote Runtime's event stream, as a
 * bounded pull queue; the reconnect logic lives in the remote client.
 * @module
 */
import { openWebSocket } from "../../shared/deno_ws.ts";

/** How long {@link UpstreamSocket.close} waits for the close handshake. */
const CLOSE_WAIT_MS = 1000;

/**
 * One WebSocket to the Runtime, turned into a pull queue of text messages.
 * `opened` resolves true on open, false when it failed, timed out or was
 * aborted first; `next()` yields buffered messages, then null once closed.
 */
export class UpstreamSocket {
  readonly opened: Promise<boolean>;
  /** HTTP status of a refused upgrade, when the platform reports it. */
  upgradeStatus: number | null = null;
  /** Set when the consumer fell more than `maxBuffered` messages behind. */
  overflowed = false;
  #ws: WebSocket;
  #queue: string[] = [];
  #ended = false;
  #wake: (() => void) | null = null;
  #closed: Promise<void>;
  #signal: AbortSignal;
  #onAbort = () => this.#shut();
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #settleOpened: (ok: boolean) => void = () => {};

  constructor(
    url: URL,
    headers: Record<string, string>,
    connectTimeoutMs: number,
    maxBuffered: number,
    signal: AbortSignal,
  ) {
    this.#signal = signal;
    const ws = openWebSocket(url, headers);
    this.#ws = ws;
    this.opened = new Promise((r) => this.#settleOpened = r);
    const settle = (ok: boolean) => this.#settleOpened(ok);
    let markClosed!: () => void;
    this.#closed = new Promise((r) => markClosed = r);
    this.#connectTimer = setTimeout(() => this.#shut(), connectTimeoutMs);
    ws.addEventListener("open", () => {
      clearTimeout(this.#connectTimer);
      if (this.#ended) return;
      settle(true);
    });
    ws.addEventListener("message", (ev) => {
      if (this.#ended || typeof ev.data !== "string") return;
      if (this.#queue.length >= maxBuffered) {
        this.overflowed = true;
        this.#shut();
        return;
      }
      this.#queue.push(ev.data);
      this.#notify();
    });
    ws.addEventListener("error", (ev) => {
      // Only the status number is kept; the event's text may contain the URL.
      const m = /status code:?\s*(\d{3})/i.exec(String((ev as ErrorEvent).message ?? ""));
      if (m) this.upgradeStatus = Number(m[1]);
    });
    ws.addEventListener("close", () => {
      clearTimeout(this.#connectTimer);
      this.#ended = true;
      settle(false);
      this.#notify();
      markClosed();
    });
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The next message, or null once the socket has ended and the buffer is drained. */
  async next(): Promise<string | null> {
    for (;;) {
      if (this.#signal.aborted) return null;
      const m = this.#queue.shift();
      if (m !== undefined) return m;
      if (this.#ended) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
  }

  /** Closes the socket and waits (bounded) for the close to complete. */
  async close(): Promise<void> {
    this.#shut();
    this.#signal.removeEventListener("abort", this.#onAbort);
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise<void>((r) => t = setTimeout(r, CLOSE_WAIT_MS)),
    ]);
    clearTimeout(t);
  }

  #shut() {
    clearTimeout(this.#connectTimer);
    this.#ended = true;
    this.#settleOpened(false);
    this.#notify();
    const ws = this.#ws;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
      try {
        ws.close(1000);
      } catch { /* already closing */ }
    }
  }

  #notify() {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}
