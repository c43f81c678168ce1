import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Markdown, safeHref } from "./markdown.tsx";

const html = (src: string) => renderToString(<Markdown source={src} />);

Deno.test("Markdown renders the usual constructs", () => {
  const out = html(
    "# Title\n\nSome **bold**, *em*, `a<b>` and [docs](https://deno.com).\n\n" +
      "- [x] done\n- two\n\n1. one\n\n```ts\nif (a < b) {}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote",
  );
  for (
    const part of [
      '<p class="md-h md-h1">Title</p>',
      "<strong>bold</strong>",
      "<em>em</em>",
      "<code>a&lt;b></code>",
      '<a href="https://deno.com" rel="noopener noreferrer nofollow">docs</a>',
      '<input type="checkbox" checked disabled/> done',
      "<ol>",
      '<pre class="md-code" data-lang="ts"><code>if (a &lt; b) {}</code></pre>',
      "<th>a</th>",
      "<td>2</td>",
      "<blockquote>",
    ]
  ) assert.ok(out.includes(part), `${part} in ${out}`);
});

Deno.test("no raw HTML passes: tags, scripts, handlers and javascript: links are text", () => {
  const attacks = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    'inline <b onclick="alert(1)">bold</b> html',
    "<div>\n<iframe src=//evil></iframe>\n</div>",
    "[click](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD4=)",
    "![img](https://tracker.example/pixel.png)",
    "<a href='javascript:alert(1)'>x</a>",
    "[proto](//evil.example/x)",
  ];
  for (const a of attacks) {
    const out = html(a).replace(/^<div class="md">|<\/div>$/g, "");
    assert.doesNotMatch(out, /<(script|img|iframe|div|b)[\s>]/i, `${a} -> ${out}`);
    assert.doesNotMatch(out, /<[^>]*\son\w+=/i, `${a} -> ${out}`);
    assert.doesNotMatch(out, /href="(javascript|data|\/\/)/i, `${a} -> ${out}`);
  }
  assert.match(html("<script>alert(1)</script>"), /&lt;script>alert\(1\)&lt;\/script>/);
  assert.equal(safeHref(" JavaScript:alert(1)"), null);
  assert.equal(safeHref("/runtimes"), "/runtimes");
});
