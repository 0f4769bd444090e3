// Turns a failed Google call into the one line stored as the outbox event's last_error (shown by
// /status): what went wrong and, for errors the person or the operator must fix, how. Built only
// from the HTTP status and Google's error message, never from the request (its headers carry
// the bearer token), and scrubbed once more for tokens and key material.

export type FailureCause =
  /** 403: the sheet is not shared with the service account */
  | "not_shared"
  /** 403: the Sheets API is not enabled for the service account's project */
  | "api_disabled"
  /** 404: no such spreadsheet */
  | "not_found"
  /** 401: the credentials are wrong */
  | "credentials"
  /** 400: Google refused the request */
  | "invalid"
  /** 429: over a Google quota; waited out without counting as a failed attempt */
  | "throttled"
  /** 5xx, network: worth retrying as is */
  | "transient";

export interface SheetsFailure {
  cause: FailureCause;
  /** the HTTP status, if Google answered */
  status: number | undefined;
  message: string;
}

export interface FailureContext {
  sheetId: string;
  serviceAccount: string;
}

interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: unknown[] };
}

/** Removes bearer tokens, JWTs and PEM blocks from a text. */
export function scrubCredentials(text: string): string {
  return text
    .replace(
      /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
      "[key]",
    )
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, "Bearer [redacted]")
    .replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "[jwt]");
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { status?: unknown; response?: { status?: unknown } };
  const s = e.response?.status ?? e.status;
  return typeof s === "number" ? s : undefined;
}

function googleMessage(error: unknown): { message?: string; status?: string } {
  const data = (error as { response?: { data?: unknown } }).response?.data;
  let body: GoogleErrorBody | undefined;
  if (typeof data === "string") {
    try {
      body = JSON.parse(data) as GoogleErrorBody;
    } catch {
      body = undefined;
    }
  } else if (typeof data === "object" && data !== null) body = data as GoogleErrorBody;
  return { message: body?.error?.message, status: body?.error?.status };
}

function networkCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 4 && typeof e === "object" && e !== null; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^(E[A-Z_]+|UND_ERR[A-Z_]*)$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  if (error instanceof Error && /abort|timeout/i.test(error.name)) return "timeout";
  return undefined;
}

/** Classifies a failed Sheets call and writes its last_error line. */
export function describeSheetsFailure(error: unknown, context: FailureContext): SheetsFailure {
  const status = statusOf(error);
  const google = googleMessage(error);
  const detail = google.message
    ? ` — Google says: ${google.message.slice(0, 300)}${google.status ? ` (${google.status})` : ""}`
    : "";
  const sheet = `sheet ${context.sheetId}`;
  let cause: FailureCause;
  let message: string;
  if (
    status === 403 &&
    /has not been used|is disabled|SERVICE_DISABLED/i.test(google.message ?? "")
  ) {
    cause = "api_disabled";
    message = `Google refused access to ${sheet} (403): enable the Google Sheets API in the Google Cloud project of ${context.serviceAccount}${detail}`;
  } else if (status === 403) {
    cause = "not_shared";
    message = `Google refused access to ${sheet} (403): share the sheet with ${context.serviceAccount} (Editor)${detail}`;
  } else if (status === 404) {
    cause = "not_found";
    message = `${sheet} was not found (404): it was deleted or the link is wrong; link it again with /settings sheet <link>${detail}`;
  } else if (status === 401) {
    cause = "credentials";
    message = `Google rejected the service account's credentials (401): check GOOGLE_CLIENT_EMAIL and GOOGLE_PRIVATE_KEY${detail}`;
  } else if (status === 400) {
    cause = "invalid";
    message = `Google refused the update of ${sheet} (400)${detail}`;
  } else if (status === 429) {
    cause = "throttled";
    message = `Google Sheets quota exceeded (429) for ${sheet}; waiting before the next call${detail}`;
  } else if (status !== undefined) {
    cause = "transient";
    message = `Google Sheets answered ${status} for ${sheet}; will retry${detail}`;
  } else if (networkCode(error) !== undefined) {
    cause = "transient";
    message = `could not reach Google Sheets for ${sheet} (${networkCode(error)}); will retry`;
  } else {
    // e.g. the private key could not sign (not a valid PEM key); the text is scrubbed below
    cause = "transient";
    const text = error instanceof Error ? error.message : String(error);
    message = `the Google Sheets call for ${sheet} failed before Google answered: ${text.slice(0, 200)}`;
  }
  return { cause, status, message: scrubCredentials(message).slice(0, 1000) };
}
