/** The worker's view of the API keys in KV: look a presented key up by its hash, create, revoke. */
import { sha256Hex } from "../crypto/sha256";
import { generateKey, isWellFormedKey, keyRecordSchema, kvKeyFor, type KeyRecord } from "./api-keys";

export class KeyStore {
  constructor(
    private readonly kv: KVNamespace,
    /** KV edge-cache lifetime of a lookup: a revocation takes effect within this many seconds. */
    private readonly cacheTtlSeconds = 60,
  ) {}

  /** The record of a presented key, or null when it is unknown or revoked. */
  async lookup(presentedKey: string): Promise<(KeyRecord & { id: string }) | null> {
    if (!isWellFormedKey(presentedKey)) return null;
    const id = await sha256Hex(presentedKey);
    const raw = await this.kv.get(kvKeyFor(id), { type: "json", cacheTtl: this.cacheTtlSeconds });
    const parsed = keyRecordSchema.safeParse(raw);
    return parsed.success ? { ...parsed.data, id } : null;
  }

  async create(plan: string, name: string, now = new Date()): Promise<{ key: string; id: string }> {
    const key = generateKey();
    const id = await sha256Hex(key);
    const record: KeyRecord = { plan, name, created: now.toISOString() };
    await this.kv.put(kvKeyFor(id), JSON.stringify(record));
    return { key, id };
  }

  async revoke(id: string): Promise<void> {
    await this.kv.delete(kvKeyFor(id));
  }
}
