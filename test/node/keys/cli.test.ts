/**
 * The keys admin CLI (src/keys/cli.ts) on a throwaway local KV state, through real `wrangler kv`:
 * a key is revoked by its id or from stdin, never from the command line, and revoking something
 * that does not exist says so instead of reporting success.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../scripts/lib/repo";

const state = mkdtempSync(path.join(tmpdir(), "keys-cli-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

function keys(args: string[], stdin?: string) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/keys/cli.ts", ...args, "--persist-to", state], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    input: stdin ?? "",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function create(): { key: string; id: string } {
  const r = keys(["create", "--plan", "pro", "--name", "cli test", "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.out.trim().split("\n").pop()!) as { key: string; id: string };
}

const listed = () => keys(["list"]).out.split("\n").filter(Boolean);

describe("keys revoke", { timeout: 120_000 }, () => {
  it("refuses a key on the command line, names its id instead, and leaves it valid", () => {
    const { key, id } = create();
    const r = keys(["revoke", key]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("not revoked");
    expect(r.err).toContain(`revoke ${id}`);
    expect(r.out + r.err).not.toContain(key);
    expect(listed()).toContain(id);
  });

  it("revokes a key read from stdin, then says nothing matched the second time", () => {
    const { key, id } = create();
    const first = keys(["revoke", "-"], `${key}\n`);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`revoked ${id}`);
    expect(first.out + first.err).not.toContain(key);
    expect(listed()).not.toContain(id);
    const again = keys(["revoke", "-"], `${key}\n`);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`no key with id ${id}: nothing revoked`);
  });

  it("revokes by id; an unknown id or something that is neither key nor id is an error", () => {
    const { id } = create();
    expect(keys(["revoke", id])).toMatchObject({ code: 0 });
    expect(listed()).not.toContain(id);
    const unknown = keys(["revoke", "0".repeat(64)]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("nothing revoked");
    expect(keys(["revoke", "not-an-id"]).code).toBe(1);
    expect(keys(["revoke", "-"], "fa_short\n").err).toContain("not an API key");
  });
});
