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

export function parseCsv(input: string): CsvTable {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const delimiter = guessDelimiter(text);
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let rowLine = 1;
  let inQuotes = false;
  let quoteLine = 0;
  const endRow = () => {
    fields.push(field);
    field = "";
    if (!(fields.length === 1 && fields[0].trim() === "")) rows.push({ line: rowLine, fields });
    fields = [];
  };
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
      endRow();
      line++;
      rowLine = line;
    } else field += c;
  }
  if (field !== "" || fields.length > 0) endRow();
  return inQuotes ? { delimiter, rows, unterminatedQuoteLine: quoteLine } : { delimiter, rows };
}
