import assert from "node:assert/strict";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { AnsiText, hasAnsi, loadAnsiParser, stripAnsi } from "./ansi_text.tsx";

const SAMPLE =
  "a \u001b[31mred\u001b[0m \u001b[1;32m<b>bold</b>\u001b[0m \u001b[38;5;200mpal\u001b[0m";

Deno.test("ansi: segments carry classes for the 16 colours and decorations, text stays text", async () => {
  assert.equal(hasAnsi(SAMPLE), true);
  assert.equal(hasAnsi("plain"), false);
  const parse = await loadAnsiParser();
  assert.deepEqual(parse(SAMPLE), [
    { text: "a ", classes: "" },
    { text: "red", classes: "ansi-red" },
    { text: " ", classes: "" },
    { text: "<b>bold</b>", classes: "ansi-green ansi-bold" },
    { text: " ", classes: "" },
    { text: "pal", classes: "" }, // palette colours are not themed: shown plain
  ]);
});

Deno.test("ansi: the server renders the text escaped with the sequences stripped", () => {
  assert.equal(stripAnsi(SAMPLE), "a red <b>bold</b> pal");
  const html = renderToString(h(AnsiText, { text: SAMPLE }));
  assert.equal(html, "<span>a red &lt;b>bold&lt;/b> pal</span>"); // no element: escaped text
});
