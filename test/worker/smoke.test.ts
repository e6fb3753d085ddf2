import { exports } from "cloudflare:workers";
import { inject, it, expect } from "vitest";

it("answers", async () => {
  const f = inject("fixtures");
  const bytes = Uint8Array.from(atob(f.photoJpeg), (c) => c.charCodeAt(0));
  const res = await exports.default.fetch("http://x/v1/analyze?tier=fast", { method: "POST", body: bytes, headers: { "CF-Connecting-IP": "10.0.0.1" } });
  const body = await res.json();
  console.log(res.status, JSON.stringify(body).slice(0, 1500), [...res.headers]);
  console.log(JSON.stringify(inject("nodeReference")));
  expect(res.status).toBe(200);
});
