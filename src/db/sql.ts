// A minimal SQL session over either driver, for the few places that need raw SQL outside
// Prisma: the migration runner (advisory lock + DDL), health checks and the drift test.
export interface SqlSession {
  /** One parameterised statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A script of several statements, no parameters. */
  exec(sql: string): Promise<void>;
}
