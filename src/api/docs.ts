/**
 * The docs page, rendered from the same OpenAPI document as /openapi.json (so it cannot drift
 * from the API) and self-contained: no scripts or styles from elsewhere.
 */
import { PROBLEMS } from "./problem";

type Doc = { info: { title: string; description?: string }; paths?: Record<string, Record<string, Operation>> };
type Operation = {
  summary?: string;
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: { type?: string; enum?: unknown[]; default?: unknown };
  }[];
  requestBody?: { description?: string; content?: Record<string, unknown> };
  responses?: Record<string, { description?: string }>;
};

const esc = (s: unknown) =>
  String(s ?? "").replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

export function docsPage(doc: Doc): string {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const params = (op.parameters ?? [])
        .map((p) => {
          const allowed = p.schema?.enum ? ` (${p.schema.enum.map(esc).join(" | ")})` : "";
          const dflt = p.schema?.default !== undefined ? `, default <code>${esc(p.schema.default)}</code>` : "";
          return `<li><code>${esc(p.name)}</code> <em>${esc(p.in)}</em>${allowed}${dflt}: ${esc(p.description)}</li>`;
        })
        .join("");
      const body = op.requestBody
        ? `<p><strong>Body</strong>: ${esc(op.requestBody.description)} (${Object.keys(op.requestBody.content ?? {})
            .map(esc)
            .join(", ")})</p>`
        : "";
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<li><code>${esc(status)}</code> ${esc(r.description)}</li>`)
        .join("");
      return `<section><h3><code>${esc(method.toUpperCase())} ${esc(path)}</code></h3><p>${esc(op.summary)}</p>${params ? `<ul>${params}</ul>` : ""}${body}<ul>${responses}</ul></section>`;
    }),
  );
  const problems = Object.entries(PROBLEMS)
    .map(
      ([kind, p]) => `<li id="problem-${esc(kind)}"><code>${p.status}</code> <code>/docs#problem-${esc(kind)}</code>: ${esc(p.title)}</li>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .25em;border-radius:3px}section{border-top:1px solid #ddd;margin-top:1.5rem}</style>
</head><body>
<h1>${esc(doc.info.title)}</h1>
<p>${esc(doc.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>; without a key, calls use the free plan, limited per client IP. Every metered response carries <code>RateLimit-Policy</code> and <code>RateLimit</code> headers; a 429 also <code>Retry-After</code>.</p>
<h2>Example</h2>
<pre><code>curl -s -X POST 'https://&lt;host&gt;/v1/analyze?tier=standard&amp;attributes=age,beauty' \\
  -H 'Authorization: Bearer fa_...' -H 'Content-Type: image/jpeg' --data-binary @face.jpg</code></pre>
<h2>Endpoints</h2>
${ops.join("\n")}
<h2>Problem types</h2>
<p>Errors are <code>application/problem+json</code> (RFC 9457); <code>type</code> points here.</p>
<ul>${problems}</ul>
</body></html>`;
}
