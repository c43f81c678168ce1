/**
 * Copy-to-clipboard for ids and endpoints. The button is plain server-rendered
 * markup carrying `data-copy`; one delegated click handler (installed by the
 * sidebar island, which every page has) does the copying, so pages need no
 * island of their own for it. Usable from islands too.
 * @module
 */

/** A value with a small "Copy" button after it; `label` names what is copied. */
export function Copyable(props: { value: string; label: string; code?: boolean }) {
  return (
    <span class="copyable">
      {props.code === false ? <span class="wrap">{props.value}</span> : <code>{props.value}</code>}
      <button type="button" class="copy" data-copy={props.value}>
        Copy<span class="visually-hidden">{` ${props.label}`}</span>
      </button>
    </span>
  );
}

/** Installs the delegated handler for `[data-copy]` buttons (once per page). */
export function installCopyHandler(doc: Document): void {
  doc.addEventListener("click", async (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const button = target?.closest("button[data-copy]") as HTMLButtonElement | null;
    if (!button) return;
    const text = button.dataset.copy ?? "";
    let ok = true;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      ok = false;
    }
    button.dataset.copied = ok ? "yes" : "no";
    const status = doc.getElementById("copy-status");
    if (status) {
      status.textContent = ok ? `Copied ${text}` : "Copy failed; select the text instead.";
    }
    setTimeout(() => delete button.dataset.copied, 1500);
  });
}
