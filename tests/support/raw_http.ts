/**
 * One raw HTTP/1.1 exchange over TCP, for requests `fetch` will not send as written (a
 * foreign `Host`, a body on a GET). Read until the server closes; chunked bodies decoded.
 * @module
 */
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface RawHttpReply {
  status: number;
  headers: Headers;
  /** The status line and header lines as received. */
  head: string;
  body: string;
}

/** Sends `head` lines (request line first) and `body`, then reads the whole answer. */
export async function rawHttp(port: number, head: string[], body = ""): Promise<RawHttpReply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunks: Uint8Array[] = [];
  try {
    const bytes = enc.encode(body);
    const lines = [...head, `Content-Length: ${bytes.length}`, "Connection: close", "", ""];
    await conn.write(enc.encode(lines.join("\r\n")));
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } finally {
    conn.close();
  }
  const all = dec.decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  const split = all.indexOf("\r\n\r\n");
  if (split < 0) {
    throw new Error(`not a complete HTTP answer: ${JSON.stringify(all.slice(0, 200))}`);
  }
  const [statusLine, ...headerLines] = all.slice(0, split).split("\r\n");
  const headers = new Headers();
  for (const l of headerLines) {
    const i = l.indexOf(":");
    if (i > 0) headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  let text = all.slice(split + 4);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) text = dechunk(text);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]),
    headers,
    head: all.slice(0, split),
    body: text,
  };
}

function dechunk(s: string): string {
  let out = "";
  for (;;) {
    const eol = s.indexOf("\r\n");
    const size = parseInt(s.slice(0, eol), 16);
    if (!size) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    s = s.slice(eol + 2 + size + 2);
  }
}
