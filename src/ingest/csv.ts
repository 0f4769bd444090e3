// A small RFC 4180 reader: comma, semicolon or tab separated (guessed from the header line),
// quoted fields with "" escapes and line breaks, CRLF or LF, an optional byte-order mark.
// Pure: text in, rows out.

export interface CsvRow {
  /** 1-based line of the file on which the row starts (the header is line 1). */
  line: number;
  fields: string[];
}

export interface CsvTable {
  delimiter: "," | ";" | "\t";
  rows: CsvRow[];
  /** Set when a quoted field never ends (it then runs to the end of the text). */
  unterminatedQuoteLine?: number;
}

/** The delimiter that occurs most often outside quotes in the first non-empty line. */
export function guessDelimiter(text: string): "," | ";" | "\t" {
  const counts = { ",": 0, ";": 0, "\t": 0 };
  let inQuotes = false;
  let seenContent = false;
  for (let i = 0; i < text.length && i < 64 * 1024; i++) {
    const c = text[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (c === "\n" || c === "\r")) {
      if (seenContent) break;
    } else if (!inQuotes && (c === "," || c === ";" || c === "\t")) counts[c] += 1;
    if (c !== "\n" && c !== "\r" && c !== " ") seenContent = true;
  }
  if (counts[";"] > 0 && counts[";"] >= counts[","] && counts[";"] >= counts["\t"]) return ";";
  if (counts["\t"] > counts[","]) return "\t";
  return ",";
}

/**
 * Reads rows one at a time (a file of 600,000 rows is never held as a table); `unterminatedQuoteLine`
 * is set once the rows are read to the end.
 */
export class CsvReader {
  readonly delimiter: "," | ";" | "\t";
  unterminatedQuoteLine?: number;
  private readonly text: string;

  constructor(input: string) {
    this.text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
    this.delimiter = guessDelimiter(this.text);
  }

  *rows(): Generator<CsvRow> {
    const { text, delimiter } = this;
    let fields: string[] = [];
    let field = "";
    let line = 1;
    let rowLine = 1;
    let inQuotes = false;
    let quoteLine = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else inQuotes = false;
        } else {
          if (c === "\n") line++;
          field += c;
        }
      } else if (c === '"' && field.trim() === "") {
        field = "";
        inQuotes = true;
        quoteLine = line;
      } else if (c === delimiter) {
        fields.push(field);
        field = "";
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        fields.push(field);
        field = "";
        if (!(fields.length === 1 && fields[0].trim() === "")) yield { line: rowLine, fields };
        fields = [];
        line++;
        rowLine = line;
      } else field += c;
    }
    if (field !== "" || fields.length > 0) {
      fields.push(field);
      if (!(fields.length === 1 && fields[0].trim() === "")) yield { line: rowLine, fields };
    }
    if (inQuotes) this.unterminatedQuoteLine = quoteLine;
  }
}

export function parseCsv(input: string): CsvTable {
  const reader = new CsvReader(input);
  const rows = [...reader.rows()];
  const { delimiter, unterminatedQuoteLine } = reader;
  return unterminatedQuoteLine === undefined
    ? { delimiter, rows }
    : { delimiter, rows, unterminatedQuoteLine };
}
