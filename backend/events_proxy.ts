/**
 * The browser-facing event WebSocket: forwards the runtime's frames unchanged.
 * Reconnection to a remote runtime (with `stream.reconnecting` /
 * `stream.resumed`) happens inside the handle, so the browser sees one stream.
 * @module
 */
import type { RuntimeHandle } from "./runtime_handle.ts";

export interface ProxyOptions {
  /** Seconds between WebSocket pings to the browser. */
  pingIntervalSec?: number;
  /** Bytes buffered towards the browser before forwarding waits. */
  highWaterMark?: number;
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
  const ac = new AbortController();
  socket.addEventListener("close", () => ac.abort());
  socket.addEventListener("error", () => ac.abort());
  socket.addEventListener("open", async () => {
    try {
      const frames = await handle.events(workerId, after, ac.signal);
      for await (const f of frames) {
        if (socket.readyState !== WebSocket.OPEN) break;
        socket.send(JSON.stringify(f));
        while (socket.bufferedAmount > highWater && socket.readyState === WebSocket.OPEN) {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, "stream ended");
    } catch {
      if (socket.readyState === WebSocket.OPEN) socket.close(1011, "upstream failed");
    } finally {
      ac.abort();
    }
  });
  return response;
}
