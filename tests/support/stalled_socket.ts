/**
 * A browser that stops reading: a WebSocket client over a raw TCP socket that
 * completes the handshake and then reads nothing until the test asks it to, so
 * the server's send buffer fills up for real. Then it reads the whole stream
 * (server frames are unmasked) up to the close frame.
 * @module
 */

/** What the stalled client finally read. */
export interface StalledRead {
  /** Text frames, parsed. */
  frames: Record<string, unknown>[];
  /** The close frame's code, or null when the connection ended without one. */
  closeCode: number | null;
}

export class StalledSocket {
  readonly #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  /** Where the unparsed bytes of `#buf` start. */
  #at = 0;
  #read = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `url` (ws://127.0.0.1:PORT/path?query) and completes the upgrade (101). */
  static async open(url: string): Promise<StalledSocket> {
    const u = new URL(url);
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await conn.write(new TextEncoder().encode(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ));
    const s = new StalledSocket(conn);
    // Read byte by byte up to the end of the response head: nothing of the stream is read.
    let head = "";
    const one = new Uint8Array(1);
    while (!head.endsWith("\r\n\r\n")) {
      const n = await conn.read(one);
      if (n === null) throw new Error(`upgrade failed: ${head}`);
      head += String.fromCharCode(one[0]);
      if (head.length > 8192) throw new Error("response head too long");
    }
    if (!head.startsWith("HTTP/1.1 101")) {
      conn.close();
      throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
    }
    return s;
  }

  /** Reads everything up to the server's close frame (or the end of the connection). */
  async readAll(maxBytes = 256 << 20): Promise<StalledRead> {
    const frames: Record<string, unknown>[] = [];
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const f = this.#nextFrame();
      if (f !== null) {
        if (f.opcode === 1) frames.push(JSON.parse(new TextDecoder().decode(f.payload)));
        if (f.opcode === 8) {
          const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : null;
          return { frames, closeCode: code };
        }
        continue;
      }
      const n = await this.#conn.read(chunk).catch(() => null);
      if (n === null) return { frames, closeCode: null };
      this.#read += n;
      if (this.#read > maxBytes) throw new Error("read more than maxBytes");
      // Keep only the unparsed tail, then append.
      const tail = this.#buf.subarray(this.#at);
      const next = new Uint8Array(tail.length + n);
      next.set(tail);
      next.set(chunk.subarray(0, n), tail.length);
      this.#buf = next;
      this.#at = 0;
    }
  }

  /** One complete unfragmented frame from the buffer, or null when more bytes are needed. */
  #nextFrame(): { opcode: number; payload: Uint8Array } | null {
    const b = this.#buf;
    let at = this.#at;
    if (b.length - at < 2) return null;
    const opcode = b[at] & 0x0f;
    let len = b[at + 1] & 0x7f;
    at += 2;
    if (len === 126) {
      if (b.length - at < 2) return null;
      len = (b[at] << 8) | b[at + 1];
      at += 2;
    } else if (len === 127) {
      if (b.length - at < 8) return null;
      len = Number(new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0));
      at += 8;
    }
    if (b.length - at < len) return null;
    this.#at = at + len;
    return { opcode, payload: b.subarray(at, at + len) };
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
