/**
 * Reading short answers people type to the bot's questions ("daily", "twice a week", "yes",
 * "minutes"), number words ("twenty five"), and small talk that is not a report ("thanks!",
 * "what should I do today?"). Pure: the adapters decide what each answer does.
 */

import type { HabitKind } from "./habits.js";
import { foldName } from "./habits.js";

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};

const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};

/** Number words up to "ninety nine", plus "a hundred", "half": their values. */
export function numberWordValue(words: string[]): { value: number; used: number } | undefined {
  const [first, second] = words;
  if (first === undefined) return undefined;
  if ((first === "a" || first === "one") && (second === "hundred" || second === "dozen")) {
    return { value: second === "hundred" ? 100 : 12, used: 2 };
  }
  if (first === "dozen") return { value: 12, used: 1 };
  const tens = TENS[first];
  if (tens !== undefined) {
    const unit = second === undefined ? undefined : UNITS[second];
    if (unit !== undefined && unit > 0 && unit < 10) return { value: tens + unit, used: 2 };
    // "twenty-five" arrives as one word from some keyboards
    return { value: tens, used: 1 };
  }
  const unit = UNITS[first];
  if (unit !== undefined) return { value: unit, used: 1 };
  return undefined;
}

/**
 * Replaces number words in a text by digits ("ran five km" → "ran 5 km", "twenty-five" → "25"),
 * leaving words that `keep` says are meaningful (a habit called "one minute journal").
 */
export function numberWordsToDigits(text: string, keep: (word: string) => boolean): string {
  const parts = text.split(/(\s+|-)/);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const word = parts[i].toLowerCase();
    if (/^\s+$|^-$/.test(parts[i]) || keep(word)) {
      out.push(parts[i]);
      continue;
    }
    // the next two words, skipping separators
    const next: string[] = [word];
    const at: number[] = [i];
    for (let j = i + 1; j < parts.length && next.length < 3; j++) {
      if (/^\s+$|^-$/.test(parts[j])) continue;
      next.push(parts[j].toLowerCase());
      at.push(j);
    }
    const found = numberWordValue(next.map((w) => w.replace(/[^a-z]/g, "")));
    if (!found || (next.length > 1 && keep(next[1]) && found.used > 1)) {
      out.push(parts[i]);
      continue;
    }
    const lastIndex = at[found.used - 1];
    const trailing = parts[lastIndex].replace(/^[A-Za-z]+/, "");
    out.push(`${found.value}${trailing}`);
    i = lastIndex;
  }
  return out.join("");
}

/**
 * Days a week from an answer to "How many days a week?": "5", "5/week", "5x", "5 days",
 * "five times a week", "daily", "every day", "weekdays", "once a week", "twice". Undefined when
 * the text is not such an answer (numbers outside 1–7 are answers the habit rules refuse).
 */
export function daysPerWeekAnswer(text: string): number | undefined {
  const t = numberWordsToDigits(foldName(text), () => false);
  if (/^(daily|every ?day|each day|all week|everyday|7 days a week)$/.test(t)) return 7;
  if (/^(on )?(weekdays|every weekday|workdays|mon(day)? to fri(day)?)$/.test(t)) return 5;
  if (/^(on )?weekends?$/.test(t)) return 2;
  const named = /^(once|twice|thrice)( (a|per|each) week)?$/.exec(t);
  if (named) return { once: 1, twice: 2, thrice: 3 }[named[1]];
  const m = /^(\d{1,2}) ?(x|times?|days?)?( ?(a|per|each|every|in a)? ?(w|wk|week))?$/.exec(t);
  return m ? Number(m[1]) : undefined;
}

/** "yes"/"no" and their everyday forms; undefined for anything else. */
export function yesNoAnswer(text: string): boolean | undefined {
  const t = foldName(text);
  if (
    /^(yes|y|yeah|yep|yup|sure|ok|okay|correct|right|store it|yes please|do it|confirm)$/.test(t)
  ) {
    return true;
  }
  if (/^(no|n|nope|nah|cancel|wrong|no thanks|dont|don t|stop)$/.test(t)) return false;
  return undefined;
}

/** "minutes", "an amount", "done or not" → how a habit is measured; undefined otherwise. */
export function habitKindAnswer(text: string): HabitKind | undefined {
  const t = foldName(text);
  if (/^(in )?(minutes?|mins?|time|duration|how long)$/.test(t)) return "duration";
  if (/^(an? )?(amount|count|number|quantity|how much|how many)$/.test(t)) return "count";
  if (/^(yes ?no|yes or no|done or not( done)?|check|checkbox|done|tick)$/.test(t)) return "check";
  return undefined;
}

/** Small talk that is not a report. */
export type SmallTalk = "thanks" | "greeting" | "today" | "help" | "how-am-i-doing";

/**
 * What a message that reads as no report is, when it is small talk: thanks, a greeting, a
 * question about today's plan, a cry for help, a question about progress.
 */
export function smallTalkOf(text: string): SmallTalk | undefined {
  const t = foldName(text)
    .replace(/\b(please|pls|coach|bot|so much|a lot|again)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (t === "") return undefined;
  if (
    /^(thanks?( you)?|thank u|thx|ty|cheers|great|cool|nice|awesome|perfect|ok thanks|ok)$/.test(t)
  ) {
    return "thanks";
  }
  if (
    /^(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|morning|hallo|hola)( there)?$/.test(t)
  ) {
    return "greeting";
  }
  if (
    /\b(what|which)\b.*\b(do|should|today|plan|next|left|now)\b/.test(t) ||
    /^(plan|today|todays plan|what now|whats next|what next|anything left)$/.test(t)
  ) {
    return "today";
  }
  if (/^(help|how does this work|what can you do|how do i (log|use|start).*|\?+)$/.test(t)) {
    return "help";
  }
  if (/^how (am i|are we) doing$|^(my )?(progress|stats)$/.test(t)) return "how-am-i-doing";
  return undefined;
}
