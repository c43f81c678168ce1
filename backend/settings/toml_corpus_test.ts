/**
 * The config editor against the public toml-test corpus (210 valid TOML 1.0 files, vendored in
 * `testdata/toml-test`): each file as it is, with an entry after it, and as the body of an entry
 * accepts add, edit and delete with the intended config on re-parse, every other byte kept, and
 * add-then-delete giving the file back byte for byte.
 * @module
 */
import assert from "node:assert/strict";
import { addConnection, editConnection, removeConnection } from "./config_edit.ts";
import { corpusFiles, type Finding, runCorpusFile } from "../../tests/support/toml_corpus.ts";

Deno.test("toml-test corpus: no refusal and no damage in any add, edit or delete", () => {
  const files = corpusFiles();
  assert.equal(files.length, 210, "the vendored corpus is complete");
  let steps = 0;
  const findings: Finding[] = [];
  for (const f of files) {
    const r = runCorpusFile(f, {
      add: addConnection,
      edit: editConnection,
      remove: removeConnection,
    });
    steps += r.steps;
    findings.push(...r.findings);
  }
  assert.deepEqual(findings, [], `${findings.length} of ${steps} steps failed`);
  assert.ok(steps > 2000, `every case ran (${steps} steps)`);
});
