// Checkpoints are written (insertPolicyModel) and read (policyModelBytes) as base64 text instead
// of through the driver adapter's bytea hex coding: every byte value and a checkpoint-sized
// buffer (its base64 spans many of encode's 76-character lines) are stored as bytea and come
// back exactly, on PGlite and on Postgres; a model that does not exist reads as null. The
// summary reads leave the bytes out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activePolicyModelSummary,
  latestTrainedPolicyModel,
  policyModelBytes,
  storePolicyModel,
} from "../../src/db/training.js";
import { registerUser } from "../../src/db/users.js";
import { createTestDatabase, onRealPostgres, type TestDatabase } from "../support/database.js";
import { bareModel } from "../support/policy-models.js";

const engines = [
  { name: "PGlite", postgresUrl: null },
  ...(onRealPostgres ? [{ name: "Postgres", postgresUrl: undefined }] : []),
];

for (const engine of engines) {
  describe(`policy model checkpoints on ${engine.name}`, () => {
    let database: TestDatabase;
    let userId: number;
    beforeAll(async () => {
      database = await createTestDatabase({ postgresUrl: engine.postgresUrl });
      const { user } = await registerUser(database.db, {
        telegramId: 7_710_001n,
        chatId: 7_710_001n,
        displayName: "Bytes",
        timezone: "UTC",
        isAdmin: false,
      });
      userId = user.id;
    });
    afterAll(async () => {
      await database?.dispose();
    });

    const store = (bytes: Uint8Array, active: boolean) =>
      storePolicyModel(database.db, bareModel(bytes, userId), active);

    it("reads every byte value and a checkpoint-sized buffer back exactly", async () => {
      const everyValue = Uint8Array.from({ length: 256 }, (_, i) => i);
      // ~66 KB like a 5-habit checkpoint, not a multiple of 3 (base64 padding)
      let x = 12345;
      const large = Uint8Array.from({ length: 66_085 }, () => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x >>> 23;
      });
      for (const bytes of [everyValue, large, new Uint8Array(0), Uint8Array.of(0)]) {
        const model = await store(bytes, false);
        expect(Buffer.from(model.bytes).equals(Buffer.from(bytes))).toBe(true);
        // stored as bytea: Prisma's own read of the row gives the same bytes
        const row = await database.db.prisma.policyModel.findUniqueOrThrow({
          where: { id: model.id },
        });
        expect(Buffer.from(row.bytes).equals(Buffer.from(bytes))).toBe(true);
        const read = await policyModelBytes(database.db, model.id);
        expect(read).toBeInstanceOf(Uint8Array);
        expect(read?.length).toBe(bytes.length);
        expect(Buffer.from(read as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
      }
      expect(await policyModelBytes(database.db, 987_654_321)).toBeNull();
    });

    it("looks the active and the latest trained model up without their bytes", async () => {
      const model = await store(Uint8Array.of(1, 2, 3), true);
      const summary = await activePolicyModelSummary(database.db, userId);
      expect(summary?.id).toBe(model.id);
      expect(summary).not.toHaveProperty("bytes");
      // none of this person's models came from a training run
      expect(await latestTrainedPolicyModel(database.db, userId)).toBeNull();
    });
  });
}
