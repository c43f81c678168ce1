/**
 * A TCP forwarder on 127.0.0.1: a second endpoint for the same runtime, so a
 * test can move a connection from one endpoint to another (or cut one) while
 * the runtime itself keeps running. It also counts the WebSocket upgrades that
 * pass through, so a test can see how many event streams a Backend opened.
 * @module
 */
export class TcpForward {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  #closed = false;
  /** WebSocket upgrade requests passed through so far. */
  upgrades = 0;
  /** Connections that started with a WebSocket upgrade and are still open. */
  openUpgrades = 0;
  /** Request lines (`GET /v1/workers?wait=5000`) seen so far, the last 1000. */
  readonly requests: string[] = [];
  #accepting: Promise<void>;

  constructor(targetPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept(targetPort);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections passed through so far that are still open. */
  get open(): number {
    return this.#conns.size;
  }

  async #accept(targetPort: number) {
    for (;;) {
      let inbound: Deno.Conn;
      try {
        inbound = await this.#listener.accept();
      } catch {
        return; // closed
      }
      if (this.#closed) {
        inbound.close();
        return;
      }
      this.#pipe(inbound, targetPort).catch(() => {});
    }
  }

  async #pipe(inbound: Deno.Conn, targetPort: number) {
    let outbound: Deno.Conn;
    try {
      outbound = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      inbound.close();
      return;
    }
    this.#conns.add(inbound);
    this.#conns.add(outbound);
    const done = () => {
      for (const c of [inbound, outbound]) {
        if (this.#conns.delete(c)) {
          try {
            c.close();
          } catch { /* closed */ }
        }
      }
    };
    let upgrade = false;
    let first = true;
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, ctl) => {
        // A request head starts a chunk (small requests, one per write): note its line.
        const line = /^(GET|POST|PATCH|DELETE|PUT) (\S+) HTTP\/1\.1\r\n/.exec(
          new TextDecoder().decode(chunk.subarray(0, 512)),
        );
        if (line && !upgrade) {
          this.requests.push(`${line[1]} ${line[2]}`);
          if (this.requests.length > 1000) this.requests.shift();
        }
        if (first) {
          first = false;
          const head = new TextDecoder().decode(chunk.subarray(0, 4096));
          upgrade = head.startsWith("GET ") && /\r\nupgrade:\s*websocket/i.test(head);
          if (upgrade) {
            this.upgrades++;
            this.openUpgrades++;
          }
        }
        ctl.enqueue(chunk);
      },
    });
    await Promise.race([
      inbound.readable.pipeThrough(tap).pipeTo(outbound.writable).catch(() => {}),
      outbound.readable.pipeTo(inbound.writable).catch(() => {}),
    ]);
    if (upgrade) this.openUpgrades--;
    done();
  }

  /** Stops accepting and cuts every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    this.#conns.clear();
    await this.#accepting;
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }
}
