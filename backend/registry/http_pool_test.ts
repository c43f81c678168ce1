/**
 * HttpPool against real servers on 127.0.0.1: `Deno.serve` where a normal HTTP server does,
 * and small raw-socket servers (marked RAW) for what a normal server will not do on demand —
 * drop a kept-alive connection right after reading the next request, frame an answer by
 * chunks or by closing, lie about sizes, answer garbage or nothing at all.
 */
import assert from "node:assert/strict";
import { concatBytes } from "../../shared/bytes.ts";
import { HttpPool, HttpPoolError, type HttpPoolErrorKind } from "./http_pool.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

/** A `Deno.serve` that records the client port of every request (one port = one connection). */
function countingServer(handler?: (req: Request) => Response | Promise<Response>) {
  const ports: number[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      ports.push(info.remoteAddr.port);
      return handler ? await handler(req) : Response.json({ path: new URL(req.url).pathname });
    },
  );
  return { server, ports, port: server.addr.port };
}

/**
 * RAW: a server that reads one request head (and its declared body) at a time and answers
 * each with `answer(n, head)`, where n counts requests over all connections. `answer`
 * returns the bytes to write (an HTTP/1.0 or `connection: close` answer then ends the
 * connection), or null to close the connection without answering.
 */
function rawServer(answer: (n: number, head: string) => string | Uint8Array | null) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let requests = 0;
  let accepted = 0;
  const serveConn = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(64 * 1024);
    let have = 0;
    try {
      for (;;) {
        let end = -1;
        while ((end = dec.decode(buf.subarray(0, have)).indexOf("\r\n\r\n")) < 0) {
          const n = await conn.read(buf.subarray(have));
          if (n === null) return;
          have += n;
        }
        const head = dec.decode(buf.subarray(0, end));
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        while (have < end + 4 + len) {
          const n = await conn.read(buf.subarray(have));
          if (n === null) return;
          have += n;
        }
        buf.copyWithin(0, end + 4 + len, have);
        have -= end + 4 + len;
        const out = answer(++requests, head);
        if (out === null) return;
        await conn.write(typeof out === "string" ? enc.encode(out) : out);
        // An answer framed by the end of the connection (HTTP/1.0 or `connection: close`).
        if (typeof out === "string" && /^HTTP\/1\.0|connection: close/i.test(out)) return;
      }
    } catch {
      /* the client went away */
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        conns.add(conn);
        serveConn(conn);
      }
    } catch { /* listener closed */ }
  })();
  return {
    port: listener.addr.port,
    requests: () => requests,
    accepted: () => accepted,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${
    enc.encode(body).byteLength
  }\r\n${extra}\r\n${body}`;

async function expectKind(p: Promise<unknown>, kind: HttpPoolErrorKind): Promise<HttpPoolError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HttpPoolError, `expected HttpPoolError, got ${e}`);
    assert.equal(e.kind, kind, `expected ${kind}, got ${e.kind}`);
    return e;
  }
  assert.fail(`expected HttpPoolError ${kind}, the request succeeded`);
}

const get = (pool: HttpPool, path = "/x", more: Partial<Parameters<HttpPool["request"]>[0]> = {}) =>
  pool.request({ method: "GET", path, timeoutMs: 5000, ...more });

Deno.test("HttpPool: sequential requests reuse one connection; parallel ones at most the limit", async () => {
  const s = countingServer();
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port, maxConnections: 4 });
    for (let i = 0; i < 30; i++) {
      const r = await get(pool, `/seq/${i}`);
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(dec.decode(r.body)), { path: `/seq/${i}` });
      assert.equal(r.headers.get("content-type"), "application/json");
    }
    assert.equal(new Set(s.ports).size, 1, "30 sequential requests, one connection");
    assert.equal(pool.connectionsOpened, 1);
    for (let round = 0; round < 5; round++) {
      const all = await Promise.all(Array.from({ length: 12 }, (_, i) => get(pool, `/p/${i}`)));
      assert.ok(all.every((r) => r.status === 200));
    }
    assert.ok(new Set(s.ports).size <= 4, `${new Set(s.ports).size} connections for a limit of 4`);
    assert.equal(pool.connectionsOpened, new Set(s.ports).size);
    pool.close();
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("HttpPool: bodies and headers go out as given; the Host header names the origin", async () => {
  let seen: { method: string; host: string | null; type: string | null; body: string } | null =
    null;
  const s = countingServer(async (req) => {
    seen = {
      method: req.method,
      host: req.headers.get("host"),
      type: req.headers.get("content-type"),
      body: await req.text(),
    };
    return new Response(null, { status: 204 });
  });
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port });
    const r = await pool.request({
      method: "POST",
      path: "/in?x=1",
      headers: "content-type: application/json\r\n",
      body: enc.encode('{"text":"héllo"}'),
      timeoutMs: 5000,
    });
    assert.equal(r.status, 204);
    assert.equal(r.body.byteLength, 0);
    assert.deepEqual(seen, {
      method: "POST",
      host: `127.0.0.1:${s.port}`,
      type: "application/json",
      body: '{"text":"héllo"}',
    });
    pool.close();
  } finally {
    await s.server.shutdown();
  }
});

Deno.test("HttpPool: a reused connection the server dropped is retried once for GET, never for POST", async () => {
  // RAW: answers the first request of each connection, then reads the second one and closes
  // without a word — the race of a server closing an idle connection as a request arrives.
  const s = rawServer((n) => n % 2 === 1 ? ok(`{"n":${n}}`) : null);
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port, maxConnections: 1 });
    assert.equal((await get(pool)).status, 200); // request 1 on connection 1
    // Request 2 reuses connection 1, which is dropped: the GET is sent again on a new
    // connection (request 3), which answers.
    const r = await get(pool);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(dec.decode(r.body)), { n: 3 });
    assert.equal(s.requests(), 3);
    assert.equal(s.accepted(), 2);
    // Request 4 reuses connection 2 and is dropped: a POST is not sent again.
    const e = await expectKind(
      pool.request({ method: "POST", path: "/in", body: enc.encode("{}"), timeoutMs: 5000 }),
      "reset",
    );
    assert.ok(!String(e.message).includes("127.0.0.1"));
    assert.equal(s.requests(), 4, "the POST reached the server once");
    assert.equal(s.accepted(), 2);
    pool.close();
  } finally {
    await s.close();
  }
});

Deno.test("HttpPool: a GET on a fresh connection that breaks is not retried", async () => {
  const s = rawServer(() => null); // RAW: reads every request and hangs up
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port });
    await expectKind(get(pool), "reset");
    assert.equal(s.requests(), 1);
    pool.close();
  } finally {
    await s.close();
  }
});

Deno.test("HttpPool: an idle connection the server closed is not reused, so a POST after it works", async () => {
  // RAW: answers and then closes every connection a moment later (without Connection: close).
  let conns = 0;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const loop = (async () => {
    for await (const conn of listener) {
      conns++;
      (async () => {
        const buf = new Uint8Array(4096);
        let text = "";
        while (!text.includes("\r\n\r\n")) {
          const n = await conn.read(buf);
          if (n === null) return conn.close();
          text += dec.decode(buf.subarray(0, n));
        }
        const len = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
        while (enc.encode(text).byteLength < text.indexOf("\r\n\r\n") + 4 + len) {
          const n = await conn.read(buf);
          if (n === null) break;
          text += dec.decode(buf.subarray(0, n));
        }
        await conn.write(enc.encode(ok('{"ok":true}')));
        await new Promise((r) => setTimeout(r, 20));
        conn.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: listener.addr.port });
    assert.equal((await get(pool)).status, 200);
    // Give the close time to arrive (bounded), then send a request that must not be repeated.
    for (let i = 0; i < 50 && pool.idleConnections > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(pool.idleConnections, 0, "the closed connection left the idle list");
    const r = await pool.request({
      method: "POST",
      path: "/in",
      body: enc.encode("{}"),
      timeoutMs: 5000,
    });
    assert.equal(r.status, 200);
    assert.equal(conns, 2);
    pool.close();
  } finally {
    listener.close();
    await loop;
  }
});

Deno.test("HttpPool: answers over the size cap are refused, however they are framed", async () => {
  const big = "x".repeat(5000);
  const chunked = (body: string) =>
    `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n` +
    body.match(/.{1,1000}/g)!.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join("") +
    "0\r\n\r\n";
  const s = rawServer((_n, head) => {
    if (head.includes("/length")) return ok(big);
    if (head.includes("/chunked")) return chunked(big);
    if (head.includes("/close")) return `HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n${big}`;
    if (head.includes("/small-chunked")) return chunked("a".repeat(2500));
    return ok("{}");
  });
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port });
    for (const path of ["/length", "/chunked", "/close"]) {
      await expectKind(get(pool, path, { maxBytes: 4096 }), "too_large");
    }
    // Under the cap, each framing gives the exact body.
    const r = await get(pool, "/small-chunked", { maxBytes: 4096 });
    assert.equal(dec.decode(r.body), "a".repeat(2500));
    assert.equal(dec.decode((await get(pool, "/length", { maxBytes: 8192 })).body), big);
    pool.close();
  } finally {
    await s.close();
  }
});

Deno.test("HttpPool: chunked with extensions and trailers, close-delimited, and 100 Continue", async () => {
  const s = rawServer((_n, head) => {
    if (head.includes("/chunked")) {
      return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nx-trailer: 1\r\n\r\n";
    }
    if (head.includes("/continue")) return "HTTP/1.1 100 Continue\r\n\r\n" + ok('{"c":1}');
    return "HTTP/1.0 200 OK\r\n\r\nuntil the end";
  });
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port, maxConnections: 1 });
    assert.equal(dec.decode((await get(pool, "/chunked")).body), "abcdefg");
    assert.equal(dec.decode((await get(pool, "/chunked")).body), "abcdefg");
    assert.equal(s.accepted(), 1, "a chunked answer keeps the connection");
    assert.equal(dec.decode((await get(pool, "/continue")).body), '{"c":1}');
    assert.equal(dec.decode((await get(pool, "/close")).body), "until the end");
    assert.equal(dec.decode((await get(pool, "/close")).body), "until the end");
    assert.equal(s.accepted(), 2, "an answer framed by the close needs a new connection");
    pool.close();
  } finally {
    await s.close();
  }
});

Deno.test("HttpPool: header fields read in any case; a non-ASCII value byte for byte", async () => {
  const s = rawServer(() =>
    concatBytes([
      enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Name: caf"),
      new Uint8Array([0xe9]), // latin1 "é": a byte, not UTF-8
      enc.encode('\r\nETag: "AbC"\r\n\r\nok'),
    ])
  );
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port });
    const r = await get(pool, "/");
    assert.equal(dec.decode(r.body), "ok");
    assert.equal(r.headers.get("x-name"), "caf\u00e9");
    assert.equal(r.headers.get("etag"), '"AbC"');
    assert.equal(r.headers.get("content-length"), "2");
    pool.close();
  } finally {
    await s.close();
  }
});

Deno.test("HttpPool: redirects are returned, not followed; garbage is malformed", async () => {
  const target = countingServer();
  const s = rawServer((_n, head) => {
    if (head.includes("/moved")) {
      return `HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:${target.port}/x\r\n` +
        `content-length: 0\r\n\r\n`;
    }
    if (head.includes("/length")) {
      return "HTTP/1.1 200 OK\r\ncontent-length: 12abc\r\n\r\n";
    }
    return "SSH-2.0-OpenSSH\r\n\r\n";
  });
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: s.port });
    const r = await get(pool, "/moved");
    assert.equal(r.status, 307);
    assert.equal(target.ports.length, 0, "the redirect target was never contacted");
    await expectKind(get(pool, "/ssh"), "malformed");
    await expectKind(get(pool, "/length"), "malformed");
    pool.close();
  } finally {
    await s.close();
    await target.server.shutdown();
  }
});

Deno.test("HttpPool: a silent server times out, a caller's abort aborts, a closed port fails to connect", async () => {
  // RAW: accepts and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const loop = (async () => {
    try {
      for await (const c of listener) held.push(c);
    } catch { /* closed */ }
  })();
  try {
    const pool = new HttpPool({ hostname: "127.0.0.1", port: listener.addr.port });
    await expectKind(get(pool, "/", { timeoutMs: 100 }), "timeout");
    const ac = new AbortController();
    const p = get(pool, "/", { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expectKind(p, "aborted");
    pool.close();
  } finally {
    listener.close();
    await loop;
    for (const c of held) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  await expectKind(get(new HttpPool({ hostname: "127.0.0.1", port })), "connect");
});

Deno.test("HttpPool: requests beyond the connection limit wait; beyond the queue limit they are refused", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const s = countingServer(async () => {
    await gate;
    return Response.json({});
  });
  try {
    const pool = new HttpPool({
      hostname: "127.0.0.1",
      port: s.port,
      maxConnections: 2,
      maxQueue: 3,
    });
    const running = Array.from({ length: 5 }, () => get(pool));
    await expectKind(get(pool), "busy");
    release();
    const all = await Promise.all(running);
    assert.ok(all.every((r) => r.status === 200));
    assert.ok(new Set(s.ports).size <= 2);
    pool.close();
    assert.equal(pool.idleConnections, 0, "close keeps no connection idle");
    assert.equal((await get(pool)).status, 200, "a closed pool still serves, unpooled");
    assert.equal(pool.idleConnections, 0);
  } finally {
    await s.server.shutdown();
  }
});
