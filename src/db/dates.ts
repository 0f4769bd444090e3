// Calendar days ("YYYY-MM-DD", the coach core's LocalDate) <-> Postgres DATE columns, which
// Prisma maps to JavaScript Dates at UTC midnight.
import type { LocalDate } from "../coach/index.js";

export function toDbDate(day: LocalDate): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

export function fromDbDate(date: Date): LocalDate {
  return date.toISOString().slice(0, 10);
}
