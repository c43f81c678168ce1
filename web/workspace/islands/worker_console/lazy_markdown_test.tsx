import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Lexer } from "marked";
import { Markdown } from "../../components/markdown.tsx";
import { LazyMarkdown, provideMarkdownLexer } from "./lazy_markdown.tsx";

const SOURCE = "**Done**: wrote `plan.md`.\n\n- one\n- <b>two</b>\n";

Deno.test("LazyMarkdown: plain text before the lexer is in, then the same elements as Markdown", () => {
  // Not hydrating (this test runs long after the module loaded) and no lexer yet: plain text,
  // escaped like any Preact text.
  assert.equal(
    renderToString(<LazyMarkdown source={SOURCE} />),
    `<div class="md"><p>**Done**: wrote \`plan.md\`.\n\n- one\n- &lt;b>two&lt;/b>\n</p></div>`,
  );
  provideMarkdownLexer(Lexer);
  const html = renderToString(<LazyMarkdown source={SOURCE} />);
  assert.equal(html, renderToString(<Markdown source={SOURCE} />));
  assert.match(html, /<strong>Done<\/strong>/);
  assert.match(html, /<li>&lt;b>two&lt;\/b><\/li>/);
});
