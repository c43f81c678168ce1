/**
 * Test support: the toml-test corpus (`backend/settings/testdata/toml-test`, TOML 1.0 valid files) turned into
 * config-editor cases, and an independent judge of each edit. Used by `backend/settings/toml_corpus_test.ts`
 * for the editor in use, and kept so another span finder can be measured the same way.
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { parse } from "smol-toml";
import { canonicalToml } from "../../backend/settings/config_edit.ts";
import type { RemoteFields } from "../../backend/settings/toml_edit.ts";

/** The three text operations of the config editor; a refusal throws. */
export interface TextEditor {
  add(text: string, entry: RemoteFields): string;
  edit(text: string, entry: RemoteFields): string;
  remove(text: string, id: string): string;
}

/** One corpus file: its name and exact text (a BOM included). */
export interface CorpusFile {
  name: string;
  text: string;
}

const ROOT = new URL("../../backend/settings/testdata/toml-test/valid/", import.meta.url);
const dec = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

/** Every `.toml` file of the vendored corpus, sorted by name. */
export function corpusFiles(): CorpusFile[] {
  const out: CorpusFile[] = [];
  const walk = (dir: URL, prefix: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`);
      else if (e.name.endsWith(".toml")) {
        out.push({
          name: prefix + e.name,
          text: dec.decode(Deno.readFileSync(new URL(e.name, dir))),
        });
      }
    }
  };
  walk(ROOT, "");
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

type Table = Record<string, unknown>;

function canon(text: string): Table {
  return canonicalToml(parse(text, { integersAsBigInt: true })) as Table;
}

function parses(text: string): boolean {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
}

function remotes(doc: Table): Table[] {
  const rt = (doc.runtimes ??= Object.create(null)) as Table;
  return (rt.remote ??= []) as Table[];
}

function entryTable(e: RemoteFields): Table {
  const t: Table = Object.create(null);
  for (const [k, v] of Object.entries(e)) if (v !== undefined) t[k] = v;
  return t;
}

/** True when `longer` is `shorter` with one contiguous run of characters inserted. */
export function oneSplice(shorter: string, longer: string): boolean {
  let p = 0;
  while (p < shorter.length && shorter[p] === longer[p]) p++;
  let s = 0;
  while (
    s < shorter.length - p && shorter[shorter.length - 1 - s] === longer[longer.length - 1 - s]
  ) s++;
  return p + s === shorter.length;
}

export type Outcome = "ok" | "refused" | "damaged";

/** What went wrong, for a failure message. */
export interface Finding {
  file: string;
  step: string;
  outcome: Exclude<Outcome, "ok">;
  detail: string;
}

const A: RemoteFields = { id: "corpus-a", endpoint: "http://127.0.0.1:9001" };
const A_TEXT = `[[runtimes.remote]]\nid = "corpus-a"\nendpoint = "http://127.0.0.1:9001"\n`;
const X: RemoteFields = {
  id: "corpus-x",
  endpoint: "http://127.0.0.1:9009",
  display_name: "X",
  token_ref: "env:YOI_X",
};
const A2: RemoteFields = { ...A, endpoint: "http://127.0.0.1:9101", display_name: "A 2" };

/**
 * Runs every case of one corpus file through `editor`: (1) the file as it is, (2) the file with
 * an entry after it, (3) the file's top-level keys as the body of an entry. Each case adds,
 * deletes and edits; every result is judged by re-parsing (the intended config, exactly) and by
 * the bytes that must not move. Returns one finding per failed step (none: all good) and how
 * many steps ran.
 */
export function runCorpusFile(
  file: CorpusFile,
  editor: TextEditor,
): { steps: number; findings: Finding[] } {
  const findings: Finding[] = [];
  let steps = 0;
  const step = (
    name: string,
    run: () => string,
    intended: Table,
    bytes: (out: string) => string | null,
  ): string | null => {
    steps++;
    let out: string;
    try {
      out = run();
    } catch (e) {
      findings.push({ file: file.name, step: name, outcome: "refused", detail: String(e) });
      return null;
    }
    let why: string | null = null;
    try {
      if (!isDeepStrictEqual(canon(out), intended)) {
        why = "re-parse differs from the intended config";
      }
    } catch (e) {
      why = `result does not parse: ${e}`;
    }
    why ??= bytes(out);
    if (why) {
      findings.push({ file: file.name, step: name, outcome: "damaged", detail: why });
      return null;
    }
    return out;
  };
  const bom = file.text.startsWith("\uFEFF") ? "\uFEFF" : "";
  const body = file.text.slice(bom.length);
  const withNl = body === "" || body.endsWith("\n") ? body : `${body}\n`;

  const cases: { name: string; text: string; keep: (out: string) => string | null }[] = [
    { name: "as is", text: file.text, keep: () => null },
    {
      name: "entry after",
      text: `${bom}${withNl}\n${A_TEXT}`,
      keep: (o) => o.startsWith(bom + withNl) ? null : "bytes before the entry changed",
    },
  ];
  const inside = `${bom}${A_TEXT}${body}`;
  if (parses(inside)) {
    cases.push({
      name: "keys inside the entry",
      text: inside,
      keep: (o) =>
        o.startsWith(`${bom}[[runtimes.remote]]\n`) ? null : "bytes before the entry changed",
    });
  }
  for (const c of cases) {
    if (!parses(c.text)) continue;
    const base = canon(c.text);
    const added = canon(c.text);
    remotes(added).push(entryTable(X));
    const afterAdd = step(
      `${c.name}: add`,
      () => editor.add(c.text, X),
      added,
      (o) => oneSplice(c.text, o) ? null : "bytes outside the added entry changed",
    );
    if (afterAdd !== null) {
      step(
        `${c.name}: delete the added entry`,
        () => editor.remove(afterAdd, X.id),
        base,
        (o) => o === c.text ? null : "add then delete did not restore the file byte for byte",
      );
    }
    if (c.name === "as is") continue;
    const edited = canon(c.text);
    const e = remotes(edited)[0];
    e.endpoint = A2.endpoint;
    e.display_name = A2.display_name;
    step(`${c.name}: edit`, () => editor.edit(c.text, A2), edited, c.keep);
    const removed = canon(c.text);
    const rt = removed.runtimes as Table;
    (rt.remote as unknown[]).splice(0, 1);
    if ((rt.remote as unknown[]).length === 0) delete rt.remote;
    if (Object.keys(rt).length === 0) delete removed.runtimes;
    step(
      `${c.name}: delete`,
      () => editor.remove(c.text, A.id),
      removed,
      (o) => oneSplice(o, c.text) ? null : "bytes outside the deleted entry changed",
    );
  }
  return { steps, findings };
}
