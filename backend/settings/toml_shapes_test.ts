/**
 * The config-editor failures reported in issue 13, each on a real file through a real
 * ConnectionStore, and the shapes it refuses: a file with date/time values, a BOM, int64
 * extremes, CRLF; `[runtimes.remote]` as one table, as an inline array, or in dotted-key form
 * answer a typed `config_unsupported_shape` naming the line, and the file keeps every byte.
 * @module
 */
import assert from "node:assert/strict";
import { ApiError } from "../../shared/mod.ts";
import { ConnectionStore } from "./connection_store.ts";
import { UNSUPPORTED_SHAPES } from "../../tests/support/toml_shapes.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

async function withFile(
  text: string,
  fn: (path: string, store: ConnectionStore) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "yoi-toml-shapes-" });
  try {
    const path = `${dir}/workspace-backend.local.toml`;
    await Deno.writeFile(path, enc.encode(text));
    await fn(path, new ConnectionStore(path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The file's exact text, a BOM included (Deno.readTextFile would keep it too; this is explicit). */
async function bytesOf(path: string): Promise<string> {
  return dec.decode(await Deno.readFile(path));
}

const A = `[[runtimes.remote]]\nid = "a"\nendpoint = "http://127.0.0.1:9001"\n`;
const B = `[[runtimes.remote]]\nid = "b"\nendpoint = "http://127.0.0.1:9002"\n`;
const Z = { id: "z", endpoint: "http://127.0.0.1:9009" };
const Z_TEXT = `[[runtimes.remote]]\nid = "z"\nendpoint = "http://127.0.0.1:9009"\n`;

const DATES = {
  "offset date-time": "1979-05-27T07:32:00.999-07:00",
  "local date-time": "1979-05-27T07:32:00",
  "local date": "1979-05-27",
  "local time": "07:32:00.5",
};

for (const [kind, value] of Object.entries(DATES)) {
  Deno.test(`a ${kind} anywhere (top level, inside an entry, in an array) allows add, edit and delete`, async () => {
    const head = `when = ${value}\n[server]\nlisten = "127.0.0.1:8787"\n\n`;
    const a = `${A}seen = ${value}\nhistory = [${value}, ${value}]\n`;
    const text = `${head}${a}\n${B}`;
    await withFile(text, async (path, store) => {
      await store.add(Z);
      assert.equal(await bytesOf(path), `${text}\n${Z_TEXT}`);
      await store.remove("z");
      assert.equal(await bytesOf(path), text, "add then delete restores the file");
      await store.edit({ id: "a", endpoint: "http://127.0.0.1:9101", display_name: "A" });
      assert.equal(
        await bytesOf(path),
        `${head}${a.replace("9001", "9101")}display_name = "A"\n\n${B}`,
      );
      await store.remove("a");
      assert.equal(await bytesOf(path), `${head}${B}`);
    });
  });
}

Deno.test("a file that starts with a BOM keeps it when its first entry is removed, and on add", async () => {
  const text = `\uFEFF${A}\n${B}`;
  await withFile(text, async (path, store) => {
    await store.add(Z);
    assert.equal(await bytesOf(path), `${text}\n${Z_TEXT}`);
    await store.remove("a");
    assert.equal(await bytesOf(path), `\uFEFF${B}\n${Z_TEXT}`);
    await store.remove("b");
    await store.remove("z");
    assert.equal(await bytesOf(path), `\uFEFF`);
    await store.add(Z);
    assert.equal(await bytesOf(path), `\uFEFF${Z_TEXT}`);
  });
});

Deno.test("the largest and smallest 64-bit integers do not block edits", async () => {
  const text = `max = 9223372036854775807\nmin = -9223372036854775808\n\n${A}` +
    `big = 0x7FFFFFFFFFFFFFFF\n`;
  await withFile(text, async (path, store) => {
    assert.deepEqual((await store.snapshot()).remotes.map((r) => r.id), ["a"]);
    await store.add(Z);
    await store.edit({ id: "a", endpoint: "http://127.0.0.1:9101" });
    await store.remove("z");
    assert.equal(await bytesOf(path), text.replace("9001", "9101"));
  });
});

Deno.test("a CRLF file with a BOM, dates and int64 extremes keeps CRLF and the BOM through every edit", async () => {
  const crlf = (s: string) => s.replaceAll("\n", "\r\n");
  const text = crlf(`\uFEFF# c\nt = 07:32:00\nn = -9223372036854775808\n\n${A}\n${B}`);
  await withFile(text, async (path, store) => {
    await store.add(Z);
    assert.equal(await bytesOf(path), `${text}${crlf(`\n${Z_TEXT}`)}`);
    await store.remove("z");
    assert.equal(await bytesOf(path), text);
    await store.remove("a");
    assert.equal(
      await bytesOf(path),
      crlf(`\uFEFF# c\nt = 07:32:00\nn = -9223372036854775808\n\n${B}`),
    );
  });
});

for (const shape of UNSUPPORTED_SHAPES) {
  Deno.test(`unsupported shape (${shape.name}): add, edit and delete answer config_unsupported_shape naming line ${shape.line}; no byte changes`, async () => {
    await withFile(shape.text, async (path, store) => {
      const bytes = await Deno.readFile(path);
      const refused = (e: unknown) => {
        assert.ok(e instanceof ApiError, String(e));
        assert.equal(e.code, "config_unsupported_shape", e.message);
        assert.equal(e.status, 409);
        assert.match(e.message, new RegExp(`\\bline ${shape.line}\\b`));
        assert.equal(e.diagnostics[0]?.code, "config_unsupported_shape");
        assert.equal(e.diagnostics[0]?.line, shape.line);
        assert.equal(e.diagnostics[0]?.file, "workspace-backend.local.toml");
        return true;
      };
      await assert.rejects(store.add(Z), refused);
      await assert.rejects(store.remove("a"), refused);
      await assert.rejects(store.edit({ id: "a", endpoint: "http://127.0.0.1:2" }), refused);
      assert.deepEqual(await Deno.readFile(path), bytes);
      const dir = path.slice(0, path.lastIndexOf("/"));
      assert.deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tmp-")), []);
    });
  });
}
