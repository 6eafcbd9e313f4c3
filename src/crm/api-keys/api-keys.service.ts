import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { DataSource } from "typeorm";
import { IsNull } from "typeorm";
import { z } from "zod";
import { ApiKey } from "../entities/api-key.entity";
import { USER_ROLES } from "../entities/user.entity";
import type { Principal } from "../auth/principal";
import type { Actor, AuditService } from "../audit/audit.service";

export const newApiKeySchema = z
  .object({ name: z.string().trim().min(1).max(120), role: z.enum(USER_ROLES) })
  .strict();

const KEY_PATTERN = /^ck_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash("sha256").update(s).digest();

/**
 * Keys look like ck_<prefix>_<secret>. Only a SHA-256 of the secret is stored: the secret has
 * 256 bits of entropy, so a slow hash would add cost without adding safety.
 */
export class ApiKeysService {
  constructor(private readonly ds: DataSource, private readonly audit: AuditService) {}

  async create(input: unknown, actor: Actor, requestId?: string) {
    const data = newApiKeySchema.parse(input);
    const prefix = randomBytes(6).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    return this.ds.transaction(async (em) => {
      const key = await em.save(
        em.create(ApiKey, {
          name: data.name,
          role: data.role,
          prefix,
          keyHash: sha256(secret).toString("hex"),
          createdBy: actor.type === "user" ? actor.id : null,
        }),
      );
      const view = { id: key.id, name: key.name, role: key.role, prefix };
      await this.audit.record(em, { actor, action: "create", entity: "api_key", entityId: key.id, after: view, requestId });
      return { ...view, key: `ck_${prefix}_${secret}` };
    });
  }

  async authenticate(raw: string): Promise<Principal | undefined> {
    const m = KEY_PATTERN.exec(raw);
    if (!m) return undefined;
    const [, prefix, secret] = m as unknown as [string, string, string];
    const key = await this.ds.getRepository(ApiKey).findOneBy({ prefix, revokedAt: IsNull() });
    if (!key) return undefined;
    const expected = Buffer.from(key.keyHash, "hex");
    const actual = sha256(secret);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    void this.ds.getRepository(ApiKey).update({ id: key.id }, { lastUsedAt: new Date() }).catch(() => undefined);
    return { kind: "api_key", id: key.id, role: key.role, name: key.name };
  }
}
