/** API keys made with the real admin CLI (src/keys/cli.ts), in a local state folder, before the worker starts. */
import { spawnSync } from "node:child_process";
import { REPO_ROOT } from "../../scripts/lib/repo";

export function createKey(persistTo: string, plan: string, name = "hardening", plans?: string): { key: string; id: string } {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "src/keys/cli.ts", "create", "--plan", plan, "--name", name, "--persist-to", persistTo, "--json"],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: plans ? { ...process.env, PLANS: plans } : process.env,
    },
  );
  if (r.status !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as { key: string; id: string };
}
