// /export: a ZIP of CSV files with everything stored about the person.
import { Input, type Telegraf } from "telegraf";
import { dayOf } from "../../coach/days.js";
import { exportPerson } from "../../db/export.js";
import type { CoachContext } from "../context.js";

export function register(bot: Telegraf<CoachContext>): void {
  bot.command("export", async (ctx) => {
    const person = ctx.person;
    if (person === undefined) {
      await ctx.reply("There is nothing stored about you yet (send /start to begin).");
      return;
    }
    const now = ctx.deps.now();
    const result = await exportPerson(ctx.deps.db, person.id, now);
    if (result === null) {
      await ctx.reply("There is nothing stored about you any more.");
      return;
    }
    const day = dayOf(now, person.timezone, person.dayStartHour);
    const counts = result.tables
      .filter((t) => t.rows > 0)
      .map((t) => `${t.file.replace(/\.csv$/, "")}: ${t.rows}`)
      .join(", ");
    ctx.log.info({ tables: result.tables, bytes: result.zip.byteLength }, "export sent");
    await ctx.replyWithDocument(
      Input.fromBuffer(Buffer.from(result.zip), `coachrl-export-${day}.zip`),
      {
        caption: `Everything stored about you, as CSV files (README.txt explains them).\nRows — ${counts}.`,
      },
    );
  });
}
