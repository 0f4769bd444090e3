// /export: a ZIP of CSV files with everything stored about the person.
import { Composer, Input } from "telegraf";
import { exportPersonData } from "../../app/people.js";
import type { CoachContext } from "../context.js";

/** /export: a ZIP of everything stored about the person. */
export const exportCommand = new Composer<CoachContext>();
exportCommand.command("export", async (ctx) => {
  const person = ctx.person;
  if (person === undefined) {
    await ctx.reply("There is nothing stored about you yet (send /start to begin).");
    return;
  }
  const result = await exportPersonData(ctx.deps, person);
  if (result === null) {
    await ctx.reply("There is nothing stored about you any more.");
    return;
  }
  const counts = result.tables
    .filter((t) => t.rows > 0)
    .map((t) => `${t.file.replace(/\.csv$/, "")}: ${t.rows}`)
    .join(", ");
  ctx.log.info({ tables: result.tables, bytes: result.zip.byteLength }, "export sent");
  await ctx.replyWithDocument(
    Input.fromBuffer(Buffer.from(result.zip), `coachrl-export-${result.day}.zip`),
    {
      caption: `Everything stored about you, as CSV files (README.txt explains them).\nRows — ${counts}.`,
    },
  );
});
