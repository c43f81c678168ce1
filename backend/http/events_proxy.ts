/**
 * The browser-facing event WebSocket: forwards the runtime's frames unchanged.
 * Reconnection to a remote runtime (with `stream.reconnecting` /
 * `stream.resumed`) happens inside the handle, so the browser sees one stream.
 * @module
 */
import { type RuntimeHandle } from "../registry/mod.ts";

export interface ProxyOptions {
  /** Seconds between WebSocket pings to the browser. */
  pingIntervalSec?: number;
  /** Bytes buffered towards the browser before forwarding waits. */
  highWaterMark?: number;
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

/** Upgrades `req` and pumps the worker's events into the socket until either side ends. */
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
  const highWater = opts.highWaterMark ?? 1 << 20;
  opts.streams?.track(socket);
  const ac = new AbortController();
  socket.addEventListener("close", () => ac.abort());
  socket.addEventListener("error", () => ac.abort());
  socket.addEventListener("open", async () => {
    try {
      const frames = await handle.events(workerId, after, ac.signal);
      let goingAway = false;
      for await (const f of frames) {
        if (socket.readyState !== WebSocket.OPEN) break;
        socket.send(JSON.stringify(f));
        if (f.type === "stream.ended" && (f as { reason?: string }).reason === "shutdown") {
          goingAway = true;
        }
        while (socket.bufferedAmount > highWater && socket.readyState === WebSocket.OPEN) {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      if (socket.readyState === WebSocket.OPEN) {
        socket.close(goingAway ? 1001 : 1000, goingAway ? "shutdown" : "stream ended");
      }
    } catch {
      if (socket.readyState === WebSocket.OPEN) socket.close(1011, "upstream failed");
    } finally {
      ac.abort();
    }
  });
  return response;
}
