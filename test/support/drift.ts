// Schema drift detection without Prisma's native engine: reads schema.prisma through Prisma's
// own parser (getDMMF, WebAssembly) and compares every model, column, type, nullability,
// default, unique constraint, index, foreign key and enum with the migrated database.
import internals from "@prisma/internals";
import type { SqlSession } from "../../src/db/sql.js";

type DMMF = Awaited<ReturnType<typeof internals.getDMMF>>;
type Model = DMMF["datamodel"]["models"][number];
type Field = Model["fields"][number];

export async function loadDmmf(schemaText: string): Promise<DMMF> {
  return internals.getDMMF({ datamodel: schemaText });
}

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  udt_name: string;
  is_nullable: "YES" | "NO";
  column_default: string | null;
  datetime_precision: number | null;
}

interface IndexRow {
  table_name: string;
  index_name: string;
  is_unique: boolean;
  is_primary: boolean;
  columns: string[] | string;
  partial_or_expression: boolean;
}

interface ForeignKeyRow {
  table_name: string;
  constraint_name: string;
  columns: string[] | string;
  foreign_table: string;
  foreign_columns: string[] | string;
  delete_rule: string;
  update_rule: string;
}

const SCALAR_TYPES: Record<string, { udt: string }> = {
  Int: { udt: "int4" },
  BigInt: { udt: "int8" },
  Float: { udt: "float8" },
  String: { udt: "text" },
  Boolean: { udt: "bool" },
  Json: { udt: "jsonb" },
  Bytes: { udt: "bytea" },
  Decimal: { udt: "numeric" },
};

/** node-postgres returns name[] as arrays; PGlite may return "{a,b}" strings. */
function asList(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  return value
    .replace(/^\{|\}$/g, "")
    .split(",")
    .filter(Boolean);
}

function columnName(field: Field): string {
  return field.dbName ?? field.name;
}

function expectedUdt(field: Field): string {
  if (field.kind === "enum") return field.type;
  if (field.type === "DateTime") {
    const native = field.nativeType?.[0];
    if (native === "Date") return "date";
    if (native === "Timestamptz") return "timestamptz";
    return "timestamp";
  }
  const udt = SCALAR_TYPES[field.type]?.udt;
  if (udt === undefined) throw new Error(`drift check does not know Prisma type ${field.type}`);
  return udt;
}

function expectedPrecision(field: Field): number | null {
  if (field.type !== "DateTime") return null;
  const native = field.nativeType;
  if (native?.[0] === "Date") return 0;
  const args = native?.[1] as string[] | undefined;
  return args && args.length > 0 ? Number(args[0]) : 3;
}

/** What column_default should look like for a field's @default (normalised), or null. */
function expectedDefault(field: Field): string | null {
  if (field.isUpdatedAt || !field.hasDefaultValue) return null;
  const value = field.default as unknown;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const fn = (value as { name: string }).name;
    if (fn === "autoincrement") return "nextval";
    if (fn === "now") return "CURRENT_TIMESTAMP";
    return `fn:${fn}`;
  }
  if (Array.isArray(value)) return value.length === 0 ? "ARRAY[]" : `ARRAY${JSON.stringify(value)}`;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return `'${value.replace(/'/g, "''")}'`;
  return String(value);
}

function normaliseDbDefault(raw: string | null): string | null {
  if (raw === null) return null;
  if (raw.startsWith("nextval(")) return "nextval";
  if (/^(CURRENT_TIMESTAMP|now\(\))$/i.test(raw)) return "CURRENT_TIMESTAMP";
  if (/^ARRAY\[\]::/.test(raw)) return "ARRAY[]";
  if (raw === "'{}'::text[]" || raw === "'{}'::double precision[]") return "ARRAY[]";
  const literal = raw.match(/^('(?:[^']|'')*')::[\w" ]+$/);
  if (literal) return literal[1]!;
  const numeric = raw.match(/^\(?(-?[\d.]+)\)?(::\w+)?$/);
  if (numeric) return String(Number(numeric[1]));
  return raw;
}

export async function detectDrift(session: SqlSession, schemaText: string): Promise<string[]> {
  const dmmf = await loadDmmf(schemaText);
  const problems: string[] = [];

  const columns = await session.query<ColumnRow>(
    `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, datetime_precision
       FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  const indexes = await session.query<IndexRow>(
    `SELECT t.relname AS table_name, i.relname AS index_name, ix.indisunique AS is_unique,
            ix.indisprimary AS is_primary,
            ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                   ORDER BY k.ord) AS columns,
            (ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL) AS partial_or_expression
       FROM pg_index ix
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public'`,
  );
  const foreignKeys = await session.query<ForeignKeyRow>(
    `SELECT c.conrelid::regclass::text AS table_name, c.conname AS constraint_name,
            ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            c.confrelid::regclass::text AS foreign_table,
            ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS foreign_columns,
            CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                               WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END AS delete_rule,
            CASE c.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                               WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END AS update_rule
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'f' AND n.nspname = 'public'`,
  );
  const enumRows = await session.query<{ enum_name: string; label: string }>(
    `SELECT t.typname AS enum_name, e.enumlabel AS label
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
       JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder`,
  );

  // Enums
  const dbEnums = new Map<string, string[]>();
  for (const row of enumRows)
    dbEnums.set(row.enum_name, [...(dbEnums.get(row.enum_name) ?? []), row.label]);
  for (const en of dmmf.datamodel.enums) {
    const expected = en.values.map((v) => v.dbName ?? v.name);
    const actual = dbEnums.get(en.dbName ?? en.name);
    if (actual === undefined)
      problems.push(`enum ${en.name} is in schema.prisma but not in the database`);
    else if (expected.join(",") !== actual.join(",")) {
      problems.push(
        `enum ${en.name} values differ: schema [${expected.join(", ")}], database [${actual.join(", ")}]`,
      );
    }
    dbEnums.delete(en.dbName ?? en.name);
  }
  for (const name of dbEnums.keys())
    problems.push(`enum ${name} is in the database but not in schema.prisma`);

  const tables = new Map<string, Map<string, ColumnRow>>();
  for (const col of columns) {
    if (col.table_name === "_prisma_migrations") continue;
    if (!tables.has(col.table_name)) tables.set(col.table_name, new Map());
    tables.get(col.table_name)!.set(col.column_name, col);
  }
  const modelTables = new Set<string>();

  for (const model of dmmf.datamodel.models) {
    const table = model.dbName ?? model.name;
    modelTables.add(table);
    const dbColumns = tables.get(table);
    if (dbColumns === undefined) {
      problems.push(
        `model ${model.name} (table ${table}) is in schema.prisma but not in the migrated database — add a migration`,
      );
      continue;
    }
    const seen = new Set<string>();
    for (const field of model.fields) {
      if (field.kind === "object") continue;
      const column = columnName(field);
      seen.add(column);
      const where = `${model.name}.${field.name} (column ${table}.${column})`;
      const col = dbColumns.get(column);
      if (col === undefined) {
        problems.push(
          `${where} is in schema.prisma but not in the migrated database — add a migration`,
        );
        continue;
      }
      const udt = expectedUdt(field);
      const actualUdt = field.isList ? col.udt_name.replace(/^_/, "") : col.udt_name;
      if (field.isList !== (col.data_type === "ARRAY")) {
        problems.push(
          `${where}: schema says ${field.isList ? "a list" : "a single value"}, database column is ${col.data_type}`,
        );
      } else if (actualUdt !== udt) {
        problems.push(`${where}: type differs, schema ${udt}, database ${actualUdt}`);
      }
      const precision = expectedPrecision(field);
      if (precision !== null && udt !== "date" && col.datetime_precision !== precision) {
        problems.push(
          `${where}: timestamp precision differs, schema ${precision}, database ${col.datetime_precision}`,
        );
      }
      // Prisma maps lists to nullable array columns.
      const expectNullable = !field.isRequired || field.isList;
      if (expectNullable !== (col.is_nullable === "YES")) {
        problems.push(
          `${where}: nullability differs, schema ${expectNullable ? "optional" : "required"}, database ${col.is_nullable === "YES" ? "NULL" : "NOT NULL"}`,
        );
      }
      const wantDefault = expectedDefault(field);
      const haveDefault = normaliseDbDefault(col.column_default);
      if (wantDefault !== haveDefault) {
        problems.push(
          `${where}: default differs, schema ${wantDefault ?? "none"}, database ${haveDefault ?? "none"}`,
        );
      }
    }
    for (const column of dbColumns.keys()) {
      if (!seen.has(column))
        problems.push(
          `column ${table}.${column} is in the database but not in model ${model.name}`,
        );
    }

    // Keys and indexes: compare as sets of "kind(columns)".
    const fieldColumn = (name: string) => {
      const f = model.fields.find((x) => x.name === name);
      return f ? columnName(f) : name;
    };
    const expectedIndexes = new Set<string>();
    for (const index of dmmf.datamodel.indexes.filter((i) => i.model === model.name)) {
      const cols = index.fields.map((f) => fieldColumn(f.name)).join(",");
      const kind = index.type === "id" ? "primary" : index.type === "unique" ? "unique" : "index";
      expectedIndexes.add(`${kind}(${cols})`);
    }
    const actualIndexes = new Set<string>();
    for (const index of indexes.filter((i) => i.table_name === table && !i.partial_or_expression)) {
      const kind = index.is_primary ? "primary" : index.is_unique ? "unique" : "index";
      actualIndexes.add(`${kind}(${asList(index.columns).join(",")})`);
    }
    for (const index of expectedIndexes) {
      if (!actualIndexes.has(index))
        problems.push(
          `model ${model.name}: ${index} is in schema.prisma but not on table ${table}`,
        );
    }
    for (const index of actualIndexes) {
      if (!expectedIndexes.has(index))
        problems.push(`table ${table}: ${index} is in the database but not in model ${model.name}`);
    }

    // Foreign keys from relation fields.
    const expectedFks = new Set<string>();
    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationFromFields?.length) continue;
      const target = dmmf.datamodel.models.find((m) => m.name === field.type)!;
      const from = field.relationFromFields.map(fieldColumn).join(",");
      const targetColumn = (name: string) => {
        const f = target.fields.find((x) => x.name === name);
        return f ? columnName(f) : name;
      };
      const to = (field.relationToFields ?? []).map(targetColumn).join(",");
      const onDelete = (field.relationOnDelete ?? (field.isRequired ? "Restrict" : "SetNull"))
        .replace(/([a-z])([A-Z])/g, "$1 $2")
        .toUpperCase();
      expectedFks.add(`(${from})->${target.dbName ?? target.name}(${to}) on delete ${onDelete}`);
    }
    const actualFks = new Set(
      foreignKeys
        .filter((fk) => fk.table_name.replace(/"/g, "") === table)
        .map(
          (fk) =>
            `(${asList(fk.columns).join(",")})->${fk.foreign_table.replace(/"/g, "")}(${asList(fk.foreign_columns).join(",")}) on delete ${fk.delete_rule}`,
        ),
    );
    for (const fk of expectedFks) {
      if (!actualFks.has(fk))
        problems.push(
          `model ${model.name}: foreign key ${fk} is in schema.prisma but not in the database`,
        );
    }
    for (const fk of actualFks) {
      if (!expectedFks.has(fk))
        problems.push(
          `table ${table}: foreign key ${fk} is in the database but not in model ${model.name}`,
        );
    }
  }
  for (const table of tables.keys()) {
    if (!modelTables.has(table))
      problems.push(`table ${table} is in the database but has no model in schema.prisma`);
  }
  return problems;
}
