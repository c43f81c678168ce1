/**
 * Golden-file tests of the surgical `[[runtimes.remote]]` edits (DESIGN §7):
 * comments, odd spacing, unknown tables and keys, multi-line strings that
 * contain a header-looking line, CRLF files. Edits go through a real
 * ConnectionStore on real files in a temp dir; the result is compared with
 * an exact golden text, a line diff that may touch only the edited entries,
 * and an independent parser (python3 tomllib) besides smol-toml.
 * @module
 */
import assert from "node:assert/strict";
import { plain, pythonToml } from "../../tests/support/python_toml.ts";
import { parse } from "smol-toml";
import { ApiError } from "../../shared/mod.ts";
import { addConnection, removeConnection } from "./config_edit.ts";
import { ConnectionStore } from "./connection_store.ts";
import { renderRemote, tomlString } from "./toml_edit.ts";
import { findLayout } from "./toml_layout.ts";

/** The same value with CRLF in every string turned into LF. */
function lf(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v).replaceAll("\\r\\n", "\\n"));
}

/** Line-level diff (LCS): the lines only in `a` and the lines only in `b`, with indexes. */
function lineDiff(a: string[], b: string[]) {
  const n = a.length, m = b.length;
  const dp = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
  }
  const removed: { at: number; line: string }[] = [];
  const added: { at: number; line: string }[] = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < m && (i === n || dp[i][j + 1] >= dp[i + 1][j])) {
      added.push({ at: j, line: b[j++] });
    } else {
      removed.push({ at: i, line: a[i++] });
    }
  }
  return { removed, added };
}

/** Lines with their terminators, as the editor sees them. */
function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

async function withTempFile(
  text: string,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "yoi-toml-edit-" });
  try {
    const path = `${dir}/workspace-backend.local.toml`;
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// The entry of "b" is the one deleted; "d" is added. Everything else must survive byte for byte.
const B_ENTRY = `[[runtimes.remote]]
id = "b"
endpoint = "http://127.0.0.1:9002"
display_name = "B runtime"
notes = '''
[[runtimes.remote]]
id = "ghost"
'''
tags = ['x', 'y']
`;

const INPUT = `# yoi workspace backend config
# top comment, kept byte for byte

[server]
listen   =   "127.0.0.1:8787"   # inline comment
allowed_hosts = [ "yoi.local" ]

[custom.thing]
note = """
not a header:
[[runtimes.remote]]
id = "fake"
endpoint = "http://fake"
"""
level = 3
nested = { a = 1, b = [1, 2] }

# comment before the first remote
[[ runtimes.remote ]]
id   =   "a"
endpoint="http://127.0.0.1:9001"   # first
region = "eu"

# between a and b
${B_ENTRY}
# between b and c
[[runtimes.remote]]   # the c entry
id = "c"
endpoint = "https://c.example:9443"
token_ref = "env:YOI_C_TOKEN"

# trailing table
[other]
k = 'v' # keep me
`;

const D_ENTRY = `[[runtimes.remote]]
id = "d"
endpoint = "http://127.0.0.1:9004"
display_name = "D runtime"
token_ref = "env:YOI_D_TOKEN"
`;

const GOLDEN = `# yoi workspace backend config
# top comment, kept byte for byte

[server]
listen   =   "127.0.0.1:8787"   # inline comment
allowed_hosts = [ "yoi.local" ]

[custom.thing]
note = """
not a header:
[[runtimes.remote]]
id = "fake"
endpoint = "http://fake"
"""
level = 3
nested = { a = 1, b = [1, 2] }

# comment before the first remote
[[ runtimes.remote ]]
id   =   "a"
endpoint="http://127.0.0.1:9001"   # first
region = "eu"

# between a and b

# between b and c
[[runtimes.remote]]   # the c entry
id = "c"
endpoint = "https://c.example:9443"
token_ref = "env:YOI_C_TOKEN"

${D_ENTRY}
# trailing table
[other]
k = 'v' # keep me
`;

const D = {
  id: "d",
  endpoint: "http://127.0.0.1:9004",
  display_name: "D runtime",
  token_ref: "env:YOI_D_TOKEN",
};

/** The config the edit intends: the input's document with b removed and d appended. */
function intendedConfig(input: string): unknown {
  const doc = parse(input) as { runtimes: { remote: { id: string }[] } };
  doc.runtimes.remote = doc.runtimes.remote.filter((r) => r.id !== "b");
  doc.runtimes.remote.push(D);
  return plain(doc);
}

Deno.test("golden: add one entry and delete the middle one; only those entries change", async () => {
  await withTempFile(INPUT, async (path) => {
    const store = new ConnectionStore(path);
    const before = await store.snapshot();
    assert.ok(before.ok);
    assert.deepEqual(before.remotes.map((r) => r.id), ["a", "b", "c"]);

    await store.add(D);
    await store.remove("b");

    const text = await Deno.readTextFile(path);
    assert.equal(text, GOLDEN);

    // The line diff touches only b's entry (removed) and d's entry (added, with its separator).
    const { removed, added } = lineDiff(lines(INPUT), lines(text));
    assert.deepEqual(removed.map((r) => r.line).join(""), B_ENTRY);
    // (Where the LCS puts the one separating blank line is arbitrary.)
    assert.deepEqual(added.filter((r) => r.line !== "\n").map((r) => r.line).join(""), D_ENTRY);
    assert.equal(added.filter((r) => r.line === "\n").length, 1);
    // Removed lines are contiguous, and so are the added ones.
    assert.equal(removed.at(-1)!.at - removed[0].at + 1, removed.length);
    assert.equal(added.at(-1)!.at - added[0].at + 1, added.length);

    // Two independent parsers agree with the intended config.
    const intended = intendedConfig(INPUT);
    assert.deepEqual(plain(parse(text)), intended);
    assert.deepEqual(await pythonToml(path), intended);

    const after = await store.snapshot();
    assert.ok(after.ok);
    assert.deepEqual(after.remotes.map((r) => r.id), ["a", "c", "d"]);
    assert.deepEqual(after.remotes[2], D);
  });
});

Deno.test("golden: the same edits on a CRLF file keep CRLF everywhere", async () => {
  const crlf = (s: string) => s.replaceAll("\n", "\r\n");
  await withTempFile(crlf(INPUT), async (path) => {
    const store = new ConnectionStore(path);
    await store.add(D);
    await store.remove("b");
    const text = await Deno.readTextFile(path);
    assert.equal(text, crlf(GOLDEN));
    assert.ok(!/[^\r]\n/.test(text), "every line ends with CRLF");
    const intended = intendedConfig(crlf(INPUT));
    assert.deepEqual(plain(parse(text)), intended);
    // tomllib normalises CRLF inside multi-line strings to LF (the spec allows either).
    assert.deepEqual(lf(await pythonToml(path)), lf(intended));
  });
});

Deno.test("golden: deleting the first and the last entry, then adding to a file without remotes", async () => {
  const input = `# header
[server]
listen = "127.0.0.1:8787"

[[runtimes.remote]]
id = "first"
endpoint = "http://127.0.0.1:9001"

[[runtimes.remote]]
id = "last"
endpoint = "http://127.0.0.1:9002"
# a trailing comment inside the last entry's region
`;
  await withTempFile(input, async (path) => {
    const store = new ConnectionStore(path);
    await store.remove("first");
    assert.equal(
      await Deno.readTextFile(path),
      `# header
[server]
listen = "127.0.0.1:8787"

[[runtimes.remote]]
id = "last"
endpoint = "http://127.0.0.1:9002"
# a trailing comment inside the last entry's region
`,
    );
    await store.remove("last");
    const emptied = await Deno.readTextFile(path);
    assert.equal(
      emptied,
      `# header
[server]
listen = "127.0.0.1:8787"

# a trailing comment inside the last entry's region
`,
    );
    assert.deepEqual(await pythonToml(path), { server: { listen: "127.0.0.1:8787" } });

    await store.add({ id: "new", endpoint: "https://new.example" });
    assert.equal(
      await Deno.readTextFile(path),
      `${emptied}\n[[runtimes.remote]]\nid = "new"\nendpoint = "https://new.example"\n`,
    );
    assert.deepEqual(await pythonToml(path), {
      server: { listen: "127.0.0.1:8787" },
      runtimes: { remote: [{ id: "new", endpoint: "https://new.example" }] },
    });
  });
});

Deno.test("add to a missing file creates it with just the entry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "yoi-toml-edit-" });
  try {
    const path = `${dir}/sub/workspace-backend.local.toml`;
    const store = new ConnectionStore(path);
    assert.deepEqual(await store.snapshot(), {
      ok: true,
      exists: false,
      remotes: [],
      diagnostics: [],
    });
    await store.add({ id: "x", endpoint: "http://127.0.0.1:1" });
    assert.equal(
      await Deno.readTextFile(path),
      `[[runtimes.remote]]\nid = "x"\nendpoint = "http://127.0.0.1:1"\n`,
    );
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, "config is private to its owner");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findLayout skips header-looking lines in multi-line strings and arrays", () => {
  const blocks = findLayout(INPUT).entries;
  assert.deepEqual(blocks.map((b) => b.id), ["a", "b", "c"]);
  const text = `x = [
  "a",
]
[[runtimes.remote]]
id = "only"
endpoint = "http://h"
y = """ \\"""
[[runtimes.remote]]
"""
`;
  assert.deepEqual(findLayout(text).entries.map((b) => b.id), ["only"]);
});

Deno.test("renderRemote escapes values as valid TOML strings", () => {
  const entry = {
    id: "q",
    endpoint: "http://127.0.0.1:1",
    display_name: 'He said "hi" \\ ünïcødé',
  };
  const text = renderRemote(entry);
  assert.deepEqual(plain(parse(text)), { runtimes: { remote: [entry] } });
});

Deno.test("tomlString escapes what TOML requires, DEL included; the result parses back", () => {
  for (const s of ['say "hi"', "back\\slash", "tab\tnl\ncr\r", "del\u007f bell\u0007", "ünï 😀"]) {
    assert.equal((parse(`v = ${tomlString(s)}`) as { v: string }).v, s);
  }
  assert.equal(tomlString("del\u007f"), '"del\\u007f"');
});

Deno.test("remove of an unknown id is runtime_not_found; a file without final newline keeps that style", () => {
  assert.throws(
    () => removeConnection(INPUT, "zzz"),
    (e) => e instanceof ApiError && e.code === "runtime_not_found",
  );
  const text = `[[runtimes.remote]]\nid = "a"\nendpoint = "http://h"`;
  const out = addConnection(text, { id: "b", endpoint: "http://i" });
  assert.equal(
    out,
    `[[runtimes.remote]]\nid = "a"\nendpoint = "http://h"\n\n[[runtimes.remote]]\nid = "b"\nendpoint = "http://i"`,
  );
  assert.equal(removeConnection(out, "b"), text, "add then delete restores it byte for byte");
});

Deno.test("golden: edit changes only the edited entry's key lines (comments, unknown keys and CRLF kept)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "toml-edit-" });
  try {
    for (const nl of ["\n", "\r\n"]) {
      const path = `${dir}/edit${nl === "\n" ? "-lf" : "-crlf"}.toml`;
      const before = [
        "# top comment",
        "[server]",
        'listen = "127.0.0.1:8787"',
        "",
        "[[runtimes.remote]]   # first",
        'id = "one"',
        'endpoint = "http://127.0.0.1:9001"   # where it lives',
        "  display_name = 'One'",
        "future_key = 42",
        'token_ref = "env:YOI_ONE_TOKEN"',
        "",
        "[[runtimes.remote]]",
        'id = "two"',
        'endpoint = "http://127.0.0.1:9002"',
        "",
      ].join(nl);
      await Deno.writeTextFile(path, before);
      const store = new ConnectionStore(path);
      // Change the endpoint, rename, drop the token_ref.
      await store.edit({ id: "one", endpoint: "http://127.0.0.1:9101", display_name: "Uno" });
      const after = await Deno.readTextFile(path);
      assert.equal(
        after,
        [
          "# top comment",
          "[server]",
          'listen = "127.0.0.1:8787"',
          "",
          "[[runtimes.remote]]   # first",
          'id = "one"',
          'endpoint = "http://127.0.0.1:9101"   # where it lives',
          '  display_name = "Uno"',
          "future_key = 42",
          "",
          "[[runtimes.remote]]",
          'id = "two"',
          'endpoint = "http://127.0.0.1:9002"',
          "",
        ].join(nl),
      );
      // Add a key that was missing: appended after the entry's last line.
      await store.edit({ id: "two", endpoint: "http://127.0.0.1:9002", token_ref: "env:YOI_TWO" });
      const again = await Deno.readTextFile(path);
      assert.ok(
        again.endsWith(
          ['id = "two"', 'endpoint = "http://127.0.0.1:9002"', 'token_ref = "env:YOI_TWO"', ""]
            .join(
              nl,
            ),
        ),
        JSON.stringify(again),
      );
      assert.deepEqual(lf(await pythonToml(path)), lf(plain(parse(again))));
      // Unknown id: a typed 404, the file untouched.
      await assert.rejects(
        store.edit({ id: "nope", endpoint: "http://127.0.0.1:1" }),
        (e) => (e as { code?: string }).code === "runtime_not_found",
      );
      assert.equal(await Deno.readTextFile(path), again);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
