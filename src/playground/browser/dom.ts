/** Small DOM builders for the playground: attributes and text only, never HTML strings. */
const SVG_NS = "http://www.w3.org/2000/svg";

type Child = Node | string;

/** The page's element with this id (the ids are those of ../page.ts; a missing one is a bug). */
export function byId<T extends Element = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`playground: no element #${id}`);
  return node as unknown as T;
}

/** An HTML element; the attribute `text` sets its text content. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export const fmt = (x: number, digits = 1) => Number(x).toFixed(digits);
