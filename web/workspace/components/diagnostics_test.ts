import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Diagnostics } from "./diagnostics.tsx";

Deno.test("a config diagnostic names file, line and column; others do not", () => {
  const html = renderToString(
    Diagnostics({
      items: [
        {
          code: "config_unparsable",
          severity: "error",
          message: "Expected a value.",
          file: "workspace-backend.local.toml",
          line: 3,
          column: 10,
        },
        { code: "remote_runtime_unavailable", severity: "warning", message: "Refused." },
      ],
    })!,
  );
  assert.match(
    html,
    /Expected a value\.<span class="where"> \(workspace-backend\.local\.toml, line 3, column 10\)<\/span>/,
  );
  assert.equal(html.match(/class="where"/g)?.length, 1);
});
