/**
 * Reading what people type: `/done` arguments and plain chat messages become a list of
 * {habitId, amount, day} — or a list of specific, user-facing problems. Nothing is guessed
 * silently: a report is accepted only when every part of it is understood; otherwise nothing is
 * stored and every problem is named (docs/method.md, "Parsing").
 */

import { numberWordsToDigits } from "./answers.js";
import { addDays, daysBetween, epochDayOf, type LocalDate, weekdayOf } from "./days.js";
import { foldName, type HabitSpec, MAX_DURATION_MINUTES } from "./habits.js";
import { CONTINUOUS_UNITS, UNIT_WORDS, type UnitClass } from "./units.js";

export const DEFAULT_BACKFILL_DAYS = 7;
export const MAX_REPORT_LENGTH = 1000;
export const MAX_REPORT_ITEMS = 30;
/** A count above this many session targets is refused as a likely typo. */
export const ABSURD_COUNT_FACTOR = 50;
/**
 * An amount typed without a unit that is more than this many session targets is asked about
 * before it is stored ("run 30" for a 5 km habit: 30 km, or 30 minutes?).
 */
export const IMPLAUSIBLE_FACTOR = 5;
/** Shortest input a prefix or a misspelling is matched from. */
export const MIN_FUZZY_LENGTH = 3;

export interface ParseContext {
  today: LocalDate;
  /** How many days back a report may go (default 7: today and the 7 days before). */
  backfillDays?: number;
}

export interface ParsedItem {
  habitId: string;
  amount: number;
  day: LocalDate;
  /** The words that named the habit, as typed (for a reply such as `read "runn" as run`). */
  heard: string;
  /** How the words matched the habit's name or an alias. */
  match: MatchKind;
  /** The amount was typed with a unit ("5 km", "30 min"), not as a bare number. */
  unitGiven: boolean;
}

/** exact name or alias / word forms (-ing, -ed, ran) / prefix / whole words of a name / misspelling */
export type MatchKind = "exact" | "word-form" | "prefix" | "words" | "misspelling";

const MATCH_KINDS: MatchKind[] = ["exact", "word-form", "prefix", "words", "misspelling"];

export type ParseResult = { ok: true; items: ParsedItem[] } | { ok: false; problems: string[] };

// ---------------------------------------------------------------- vocabulary

const FILLERS = new Set([
  "i",
  "ive",
  "did",
  "do",
  "done",
  "have",
  "had",
  "went",
  "for",
  "of",
  "a",
  "an",
  "the",
  "this",
  "that",
  "morning",
  "afternoon",
  "evening",
  "night",
  "tonight",
  "just",
  "again",
  "about",
  "around",
  "approx",
  "my",
  "some",
  "on",
  "at",
  "in",
  "total",
  "yes",
  "ok",
  "okay",
  "also",
  "then",
  "last",
  "with",
  "and",
]);

const WEEKDAYS: Record<string, number> = {
  monday: 0,
  mon: 0,
  tuesday: 1,
  tue: 1,
  tues: 1,
  wednesday: 2,
  wed: 2,
  thursday: 3,
  thu: 3,
  thur: 3,
  thurs: 3,
  friday: 4,
  fri: 4,
  saturday: 5,
  sat: 5,
  sunday: 6,
  sun: 6,
};

const IRREGULAR: Record<string, string> = {
  ran: "run",
  swam: "swim",
  rode: "ride",
  wrote: "write",
  went: "go",
  did: "do",
  sang: "sing",
  drew: "draw",
  ate: "eat",
  slept: "sleep",
  drank: "drink",
  biked: "bike",
  lifted: "lift",
};

// ---------------------------------------------------------------- small text tools

/** Quotes user text for a message: trimmed, control characters removed, at most 40 characters. */
function quote(text: string): string {
  const clean = text
    .replace(/\p{Cc}/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  return `"${clean.length > 40 ? `${clean.slice(0, 39)}…` : clean}"`;
}

function orList(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

function andList(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function formatNumber(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/**
 * Optimal-string-alignment (restricted Damerau–Levenshtein) distance: insertions, deletions,
 * substitutions and swaps of neighbours each cost 1. Stops early (returning limit + 1) once the
 * distance must exceed `limit`.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, prev2[j - 2] + 1);
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n];
}

/** Word forms a word may stand for: itself, an irregular base, and stems without -ing/-ed/-s. */
function wordForms(word: string): string[] {
  const forms = [word];
  const add = (f: string) => {
    if (f.length >= 2 && !forms.includes(f)) forms.push(f);
  };
  const irregular = IRREGULAR[word];
  if (irregular !== undefined) add(irregular);
  const undouble = (s: string) =>
    s.length > 2 && s[s.length - 1] === s[s.length - 2] && !/[aeiou]/.test(s[s.length - 1])
      ? s.slice(0, -1)
      : s;
  for (const [suffix, replacements] of [
    ["ation", ["ate", "e"]],
    ["ing", ["", "e"]],
    ["ed", ["", "e"]],
    ["es", [""]],
    ["s", [""]],
  ] as const) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      for (const r of replacements) add(stem + r);
      add(undouble(stem));
    }
  }
  return forms;
}

function sameLemmas(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const fa = wordForms(a[i]);
    const fb = wordForms(b[i]);
    if (!fa.some((f) => fb.includes(f))) return false;
  }
  return true;
}

// ---------------------------------------------------------------- habit matching

interface LexiconEntry {
  habit: number;
  /** The name or alias as the user wrote it. */
  label: string;
  text: string;
  words: string[];
  compact: string;
}

type Match =
  | { kind: "found"; habit: number; how: MatchKind }
  | { kind: "ambiguous"; habits: number[] }
  | { kind: "unknown"; suggestions: LexiconEntry[] };

function buildLexicon(habits: HabitSpec[]): LexiconEntry[] {
  const entries: LexiconEntry[] = [];
  habits.forEach((h, i) => {
    for (const name of [h.name, ...h.aliases]) {
      const text = foldName(name);
      if (text === "") continue;
      entries.push({
        habit: i,
        label: name.trim(),
        text,
        words: text.split(" "),
        compact: text.replace(/ /g, ""),
      });
    }
  });
  return entries;
}

function uniqueHabits(entries: LexiconEntry[]): number[] {
  return [...new Set(entries.map((e) => e.habit))].sort((a, b) => a - b);
}

function fuzzyLimit(name: string): number {
  return name.length >= 7 ? 2 : 1;
}

function decide(candidates: LexiconEntry[]): Match | null {
  const habits = uniqueHabits(candidates);
  if (habits.length === 1) return { kind: "found", habit: habits[0], how: "exact" };
  if (habits.length > 1) return { kind: "ambiguous", habits };
  return null;
}

/**
 * Finds the habit a phrase names. Stages, each tried on the whole phrase and then without
 * filler words, first success wins: exact name/alias (ignoring case, accents, spaces and
 * hyphens) → same words up to -ing/-ed/-s and common irregular verbs → unambiguous prefix
 * (≥ 3 letters) → whole words of one name ("spanish" for "learn Spanish") → misspelling within
 * edit distance 1 (names up to 6 letters) or 2 (longer). Two habits at the same stage →
 * ambiguous.
 */
function matchHabit(words: string[], lexicon: LexiconEntry[]): Match {
  const phrases: string[][] = [words];
  const content = words.filter((w) => !FILLERS.has(w));
  if (content.length > 0 && content.length < words.length) phrases.push(content);
  const stages: ((p: string[]) => Match | null)[] = [
    (p) => {
      const text = p.join(" ");
      const compact = p.join("");
      return decide(lexicon.filter((e) => e.text === text || e.compact === compact));
    },
    (p) => decide(lexicon.filter((e) => sameLemmas(p, e.words))),
    (p) => {
      const text = p.join(" ");
      if (text.length < MIN_FUZZY_LENGTH) return null;
      return decide(
        lexicon.filter((e) => e.text.startsWith(text) || e.compact.startsWith(p.join(""))),
      );
    },
    (p) => {
      const text = p.join(" ");
      if (text.length < MIN_FUZZY_LENGTH) return null;
      return decide(lexicon.filter((e) => ` ${e.text} `.includes(` ${text} `)));
    },
    (p) => {
      const text = p.join(" ");
      if (text.length < MIN_FUZZY_LENGTH || text.length > 60) return null;
      let best = Number.POSITIVE_INFINITY;
      let found: LexiconEntry[] = [];
      for (const e of lexicon) {
        const limit = fuzzyLimit(e.text);
        const d = Math.min(
          editDistance(text, e.text, limit),
          editDistance(p.join(""), e.compact, limit),
        );
        if (d > limit) continue;
        if (d < best) {
          best = d;
          found = [e];
        } else if (d === best) found.push(e);
      }
      return decide(found);
    },
  ];
  for (let i = 0; i < stages.length; i++) {
    for (const p of phrases) {
      const m = stages[i](p);
      if (m !== null) return m.kind === "found" ? { ...m, how: MATCH_KINDS[i] } : m;
    }
  }
  // Unknown: suggest the closest names — within an edit distance of half the word (at most 3),
  // or starting with the same three letters.
  const text = content.length > 0 ? content.join(" ") : words.join(" ");
  const limit = Math.min(3, Math.max(1, Math.floor(text.length / 2)));
  const scored: { entry: LexiconEntry; d: number }[] = [];
  if (text.length <= 60) {
    for (const e of lexicon) {
      let d = editDistance(text, e.text, limit);
      if (d > limit && text.length >= 3 && e.text.startsWith(text.slice(0, 3))) d = limit;
      if (d <= limit) scored.push({ entry: e, d });
    }
  }
  scored.sort((a, b) => a.d - b.d || a.entry.habit - b.entry.habit);
  const seen = new Set<number>();
  const suggestions: LexiconEntry[] = [];
  for (const s of scored) {
    if (seen.has(s.entry.habit) || suggestions.length >= 3) continue;
    seen.add(s.entry.habit);
    suggestions.push(s.entry);
  }
  return { kind: "unknown", suggestions };
}

// ---------------------------------------------------------------- tokens

interface Amount {
  value: number;
  unit: UnitClass | null;
  /** A unit word that is not in the global table (matched later against the habit's unit). */
  otherUnit: string | null;
  raw: string;
  /** Made of hours only ("1h", "2 hours"), so minutes may follow ("1h 15m"). */
  fromHours?: boolean;
}

type Token =
  | { t: "word"; w: string; raw: string; filler: boolean }
  | { t: "amount"; a: Amount }
  | { t: "date"; day: LocalDate | null; raw: string; problem?: string }
  | { t: "bad"; raw: string; problem: string };

const NUM = String.raw`\d+(?:\.\d+)?`;
const AMOUNT_PATTERNS: [RegExp, (m: RegExpExecArray) => Omit<Amount, "raw"> | null][] = [
  [new RegExp(`^(${NUM})$`), (m) => ({ value: Number(m[1]), unit: null, otherUnit: null })],
  [
    /^(\d+)h(\d{1,2})(?:m|min|mins)?$/,
    (m) =>
      Number(m[2]) >= 60
        ? null
        : { value: Number(m[1]) * 60 + Number(m[2]), unit: "minutes", otherUnit: null },
  ],
  [
    /^(\d{1,2}):(\d{2})$/,
    (m) =>
      Number(m[2]) >= 60
        ? null
        : { value: Number(m[1]) * 60 + Number(m[2]), unit: "minutes", otherUnit: null },
  ],
  [
    new RegExp(`^(\\d+)x(${NUM})$`),
    (m) => ({ value: Number(m[1]) * Number(m[2]), unit: "sets", otherUnit: null }),
  ],
  [
    new RegExp(`^(${NUM})([a-z]+)$`),
    (m) => {
      const u = UNIT_WORDS[m[2]];
      const value = Number(m[1]);
      if (u === "hours") {
        return { value: value * 60, unit: "minutes", otherUnit: null, fromHours: true };
      }
      if (u !== undefined) return { value, unit: u, otherUnit: null };
      return { value, unit: null, otherUnit: m[2] };
    },
  ],
];

function readAmount(raw: string): Amount | null {
  for (const [re, make] of AMOUNT_PATTERNS) {
    const m = re.exec(raw);
    if (m !== null) {
      const a = make(m);
      return a === null ? null : { ...a, raw };
    }
  }
  return null;
}

interface DateContext {
  today: LocalDate;
}

function readDate(word: string, previous: string | undefined, ctx: DateContext): Token | null {
  if (word === "today" || word === "tonight") return { t: "date", day: ctx.today, raw: word };
  if (word === "tomorrow") return { t: "date", day: addDays(ctx.today, 1), raw: word };
  if (word === "yesterday" || word === "yday" || word === "yest") {
    return { t: "date", day: addDays(ctx.today, -1), raw: word };
  }
  const wd = WEEKDAYS[word];
  if (wd !== undefined) {
    let back = (weekdayOf(ctx.today) - wd + 7) % 7;
    if (back === 0 && previous === "last") back = 7;
    return { t: "date", day: addDays(ctx.today, -back), raw: word };
  }
  return null;
}

/**
 * Whether a number token continues a habit name that holds a number ("Bed by 11", "Run 5k"): the
 * word tokens just before it and the number spell a name (or alias) up to and including the
 * number (a name that starts with a number is not recognised here: it could be any amount). Then
 * it is part of the name, not an amount.
 */
function continuesName(tokens: Token[], folded: string, names: string[][]): boolean {
  return names.some((words) =>
    words.some((w, j) => {
      if (w !== folded || j === 0 || j > tokens.length) return false;
      for (let k = 0; k < j; k++) {
        const t = tokens[tokens.length - j + k];
        if (t.t !== "word" || t.w !== words[k]) return false;
      }
      return true;
    }),
  );
}

function tokenize(
  item: string,
  ctx: DateContext,
  habitWords: Set<string>,
  numberNames: string[][] = [],
): Token[] {
  const tokens: Token[] = [];
  const re =
    /(\d{4}-\d{1,2}-\d{1,2})|((?:^|(?<=[\s(]))-\s*\d(?:[\p{L}\p{N}:]|\.(?=\d))*)|(\d(?:[\p{L}\p{N}:]|\.(?=\d))*)|(\p{L}[\p{L}\p{N}]*)/gu;
  let m: RegExpExecArray | null = re.exec(item);
  let previousWord: string | undefined;
  while (m !== null) {
    const [raw, iso, negative, number, word] = m;
    if (iso !== undefined) {
      const parts = iso.split("-");
      const normal = `${parts[0]}-${parts[1].padStart(2, "0")}-${parts[2].padStart(2, "0")}`;
      tokens.push(
        Number.isNaN(epochDayOf(normal))
          ? { t: "date", day: null, raw, problem: `${raw} is not a real date.` }
          : { t: "date", day: normal, raw },
      );
    } else if (negative !== undefined) {
      tokens.push({ t: "bad", raw, problem: "negative" });
    } else if (
      number !== undefined &&
      numberNames.length > 0 &&
      continuesName(tokens, foldName(number).replace(/ /g, ""), numberNames)
    ) {
      tokens.push({ t: "word", w: foldName(number).replace(/ /g, ""), raw: number, filler: false });
      previousWord = undefined;
    } else if (number !== undefined) {
      const a = readAmount(number.toLowerCase());
      tokens.push(
        a === null
          ? { t: "bad", raw, problem: `I can't read ${quote(raw)} as an amount.` }
          : { t: "amount", a },
      );
    } else if (word !== undefined) {
      const w = foldName(word).replace(/ /g, "");
      const date = habitWords.has(w) ? null : readDate(w, previousWord, ctx);
      tokens.push(
        date ?? { t: "word", w, raw: word, filler: FILLERS.has(w) && !habitWords.has(w) },
      );
      previousWord = w;
    }
    m = re.exec(item);
  }
  return tokens;
}

/** Attaches unit words to the number before them and merges "1h 15m"-style pairs. */
function attachUnits(tokens: Token[], unitWords: Set<string>): Token[] {
  const out: Token[] = [];
  for (const tok of tokens) {
    const last = out[out.length - 1];
    if (
      tok.t === "word" &&
      last?.t === "amount" &&
      last.a.unit === null &&
      last.a.otherUnit === null &&
      (UNIT_WORDS[tok.w] !== undefined || unitWords.has(tok.w))
    ) {
      const u = UNIT_WORDS[tok.w];
      const a = last.a;
      if (u === "hours") last.a = { ...a, value: a.value * 60, unit: "minutes", fromHours: true };
      else if (u !== undefined) last.a = { ...a, unit: u };
      else last.a = { ...a, otherUnit: tok.w };
      last.a.raw = `${a.raw} ${tok.raw}`;
      continue;
    }
    if (
      tok.t === "word" &&
      last?.t === "amount" &&
      last.a.unit === "sets" &&
      UNIT_WORDS[tok.w] === "minutes"
    ) {
      last.a = { ...last.a, unit: "minutes", raw: `${last.a.raw} ${tok.raw}` };
      continue;
    }
    out.push(tok);
  }
  // Merge hours followed by minutes: "1h 15m", "1 hour 15", "1h and 15 min".
  const merged: Token[] = [];
  for (const tok of out) {
    const last = merged[merged.length - 1];
    if (
      tok.t === "amount" &&
      last?.t === "amount" &&
      last.a.fromHours === true &&
      (tok.a.unit === "minutes" || tok.a.unit === null) &&
      tok.a.otherUnit === null &&
      tok.a.value < 60
    ) {
      last.a = {
        ...last.a,
        value: last.a.value + tok.a.value,
        raw: `${last.a.raw} ${tok.a.raw}`,
        fromHours: false,
      };
      continue;
    }
    merged.push(tok);
  }
  return merged;
}

interface ItemParts {
  words: Token[];
  amounts: Amount[];
  dates: Token[];
  bad: Token[];
  fillers: Token[];
  text: string;
}

/**
 * Splits a segment's tokens into items: an item holds one run of habit words and one amount
 * (in either order); a new run of words after an amount — or a new amount after words and an
 * amount — starts the next item ("run 30 violin 15").
 */
function chunk(tokens: Token[]): ItemParts[] {
  const items: ItemParts[] = [];
  const fresh = (): ItemParts => ({
    words: [],
    amounts: [],
    dates: [],
    bad: [],
    fillers: [],
    text: "",
  });
  let cur = fresh();
  let lastKind: "word" | "amount" | null = null;
  let raws: string[] = [];
  const push = () => {
    if (cur.words.length + cur.amounts.length + cur.dates.length + cur.bad.length > 0) {
      // The item's own words, fillers included, in the order typed (for messages).
      cur.text = raws.join(" ");
      items.push(cur);
    }
    raws = [];
  };
  for (const tok of tokens) {
    const raw = tok.t === "amount" ? tok.a.raw : tok.raw;
    if (tok.t === "date") cur.dates.push(tok);
    else if (tok.t === "bad") cur.bad.push(tok);
    else if (tok.t === "word") {
      if (tok.filler) {
        // Fillers never start an item; inside a run of words they stay (a name may use them).
        if (lastKind === "word") cur.words.push(tok);
        else cur.fillers.push(tok);
        raws.push(raw);
        continue;
      }
      if (lastKind === "amount" && cur.words.length > 0) {
        push();
        cur = fresh();
      }
      cur.words.push(tok);
      lastKind = "word";
    } else {
      if (lastKind === "word" && cur.amounts.length > 0) {
        push();
        cur = fresh();
      }
      cur.amounts.push(tok.a);
      lastKind = "amount";
    }
    raws.push(raw);
  }
  push();
  return items;
}

/**
 * "drank 6 water", "did 20 pushups": an amount after words that name no habit belongs to the
 * habit named right after it (the words before were a verb, not a habit).
 */
function amountBeforeName(items: ItemParts[], lexicon: LexiconEntry[]): ItemParts[] {
  const out: ItemParts[] = [];
  for (let i = 0; i < items.length; i++) {
    const cur = items[i];
    const next = items[i + 1];
    const names = (p: ItemParts) => p.words.map((w) => (w.t === "word" ? w.w : ""));
    if (
      next !== undefined &&
      cur.amounts.length > 0 &&
      cur.words.length > 0 &&
      cur.bad.length === 0 &&
      next.amounts.length === 0 &&
      next.bad.length === 0 &&
      next.words.length > 0 &&
      matchHabit(names(cur), lexicon).kind === "unknown" &&
      matchHabit(names(next), lexicon).kind === "found"
    ) {
      out.push({
        words: next.words,
        amounts: cur.amounts,
        dates: [...cur.dates, ...next.dates],
        bad: [],
        fillers: [...cur.fillers, ...cur.words, ...next.fillers],
        text: `${cur.text} ${next.text}`,
      });
      i++;
      continue;
    }
    out.push(cur);
  }
  return out;
}

// ---------------------------------------------------------------- amounts per habit

function unitClassOf(habit: HabitSpec): UnitClass | "custom" {
  if (habit.kind === "duration") return "minutes";
  const u = foldName(habit.unit).replace(/ /g, "");
  const cls = UNIT_WORDS[u];
  if (cls === "km") return "km";
  if (cls === "pages") return "pages";
  if (cls === "times" || u === "") return "times";
  if (cls === "minutes" || cls === "hours") return "minutes";
  return "custom";
}

function unitLabel(habit: HabitSpec): string {
  if (habit.kind === "duration") return "minutes";
  return habit.unit === "" ? "times" : habit.unit;
}

function example(habit: HabitSpec): string {
  if (habit.kind === "check") return habit.name;
  if (habit.kind === "duration") return `${habit.name} ${formatNumber(habit.target)} min`;
  return `${habit.name} ${formatNumber(habit.target)} ${unitLabel(habit)}`.trim();
}

/** Converts an item's amounts for its habit, or explains why it can't. */
function amountFor(habit: HabitSpec, amounts: Amount[]): number | string {
  const name = quote(habit.name);
  if (amounts.length === 0) {
    if (habit.kind === "check") return 1;
    return `How much ${name}? Add an amount, e.g. "${example(habit)}".`;
  }
  if (amounts.length > 1) {
    return `I can't read ${quote(amounts.map((a) => a.raw).join(" "))} as one amount for ${name}.`;
  }
  const a = amounts[0];
  if (!Number.isFinite(a.value)) return `I can't read ${quote(a.raw)} as an amount.`;
  if (habit.kind === "check") {
    if (a.unit === null && a.otherUnit === null && (a.value === 0 || a.value === 1)) return a.value;
    return `${name} is a yes/no habit — write just "${habit.name}" to log it as done.`;
  }
  const cls = unitClassOf(habit);
  let unitOk = a.unit === null && a.otherUnit === null;
  if (a.unit === "sets") unitOk = true;
  else if (a.unit !== null) unitOk ||= a.unit === cls;
  if (a.otherUnit !== null) {
    const own = foldName(habit.unit).replace(/ /g, "");
    unitOk = own !== "" && wordForms(a.otherUnit).some((f) => wordForms(own).includes(f));
  }
  if (!unitOk) {
    const given = a.unit !== null ? a.unit : quote(a.otherUnit ?? "");
    const verb = habit.kind === "duration" ? "measured" : "counted";
    return `${name} is ${verb} in ${unitLabel(habit)}, not ${given} — e.g. "${example(habit)}".`;
  }
  const value = a.value;
  if (value === 0) {
    return `Zero ${unitLabel(habit)} of ${name} is nothing to log — to take back an entry, use /undo.`;
  }
  if (habit.kind === "duration" && value > MAX_DURATION_MINUTES) {
    return `${formatNumber(value)} minutes of ${name} is more than a day — please check the amount.`;
  }
  if (habit.kind === "count") {
    if (value > ABSURD_COUNT_FACTOR * habit.target) {
      return `${formatNumber(value)} ${unitLabel(habit)} of ${name} is more than ${ABSURD_COUNT_FACTOR} times your session target (${formatNumber(habit.target)}) — please check the amount.`;
    }
    const continuous =
      CONTINUOUS_UNITS.has(foldName(habit.unit).replace(/ /g, "")) ||
      !Number.isInteger(habit.target) ||
      habit.levels.some((l) => !Number.isInteger(l));
    if (!continuous && !Number.isInteger(value)) {
      return `${name} is counted in whole ${unitLabel(habit)} — got ${formatNumber(value)}.`;
    }
  }
  return value;
}

// ---------------------------------------------------------------- the parser

function clean(text: string): string {
  return (
    text
      .normalize("NFKC")
      .replace(/^\s*\/done(?:@[A-Za-z0-9_]+)?(?=\s|$)/i, " ")
      .replace(/<\/?[A-Za-z][^<>]{0,60}>/g, " ")
      .replace(/[✓✔✅☑]\uFE0F?/gu, " done ")
      .replace(/\p{Extended_Pictographic}/gu, " ")
      .replace(/[\u2212\u2013\u2014]/g, "-")
      .replace(/(\d),(\d)/g, "$1.$2")
      // "run30" → "run 30"
      .replace(/(?<![\p{L}\p{N}])(\p{L}+)(?=\d)/gu, "$1 ")
      // "3 x 20", "3×20", "3*20" → "3x20"; "1 h 15" → "1h 15"
      .replace(/(\d)\s*[x×*]\s*(\d)/g, "$1x$2")
      // "1 hour and 15 min": keep together
      .replace(/(\d\s*(?:h|hrs?|hours?))\s+and\s+(?=\d)/gi, "$1 ")
  );
}

/**
 * Days counted back from today, written out ("2 days ago", "a week ago", "the day before
 * yesterday"), become the date itself, which the tokenizer reads like a typed date.
 */
function relativeDays(text: string, today: LocalDate): string {
  return text
    .replace(/\b(?:the\s+)?day\s+before\s+yesterday\b/gi, ` ${addDays(today, -2)} `)
    .replace(/\b(\d{1,3}|an?)\s*(days?|d|weeks?|w)\s+ago\b/gi, (_m, n: string, unit: string) => {
      const count = /^an?$/i.test(n) ? 1 : Number(n);
      return ` ${addDays(today, -count * (/^w/i.test(unit) ? 7 : 1))} `;
    });
}

function splitSegments(text: string): string[] {
  return text.split(/[,;\n\r]|\band\b|&|\+/i).filter((s) => s.trim() !== "");
}

/**
 * Parses a report. `context.today` is the user's current day; dates in the future or more than
 * `backfillDays` (default 7) days back are refused. Either every item is understood and
 * returned, or nothing is, with a sentence per problem.
 */
export function parseReport(text: string, habits: HabitSpec[], context: ParseContext): ParseResult {
  if (typeof text !== "string") return { ok: false, problems: ["I can only read text."] };
  if (Number.isNaN(epochDayOf(context.today))) {
    throw new RangeError(`context.today must be a calendar date, got ${context.today}`);
  }
  const backfill = context.backfillDays ?? DEFAULT_BACKFILL_DAYS;
  if (text.length > MAX_REPORT_LENGTH) {
    return {
      ok: false,
      problems: [
        `That message is too long to read as a report (${text.length} characters; I read at most ${MAX_REPORT_LENGTH}). Send one habit per line or comma, e.g. "run 30, violin 15".`,
      ],
    };
  }
  if (habits.length === 0) {
    return { ok: false, problems: ["You have no habits yet — add one with /habits first."] };
  }
  const lexicon = buildLexicon(habits);
  const habitWords = new Set(lexicon.flatMap((e) => e.words));
  // names and aliases holding a number word ("Bed by 11"): that number is read as the name
  const numberNames = lexicon.map((e) => e.words).filter((ws) => ws.some((w) => /\d/.test(w)));
  const unitWords = new Set(
    habits.map((h) => foldName(h.unit).replace(/ /g, "")).filter((u) => u !== ""),
  );
  for (const u of [...unitWords]) for (const f of wordForms(u)) unitWords.add(f);
  const ctx: DateContext = { today: context.today };

  const keep = (word: string) => habitWords.has(foldName(word).replace(/ /g, ""));
  const cleaned = relativeDays(numberWordsToDigits(clean(text), keep), context.today);
  const parts: ItemParts[] = [];
  for (const segment of splitSegments(cleaned)) {
    const tokens = attachUnits(tokenize(segment, ctx, habitWords, numberNames), unitWords);
    parts.push(...amountBeforeName(chunk(tokens), lexicon));
  }
  const problems: string[] = [];
  const addProblem = (p: string) => {
    if (!problems.includes(p)) problems.push(p);
  };

  // Dates: check each once; collect the distinct days the message names.
  const messageDays = new Set<LocalDate>();
  for (const part of parts) {
    for (const d of part.dates) {
      if (d.t !== "date") continue;
      if (d.day === null) {
        addProblem(d.problem ?? `${quote(d.raw)} is not a date I understand.`);
        continue;
      }
      const back = daysBetween(d.day, context.today);
      if (back < 0) {
        addProblem(
          `${d.day} is in the future — I can only log days that have already happened (today is ${context.today}).`,
        );
      } else if (back > backfill) {
        addProblem(
          `${d.day} is more than ${backfill} days ago — I can only back-fill the last ${backfill} days.`,
        );
      }
      messageDays.add(d.day);
    }
  }

  const reportItems = parts.filter(
    (p) => p.words.length > 0 || p.amounts.length > 0 || p.bad.length > 0,
  );
  if (reportItems.length === 0) {
    const when = messageDays.size === 1 ? ` on ${[...messageDays][0]}` : "";
    addProblem(`Tell me what you did${when}, e.g. "${example(habits[0])}".`);
    return { ok: false, problems };
  }
  if (reportItems.length > MAX_REPORT_ITEMS) {
    return {
      ok: false,
      problems: [
        `That is ${reportItems.length} items in one message; I take at most ${MAX_REPORT_ITEMS} at a time.`,
      ],
    };
  }

  const items: ParsedItem[] = [];
  for (const part of reportItems) {
    const content = part.words.filter((w) => w.t === "word" && !w.filler);
    const shown = content.length > 0 ? content : part.words;
    const phrase = shown.map((w) => (w.t === "word" ? w.raw : "")).join(" ");
    for (const b of part.bad) {
      if (b.t !== "bad") continue;
      if (b.problem === "negative") {
        addProblem(
          `Amounts can't be negative: ${quote(b.raw.replace(/\s+/g, ""))}${phrase ? ` for ${quote(phrase)}` : ""}. To take back an entry, use /undo.`,
        );
      } else addProblem(b.problem);
    }
    if (part.bad.length > 0) continue;
    if (part.words.length === 0) {
      addProblem(
        `Which habit is ${quote(part.amounts.map((a) => a.raw).join(" "))} for? Put the habit's name next to it, e.g. "${example(habits[0])}".`,
      );
      continue;
    }
    const words = part.words.map((w) => (w.t === "word" ? w.w : ""));
    const match = matchHabit(words, lexicon);
    if (match.kind === "unknown") {
      const names = match.suggestions.map((e) =>
        e.label === habits[e.habit].name
          ? quote(e.label)
          : `${quote(e.label)} (${habits[e.habit].name})`,
      );
      if (names.length > 0) {
        addProblem(`I don't know a habit called ${quote(phrase)} — did you mean ${orList(names)}?`);
      } else {
        const all = habits.slice(0, 8).map((h) => h.name);
        if (habits.length > 8) all.push(`${habits.length - 8} more`);
        addProblem(
          `I don't know a habit called ${quote(phrase)}. Your habits are: ${andList(all)}.`,
        );
      }
      continue;
    }
    if (match.kind === "ambiguous") {
      const names = match.habits.map((i) => quote(habits[i].name));
      addProblem(`${quote(phrase)} could be ${orList(names)} — which one? Write more of the name.`);
      continue;
    }
    const habit = habits[match.habit];
    const amount = amountFor(habit, part.amounts);
    if (typeof amount === "string") {
      addProblem(amount);
      continue;
    }
    const ownDays = [
      ...new Set(part.dates.flatMap((d) => (d.t === "date" && d.day !== null ? [d.day] : []))),
    ];
    let day: LocalDate;
    if (ownDays.length > 1) {
      addProblem(`${quote(part.text)} names ${andList(ownDays)} — which day was it?`);
      continue;
    } else if (ownDays.length === 1) {
      day = ownDays[0];
    } else if (messageDays.size > 1) {
      addProblem(
        `Which day is ${quote(part.text)} for? The message mentions ${andList([...messageDays].sort())} — put the day next to each habit.`,
      );
      continue;
    } else {
      day = messageDays.size === 1 ? [...messageDays][0] : context.today;
    }
    const unitGiven = part.amounts.some((a) => a.unit !== null || a.otherUnit !== null);
    items.push({ habitId: habit.id, amount, day, heard: phrase, match: match.how, unitGiven });
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, items };
}

/**
 * Items whose amount was typed without a unit and is more than IMPLAUSIBLE_FACTOR session
 * targets ("run 30" for a 5 km habit): worth a question before storing.
 */
export function implausibleItems(items: ParsedItem[], habits: HabitSpec[]): ParsedItem[] {
  const byId = new Map(habits.map((h) => [h.id, h]));
  return items.filter((item) => {
    const habit = byId.get(item.habitId);
    return (
      habit !== undefined &&
      habit.kind !== "check" &&
      !item.unitGiven &&
      habit.target > 0 &&
      item.amount > IMPLAUSIBLE_FACTOR * habit.target
    );
  });
}
