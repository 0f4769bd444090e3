// The parsers are the functional core of the ingest: no I/O, no clock, no randomness (zod and
// fflate are pure libraries). Only the shell (http.ts here, src/db/ingest.ts, src/cli/import.ts)
// may do I/O.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = new URL("../../src/ingest/", import.meta.url).pathname;
const SHELL = new Set(["http.ts"]);

describe("src/ingest parsers", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !SHELL.has(f));

  it("are all checked", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "apple-health.ts",
        "csv.ts",
        "scale-csv.ts",
        "json-body.ts",
        "upload.ts",
      ]),
    );
  });

  it.each(files)("%s does no I/O and reads no clock", (file) => {
    const source = readFileSync(join(dir, file), "utf8");
    const imports = [...source.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    for (const spec of imports) {
      expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/|\.\.\/coach\/|fflate$|zod$)/);
    }
    expect(source).not.toMatch(/Date\.now\(|new Date\(\)|Math\.random|process\.|console\./);
  });
});
