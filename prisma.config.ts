// Prisma CLI configuration (Prisma 7). The app itself never reads this file: it connects through
// driver adapters (src/db/client.ts) and applies migrations with its own runner (src/db/migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/coachrl" },
});
