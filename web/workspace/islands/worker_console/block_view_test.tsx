import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Lexer } from "marked";
import type { Block } from "../../components/console_view.ts";
import { BlockView } from "./block_view.tsx";
import { provideMarkdownLexer } from "./lazy_markdown.tsx";

provideMarkdownLexer(Lexer);
const html = (block: Block) => renderToString(<BlockView block={block} />);

Deno.test("block view: input, output streams, Markdown answer and notes", () => {
  assert.equal(
    html({ kind: "input", seq: 1, text: "ls <x>" }),
    '<div class="console-block input"><span class="console-prompt" aria-hidden="true">›</span>' +
      '<span class="visually-hidden">Input: </span>ls &lt;x></div>',
  );
  const out = html({
    kind: "output",
    seq: 2,
    parts: [{ text: "**hi**" }, { text: "plain", stream: "stdout" }, {
      text: "bad",
      stream: "stderr",
    }, { text: "\u001b[31mred\u001b[0m", stream: "stderr" }],
  });
  assert.match(out, /^<div class="console-block output"><div class="md"><p><strong>hi<\/strong>/);
  assert.match(out, /<span>plain<\/span><span class="stderr">bad<\/span>/);
  assert.match(out, /<span class="stderr">red<\/span><\/div>$/, "ANSI stripped until the parser");
  assert.equal(
    html({ kind: "note", seq: 3, text: "Turn 1 failed.", tone: "danger" }),
    '<div class="console-block note danger">Turn 1 failed.</div>',
  );
});

Deno.test("block view: a tool call is running, ok or failed, its result shown once in", () => {
  const tool = { kind: "tool", seq: 4, call_id: "c1", name: "sh", arguments: "{}" } as const;
  const running = html(tool);
  assert.match(running, /^<details class="console-block tool running" data-call-id="c1">/);
  assert.match(running, /<span class="tool-state running">running<\/span>/);
  assert.doesNotMatch(running, /Result/);
  assert.match(html({ ...tool, result: { ok: true, output: "done" } }), /tool ok.*Result.*done/s);
  assert.match(html({ ...tool, result: { ok: false, output: "no" } }), /tool failed.*failed/s);
});
