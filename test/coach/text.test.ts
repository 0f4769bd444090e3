import { describe, expect, it } from "vitest";
import { nameProblem, validateHabit } from "../../src/coach/habits.js";
import { hasControlCharacters, withoutControlCharacters } from "../../src/coach/text.js";

describe("control characters", () => {
  it("finds NUL, bell, escape, DEL and C1 controls, but not tabs, line breaks or letters", () => {
    for (const c of ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085"]) {
      expect(hasControlCharacters(`a${c}b`)).toBe(true);
    }
    for (const text of ["plain", "tab\there", "two\nlines", "crlf\r\n", "Zoë 🏃"]) {
      expect(hasControlCharacters(text)).toBe(false);
    }
  });

  it("removes them and keeps everything else", () => {
    expect(withoutControlCharacters("An\u0000na\u0007 Zoë\n")).toBe("Anna Zoë\n");
  });

  it("makes names and exclusive groups invalid with a sentence naming the problem", () => {
    expect(nameProblem("ru\u0000n", "name")).toBe("name must not contain control characters");
    const result = validateHabit({
      id: "1",
      name: "run",
      kind: "duration",
      unit: "min",
      target: 30,
      daysPerWeek: 5,
      exclusiveGroup: "morn\u0000ing",
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toContainEqual({
        field: "exclusiveGroup",
        message: "exclusive group must not contain control characters",
      });
    }
  });
});
