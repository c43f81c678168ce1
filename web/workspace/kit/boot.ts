/**
 * Browser side of islands: finds this island's markers and hydrates each in
 * place with the props the server serialised. Shared by every island bundle.
 * @module
 */
import { type ComponentType, h, hydrate } from "preact";

export function boot(name: string, Component: ComponentType<Record<string, unknown>>): void {
  for (const el of document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)) {
    const props = JSON.parse(el.dataset.props ?? "{}");
    hydrate(h(Component, props), el);
  }
}
