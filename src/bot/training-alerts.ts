// The nightly retrain's admin alerts in the chat: the night's report when all its jobs have
// ended, and the failing-night alert (src/app/training/nightly-report.ts decides when and claims
// each message once across instances). One message per admin chat, plain text.
import type { Telegram } from "telegraf";
import type { AppDeps } from "../app/deps.js";
import {
  adminChats,
  FAILED_SHARE_ALERT,
  type NightAlert,
  type NightAlertSender,
  type NightReport,
} from "../app/training/nightly-report.js";

/** People listed by name in the "worse than the heuristic" line before "and N more". */
const LISTED = 10;

const cpu = (seconds: number) =>
  seconds >= 3600
    ? `${(seconds / 3600).toFixed(1)} CPU-h`
    : seconds >= 60
      ? `${(seconds / 60).toFixed(1)} CPU-min`
      : `${seconds.toFixed(1)} CPU-s`;

function reportText(r: NightReport): string {
  const lines = [
    `Nightly retrain ${r.night} finished: ${r.jobs} job${r.jobs === 1 ? "" : "s"}.`,
    `Trained: ${r.trained} (activated ${r.activated}, kept the old policy ${r.keptOld}).`,
  ];
  if (r.failed > 0) {
    const top = r.topError ? ` Top error (${r.topError.count}×): ${r.topError.message}` : "";
    lines.push(`Failed: ${r.failed}.${top}`);
  } else lines.push("Failed: 0.");
  if (r.cancelled > 0) lines.push(`Skipped or cancelled: ${r.cancelled}.`);
  if (r.cpu.measured > 0 && r.cpu.meanSeconds !== null) {
    const most = r.cpu.most ? `; most ${r.cpu.most.displayName} ${cpu(r.cpu.most.seconds)}` : "";
    lines.push(
      `CPU: ${cpu(r.cpu.totalSeconds)} in total, ${cpu(r.cpu.meanSeconds)} per person${most}.`,
    );
  }
  if (r.worseThanHeuristic.length > 0) {
    const names = r.worseThanHeuristic
      .slice(0, LISTED)
      .map(
        (p) => `${p.displayName} (${p.active.toFixed(3)} < heuristic ${p.heuristic.toFixed(3)})`,
      );
    const more = r.worseThanHeuristic.length - LISTED;
    lines.push(
      `Active policy worse than the heuristic: ${names.join(", ")}${more > 0 ? ` and ${more} more` : ""}.`,
    );
  }
  return lines.join("\n");
}

/** The text of an alert. */
export function nightAlertText(alert: NightAlert): string {
  if (alert.kind === "report") return reportText(alert.report);
  const why =
    alert.reason === "failures"
      ? `${alert.failed} of ${alert.jobs} jobs failed (more than ${FAILED_SHARE_ALERT * 100} %)`
      : `no training started or ended for ${alert.minutesWithoutProgress} minutes`;
  return [
    `⚠️ Nightly retrain ${alert.night} is failing: ${why}.`,
    `${alert.left} job${alert.left === 1 ? "" : "s"} still waiting or running. Are the workers up? See /status and /runs.`,
  ].join("\n");
}

/** The alerts' sender: one message to every admin chat (a failed chat does not stop the rest). */
export function createTrainingAlertSender(
  telegram: Pick<Telegram, "sendMessage">,
  deps: Pick<AppDeps, "db" | "config" | "log">,
): NightAlertSender {
  return async (alert) => {
    const text = nightAlertText(alert);
    const chats = await adminChats(deps);
    const failures: string[] = [];
    for (const chat of chats) {
      try {
        await telegram.sendMessage(Number(chat), text);
      } catch (error) {
        failures.push(`${chat}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (chats.length === 0) deps.log.warn("no admin to send the nightly retrain alert to");
    if (failures.length > 0 && failures.length === chats.length)
      throw new Error(`no admin could be told: ${failures.join("; ")}`);
    if (failures.length > 0)
      deps.log.warn({ failures }, "the nightly retrain alert did not reach every admin");
  };
}
