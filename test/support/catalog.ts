import pg from 'pg';

// The parts of a schema a migration can get wrong, each rendered as one
// comparable line, from the public schema only.
const QUERIES: Record<string, string> = {
  relation: `SELECT format('%s (%s)', c.relname, c.relkind) AS line
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relname NOT LIKE '\\_prisma\\_migrations%'`,
  // Column order is left out on purpose: a later migration appends columns
  // where a from-scratch diff would place them in schema order.
  column: `SELECT format('%s.%s %s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
             CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
             coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')) AS line
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0
             AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'`,
  index: `SELECT indexdef AS line FROM pg_indexes
          WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
  constraint: `SELECT format('%s.%s %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) AS line
               FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
               WHERE n.nspname = 'public' AND c.conrelid <> 0
                 AND c.conrelid::regclass::text <> '_prisma_migrations'`,
  enum: `SELECT format('%s: %s', t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)) AS line
         FROM pg_type t
         JOIN pg_enum e ON e.enumtypid = t.oid
         JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = 'public' GROUP BY t.typname`,
};

/** Sorted "kind: line" entries describing the database's public schema. */
export async function readCatalog(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const lines: string[] = [];
    for (const [kind, sql] of Object.entries(QUERIES)) {
      const { rows } = await client.query<{ line: string }>(sql);
      lines.push(...rows.map((r) => `${kind}: ${r.line}`));
    }
    return lines.sort();
  } finally {
    await client.end();
  }
}

/** Human-readable differences between two catalogs; empty when equal. */
export function catalogDiff(left: string[], right: string[], names: [string, string]): string[] {
  const inRight = new Set(right);
  const inLeft = new Set(left);
  return [...left.filter((l) => !inRight.has(l)).map((l) => `only in ${names[0]}: ${l}`), ...right.filter((r) => !inLeft.has(r)).map((r) => `only in ${names[1]}: ${r}`)];
}
