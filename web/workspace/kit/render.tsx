/**
 * Renders a page to a full HTML document: the server-rendered body, the
 * stylesheet, and a module script for each island the page used (plus
 * modulepreload hints for their shared chunk). Pages without islands ship no JS.
 * @module
 */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { BundleResult } from "./bundler.ts";
import { collectIslands } from "./island.tsx";

export interface PageHead {
  title: string;
  /** URL of the content-hashed stylesheet. */
  stylesheet: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders `body` and returns the document and the island names it used. */
export function renderDocument(
  head: PageHead,
  body: VNode,
  bundle: BundleResult,
): { html: string; islands: string[] } {
  const { result: markup, islands } = collectIslands(() => renderToString(body));
  const preloads = new Set<string>();
  const scripts: string[] = [];
  for (const name of islands) {
    const src = bundle.entries.get(name);
    if (!src) throw new Error(`island "${name}" has no bundle; is it in islands/?`);
    for (const dep of bundle.imports.get(name) ?? []) preloads.add(dep);
    scripts.push(`<script type="module" src="${src}"></script>`);
  }
  const html = "<!doctype html>" +
    `<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="color-scheme" content="light dark">` +
    `<title>${escapeHtml(head.title)}</title>` +
    `<link rel="icon" href="data:,">` +
    `<link rel="stylesheet" href="${head.stylesheet}">` +
    [...preloads].map((p) => `<link rel="modulepreload" href="${p}">`).join("") +
    `</head><body>${markup}${scripts.join("")}</body></html>`;
  return { html, islands };
}
