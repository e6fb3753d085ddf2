/**
 * Admin CLI for API keys, on top of `wrangler kv` (so it works on the local dev state and on
 * the deployed namespace alike). The plain key is printed once and never stored.
 *
 *   npm run keys -- create --plan pro --name "Acme Inc"      # local (.wrangler/state)
 *   npm run keys -- create --plan pro --name "Acme Inc" --remote
 *   npm run keys -- revoke <key id>       [--remote]    # the id printed by create and list
 *   npm run keys -- revoke - < key.txt    [--remote]    # the key itself, from stdin (hidden when typed)
 *   npm run keys -- list [--remote]
 *
 * A key is never taken on the command line: it would stay in the shell's history and show in `ps`.
 *
 * Plans must exist in wrangler.toml `[vars.PLANS]`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { sha256Hex } from "../crypto/sha256";
import { generateKey, isWellFormedKey, kvKeyFor, type KeyRecord } from "./api-keys";
import { readSecret } from "./read-secret";

function wranglerKv(args: string[], where: "--local" | "--remote", persistTo?: string): string {
  const extra = persistTo && where === "--local" ? ["--persist-to", persistTo] : [];
  const result = spawnSync("npx", ["wrangler", "kv", ...args, "--binding", "KEYS", where, ...extra], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status !== 0) throw new Error(`wrangler kv ${args[0]} ${args[1]} failed:\n${result.stderr}`);
  return result.stdout;
}

function knownPlans(): string[] {
  // A worker started with `--var PLANS:<json>` (tests, staging) knows those plans instead.
  if (process.env.PLANS) return Object.keys(JSON.parse(process.env.PLANS) as Record<string, unknown>);
  const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
  return [...toml.matchAll(/^\[vars\.PLANS\.([a-z0-9_-]+)\]/gm)].map((m) => m[1]);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      plan: { type: "string" },
      name: { type: "string" },
      remote: { type: "boolean", default: false },
      "persist-to": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const where = values.remote ? "--remote" : "--local";
  const persist = values["persist-to"];
  const [command, arg] = positionals;

  if (command === "create") {
    const plan = values.plan ?? "free";
    const plans = knownPlans();
    if (!plans.includes(plan)) throw new Error(`unknown plan "${plan}" (wrangler.toml has: ${plans.join(", ")})`);
    const key = generateKey();
    const id = await sha256Hex(key);
    const record: KeyRecord = { plan, name: values.name ?? "", created: new Date().toISOString() };
    wranglerKv(["key", "put", kvKeyFor(id), JSON.stringify(record)], where, persist);
    if (values.json) console.log(JSON.stringify({ key, id, ...record }));
    else console.log(`key:  ${key}\nid:   ${id}\nplan: ${plan}\n(the key is shown only now; only its SHA-256 is stored)`);
  } else if (command === "revoke") {
    if (!arg) throw new Error("revoke needs a key id (64 hex characters, from `keys list`), or - to read the key from stdin");
    if (isWellFormedKey(arg)) {
      // Too late for this shell's history, but nothing else is done with a key given this way.
      console.error(
        `not revoked: a key on the command line stays in the shell's history and shows in ps.\nRevoke it by its id:  npm run keys -- revoke ${await sha256Hex(arg)}`,
      );
      process.exitCode = 2;
      return;
    }
    const id = arg === "-" ? await idOfKey(await readSecret("API key to revoke: ")) : arg;
    if (!/^[0-9a-f]{64}$/.test(id))
      throw new Error("not a key id (64 hex characters); to revoke by the key itself, pass - and give the key on stdin");
    const found = JSON.parse(wranglerKv(["key", "list", "--prefix", kvKeyFor(id)], where, persist)) as { name: string }[];
    if (!found.some((k) => k.name === kvKeyFor(id))) {
      console.error(`no key with id ${id}: nothing revoked`);
      process.exitCode = 1;
      return;
    }
    wranglerKv(["key", "delete", kvKeyFor(id)], where, persist);
    console.log(`revoked ${id}`);
  } else if (command === "list") {
    const keys = JSON.parse(wranglerKv(["key", "list", "--prefix", "key:"], where, persist)) as { name: string }[];
    for (const k of keys) console.log(k.name.slice(4));
  } else {
    console.error(
      "usage: keys create --plan <plan> --name <label> | revoke <id> | revoke - (key on stdin) | list  [--remote] [--persist-to dir]",
    );
    process.exitCode = 2;
  }
}

async function idOfKey(key: string): Promise<string> {
  if (!isWellFormedKey(key)) throw new Error("that is not an API key (fa_ and 43 characters)");
  return sha256Hex(key);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
