/**
 * The browser-facing event WebSocket: the socket joins the worker's shared
 * event stream in the handle (one upstream per worker, issue 15), which sends
 * it the runtime's frames as received. Reconnection to a remote runtime (with
 * `stream.reconnecting` / `stream.resumed`), the per-browser high-water mark
 * (a browser too far behind is dropped with `stream_lagging` and resumes by
 * seq) and the end of the stream happen there, so the browser sees one stream.
 * @module
 */
import { type RuntimeHandle } from "../registry/mod.ts";
import { log } from "./log.ts";

export interface ProxyOptions {
  /** Seconds between WebSocket pings to the browser. */
  pingIntervalSec?: number;
  /** Tracks the socket so a stopping Backend can let its last frames out. */
  streams?: OpenStreams;
}

/** The browser event sockets that are open, so a graceful stop can wait for them (bounded). */
export class OpenStreams {
  #open = new Set<Promise<void>>();

  /** Registers a socket until it closes. */
  track(socket: WebSocket): void {
    const closed = new Promise<void>((resolve) => {
      socket.addEventListener("close", () => resolve(), { once: true });
    });
    this.#open.add(closed);
    closed.then(() => this.#open.delete(closed));
  }

  get size(): number {
    return this.#open.size;
  }

  /** Resolves once every tracked socket closed, or after `ms`. */
  async drain(ms: number): Promise<void> {
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([...this.#open]),
      new Promise((r) => t = setTimeout(r, ms)),
    ]);
    clearTimeout(t);
  }
}

/** Upgrades `req` and joins the socket to the worker's shared event stream until either ends. */
export function proxyEvents(
  req: Request,
  handle: RuntimeHandle,
  workerId: string,
  after: number,
  opts: ProxyOptions = {},
): Response {
  const { socket, response } = Deno.upgradeWebSocket(req, {
    idleTimeout: opts.pingIntervalSec ?? 30,
  });
  opts.streams?.track(socket);
  const ac = new AbortController();
  socket.addEventListener("close", () => ac.abort());
  socket.addEventListener("error", () => ac.abort());
  socket.addEventListener("open", async () => {
    try {
      const end = await handle.streamEvents(workerId, after, socket, ac.signal);
      if (end === "lagging") {
        log.info("events.subscriber_lagging", {
          runtime_id: handle.runtimeId,
          worker_id: workerId,
        });
      }
    } catch {
      if (socket.readyState === WebSocket.OPEN) socket.close(1011, "upstream failed");
    } finally {
      ac.abort();
    }
  });
  return response;
}
