// Utility statements that take no $n parameters (ALTER SYSTEM, ALTER ROLE … PASSWORD, GRANT,
// SET TRANSACTION SNAPSHOT): the server writes their text with format() — %I quotes an
// identifier, %L a literal — from values sent as bind parameters, so no value is quoted here.
import type pg from 'pg';

/** The text of format(template, ...values), built by the server; the template is constant text of the caller. */
export async function formatStatement(client: pg.ClientBase, template: string, values: readonly string[]): Promise<string> {
  const { rows } = await client.query<{ stmt: string }>('SELECT format($1::text, VARIADIC $2::text[]) AS stmt', [template, values]);
  return rows[0]!.stmt;
}

/** Runs format(template, ...values) as a statement (formatStatement, then the statement). */
export async function runFormatted(client: pg.ClientBase, template: string, values: readonly string[]): Promise<void> {
  await client.query(await formatStatement(client, template, values));
}
