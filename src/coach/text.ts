// Text that people type or Telegram sends, before it is stored: Postgres refuses NUL in text,
// and other control characters (bell, escape, …) only garble names in charts, sheets and replies.
// Tabs and line breaks are text; names refuse them on their own (nameProblem).

/** Control characters other than tab, line feed and carriage return (C0 and DEL, and C1). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;

/** Whether `text` holds a control character that must not be stored. */
export function hasControlCharacters(text: string): boolean {
  CONTROL_CHARACTERS.lastIndex = 0;
  return CONTROL_CHARACTERS.test(text);
}

/** `text` without control characters (for text we must accept, such as a Telegram name). */
export function withoutControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, "");
}
