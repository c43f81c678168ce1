/**
 * Capability tokens (DESIGN §8) against real runtime processes started with `--trust-key`:
 * the test mints tokens with the Backend's own code (backend/registry/capability.ts) and sends them
 * straight to the runtime — a valid one passes, and wrong audience, expiry, other path, other
 * method, a replayed jti, an unknown key, a tampered signature and a read token on a mutating
 * route each get 401; two trusted keys allow rotation. Then the whole worker flow (create,
 * input, transcript, WS events) runs through a real Backend process that holds no bearer
 * token at all, only its key (printed by `key show`, shown by `GET /api/backend`).
 * @module
 */
import assert from "node:assert/strict";
import { CapabilityMinter, loadOrCreateBackendKey } from "../backend/registry/capability.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { EventSocket } from "./support/event_socket.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { waitUntil } from "./support/wait.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function keyIn(dir: string) {
  return await loadOrCreateBackendKey(dir);
}

async function send(url: string, method: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text };
}

Deno.test("capability tokens: a real runtime accepts exactly the request a token was minted for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "yoi-cap-" });
  try {
    const [k1, k2, stranger] = await Promise.all(
      ["k1", "k2", "k3"].map(async (n) => {
        await Deno.mkdir(`${dir}/${n}`);
        return await keyIn(`${dir}/${n}`);
      }),
    );
    await using rt = await RuntimeProcess.start({
      id: "capr",
      extraArgs: ["--trust-key", k1.publicKey, "--trust-key", k2.publicKey],
    });
    const m1 = new CapabilityMinter(k1);
    const m2 = new CapabilityMinter(k2);
    const url = (p: string) => `${rt.url}${p}`;
    const create = "/v1/workers";

    // Valid: read token for reads, a per-request token for a mutation; both rotated keys work.
    assert.equal((await send(url("/v1/runtime"), "GET", await m1.read("capr"))).status, 200);
    assert.equal((await send(url("/v1/workers"), "GET", await m2.read("capr"))).status, 200);
    const ok = await send(url(create), "POST", await m1.mint("capr", "POST", create), {});
    assert.equal(ok.status, 201, ok.text);
    const wid = JSON.parse(ok.text).worker.worker_id as string;
    assert.equal(
      (await send(url(create), "POST", await m2.mint("capr", "POST", create), {})).status,
      201,
    );
    // The query is part of the bound path.
    const tq = `/v1/workers/${wid}/transcript?after=0`;
    assert.equal((await send(url(tq), "GET", await m1.mint("capr", "GET", tq))).status, 200);

    // No token, and no bearer token configured to fall back on.
    assert.equal((await send(url("/v1/runtime"), "GET", null)).status, 401);

    const refused: [string, () => Promise<{ status: number }>][] = [
      [
        "wrong audience",
        async () => send(url(create), "POST", await m1.mint("other", "POST", create), {}),
      ],
      ["expired", async () => {
        const past = new CapabilityMinter(k1, { now: () => Date.now() / 1000 - 120 });
        return send(url(create), "POST", await past.mint("capr", "POST", create), {});
      }],
      ["issued in the future", async () => {
        const future = new CapabilityMinter(k1, { now: () => Date.now() / 1000 + 120 });
        return send(url(create), "POST", await future.mint("capr", "POST", create), {});
      }],
      ["other path", async () =>
        send(
          url(`/v1/workers/${wid}/stop`),
          "POST",
          await m1.mint("capr", "POST", `/v1/workers/${wid}/cancel`),
        )],
      [
        "other query",
        async () =>
          send(url(tq), "GET", await m1.mint("capr", "GET", `/v1/workers/${wid}/transcript`)),
      ],
      [
        "other method",
        async () => send(url(create), "POST", await m1.mint("capr", "GET", create), {}),
      ],
      [
        "read token on a mutating route",
        async () => send(url(create), "POST", await m1.read("capr"), {}),
      ],
      [
        "unknown key",
        async () =>
          send(
            url(create),
            "POST",
            await new CapabilityMinter(stranger).mint("capr", "POST", create),
            {},
          ),
      ],
      ["tampered signature", async () => {
        const t = await m1.mint("capr", "POST", create);
        const last = t.at(-2) === "A" ? "B" : "A";
        return send(url(create), "POST", `${t.slice(0, -2)}${last}${t.at(-1)}`, {});
      }],
      ["tampered claims", async () => {
        const [h, p, s] = (await m1.mint("other", "POST", create)).split(".");
        const claims = JSON.parse(atob(p.replaceAll("-", "+").replaceAll("_", "/")));
        claims.aud = "capr";
        const p2 = btoa(JSON.stringify(claims)).replaceAll("+", "-").replaceAll("/", "_")
          .replace(/=+$/, "");
        return send(url(create), "POST", `${h}.${p2}.${s}`, {});
      }],
      ["not a JWT", () => send(url(create), "POST", "not-a-token", {})],
    ];
    for (const [what, attempt] of refused) {
      const r = await attempt();
      assert.equal(r.status, 401, what);
    }

    // Replay: the same mutating token works once.
    const once = await m1.mint("capr", "POST", create);
    assert.equal((await send(url(create), "POST", once, {})).status, 201);
    assert.equal((await send(url(create), "POST", once, {})).status, 401, "replayed jti");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capability tokens: key rotation through --trust-keys-file, bearer token still accepted beside keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "yoi-cap-rot-" });
  try {
    await Deno.mkdir(`${dir}/old`);
    await Deno.mkdir(`${dir}/new`);
    const [oldKey, newKey] = [await keyIn(`${dir}/old`), await keyIn(`${dir}/new`)];
    await Deno.writeTextFile(`${dir}/trusted`, `# rotated\n${newKey.publicKey}\n`);
    await using rt = await RuntimeProcess.start({
      id: "rot",
      token: "static-bearer-1",
      extraArgs: ["--trust-keys-file", `${dir}/trusted`],
    });
    const u = `${rt.url}/v1/runtime`;
    assert.equal(
      (await send(u, "GET", await new CapabilityMinter(newKey).read("rot"))).status,
      200,
    );
    assert.equal(
      (await send(u, "GET", await new CapabilityMinter(oldKey).read("rot"))).status,
      401,
    );
    assert.equal((await send(u, "GET", "static-bearer-1")).status, 200, "bearer beside keys");
    assert.equal((await send(u, "GET", "static-bearer-2")).status, 401);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capability tokens: the whole worker flow through a Backend that holds only its key", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-cap-be-" });
  try {
    // `key show` creates the key on first use and prints the value --trust-key takes.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "key", "show", "--state-dir", stateDir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const publicKey = new TextDecoder().decode(out.stdout).trim();
    assert.match(publicKey, /^ed25519:[A-Za-z0-9_-]{43}$/);
    assert.equal((await Deno.stat(`${stateDir}/backend-key`)).mode! & 0o777, 0o600);

    await using rt = await RuntimeProcess.start({
      id: "capw",
      extraArgs: ["--trust-key", publicKey],
    });
    assert.equal((await send(`${rt.url}/v1/runtime`, "GET", null)).status, 401, "auth required");
    const bp = await BackendProcess.start({
      stateDir,
      config: `[[runtimes.remote]]\nid = "capw"\nendpoint = "${rt.url}"\n`,
    });
    try {
      const c = bp.client;
      assert.equal(
        (await c.backendInfo()).backend.public_key,
        publicKey,
        "GET /api/backend public_key",
      );
      const { worker } = await c.createWorker("capw", {});
      const wid = worker.worker_id;
      await using sock = new EventSocket(c.eventsUrl("capw", wid, 0));
      assert.equal(await sock.opened, true);
      await c.input("capw", wid, "hello through capability tokens");
      await sock.waitFor(
        "turn.completed over the proxied WS",
        (s) => s.events().some((e) => e.type === "turn.completed"),
      );
      const page = await waitUntil("the transcript", async () => {
        const t = await c.transcript("capw", wid);
        return t.entries.some((e) => e.type === "turn.completed") ? t : null;
      });
      assert.ok(page.entries.some((e) => e.type === "input.accepted"));
      assert.equal((await c.getRuntime("capw")).runtime.status, "running");
      assert.ok(!bp.output.includes("eyJ"), "a token was logged");
    } finally {
      await bp.kill();
    }
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("capability tokens: managed trust — trust add, then revoke ends the key at the next start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "yoi-cap-trust-" });
  const RUNTIME = new URL("../runtime/main.ts", import.meta.url).pathname;
  const trust = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", RUNTIME, "trust", ...args, "--data-dir", `${dir}/data`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
  };
  try {
    await Deno.mkdir(`${dir}/k`);
    const key = await keyIn(`${dir}/k`);
    assert.equal((await trust("add", key.publicKey)).code, 0);
    assert.equal((await Deno.stat(`${dir}/data/trusted-keys.json`)).mode! & 0o777, 0o600);
    const m = new CapabilityMinter(key);
    {
      await using rt = await RuntimeProcess.start({
        id: "tr",
        store: "fs",
        dataDir: `${dir}/data`,
      });
      const r = await send(`${rt.url}/v1/runtime`, "GET", await m.read("tr"));
      assert.equal(r.status, 200, "a key from the trust file is accepted");
    }
    assert.equal((await trust("revoke", "backend")).code, 0);
    assert.match((await trust("list")).text, /revoked:\n {2}backend {2}kid \S+ {2}revoked /);
    {
      await using rt = await RuntimeProcess.start({
        id: "tr",
        store: "fs",
        dataDir: `${dir}/data`,
      });
      const r = await send(`${rt.url}/v1/runtime`, "GET", await m.read("tr"));
      assert.equal(r.status, 401, "a revoked key is refused");
    }
    const again = await trust("add", key.publicKey);
    assert.equal(again.code, 2, "a revoked key is never trusted again");
    assert.match(again.text, /was revoked/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
