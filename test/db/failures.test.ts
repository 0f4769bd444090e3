// Which database failures count as transient (src/db/failures.ts), for errors the real drivers
// throw. Found by the soak: during a partition, node-postgres' connect timeout fails a new
// connection with a bare "timeout expired"; taken for a bug, the update was apologised for and
// counted as handled, and the report was lost.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres } from "../../src/db/client.js";
import { isTransientDatabaseFailure } from "../../src/db/failures.js";
import { onRealPostgres, testDatabaseUrl } from "../support/database.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

describe.skipIf(!onRealPostgres)(
  "isTransientDatabaseFailure with a black-holed database (Postgres)",
  () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      const server = new URL(testDatabaseUrl!);
      proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    });
    afterAll(() => proxy.close());

    it("is true for the connect timeout of a new connection during a partition", async () => {
      proxy.blackHole();
      const db = openPostgres({
        url: proxy.rewrite(testDatabaseUrl!),
        poolSize: 1,
        acquireTimeoutMs: 10_000,
        timeouts: { connectMs: 300 },
      });
      try {
        const error = await db.prisma.$queryRaw`SELECT 1`.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(isTransientDatabaseFailure(error)).toBe(true);
      } finally {
        proxy.restore();
        await db.close().catch(() => {});
      }
    });
  },
);

describe("isTransientDatabaseFailure for node-postgres' own errors", () => {
  it("is true for the connect timeout ('timeout expired'), false for a look-alike bug", () => {
    expect(isTransientDatabaseFailure(new Error("timeout expired"))).toBe(true);
    expect(
      isTransientDatabaseFailure(new Error("the plan's timeout expired field is missing")),
    ).toBe(false);
  });
});
