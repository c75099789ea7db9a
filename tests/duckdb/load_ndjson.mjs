// Loads an NDJSON file into a DuckDB table the way tql reads it: nested objects flattened into
// dotted columns (`http.status_code`), timestamps at nanosecond precision, durations as BIGINT
// nanoseconds, arrays as JSON, text that DuckDB takes for a UUID as VARCHAR. Shared by the
// differential test and the DuckDB benchmark.

import { DuckDBTypeId, STRUCT, VARCHAR } from '@duckdb/node-api';

export const quoteIdent = (name) => '"' + name.replace(/"/g, '""') + '"';

// The type to read an inferred type as: tql has no UUID type and reads such text as a string
// (the logs' request_id), so a UUID, also inside an object, is read as VARCHAR.
function readAs(type) {
  if (type.typeId === DuckDBTypeId.UUID) return VARCHAR;
  if (type.typeId !== DuckDBTypeId.STRUCT) return type;
  const entries = type.entryTypes.map(readAs);
  if (entries.every((t, k) => t === type.entryTypes[k])) return type;
  return STRUCT(Object.fromEntries(type.entryNames.map((name, k) => [name, entries[k]])));
}

// The columns of a DuckDB type as [dotted name, SQL expression, type] leaves.
function flatten(prefix, sqlExpr, type, out) {
  if (type.typeId === DuckDBTypeId.STRUCT) {
    type.entryNames.forEach((name, k) => {
      const field = `struct_extract(${sqlExpr}, '${name.replace(/'/g, "''")}')`;
      flatten(prefix ? `${prefix}.${name}` : name, field, type.entryTypes[k], out);
    });
  } else {
    out.push([prefix, sqlExpr, type]);
  }
}

// The flattened columns of `file`: {names (file order), types (name -> DuckDB type), select
// (name -> SQL select item), from (the read_json clause)}.
export async function describeNdjson(con, file) {
  const quoted = `'${file.replace(/'/g, "''")}'`;
  // Let DuckDB infer the record structure from every line, then read it again with
  // `timestamp` as text: inferred timestamps would have microsecond precision only.
  const probe = await con.runAndReadAll(
    `SELECT * FROM read_json(${quoted}, format = 'newline_delimited', sample_size = -1) LIMIT 0`);
  const top = probe.columnNames().map((name, c) => [name, readAs(probe.columnTypes()[c])]);
  const spec = top.map(([name, type]) =>
    `${quoteIdent(name)}: '${name === 'timestamp' ? 'VARCHAR' : String(type).replace(/'/g, "''")}'`);
  const leaves = [];
  for (const [name, type] of top) flatten(name, quoteIdent(name), type, leaves);

  const select = new Map();
  const types = new Map();
  for (const [name, expr, type] of leaves) {
    let e = expr;
    if (name === 'timestamp') e = `CAST(${expr} AS TIMESTAMP_NS)`;
    else if (name === 'duration') e = `CAST(${expr} AS BIGINT)`;
    else if (type.typeId === DuckDBTypeId.LIST) e = `to_json(${expr})`; // tql: dynamic
    select.set(name, `${e} AS ${quoteIdent(name)}`);
    types.set(name, type);
  }
  const from = `read_json(${quoted}, format = 'newline_delimited', columns = {${spec.join(', ')}})`;
  return { names: [...select.keys()], types, select, from };
}

// Creates `table` from `file`. `order`, when given, lists the column names in the order wanted
// (every column must be in it); otherwise the file's order. Returns describeNdjson's result.
export async function loadNdjson(con, file, table, order = null) {
  const d = await describeNdjson(con, file);
  const columns = order ?? d.names;
  await con.run(`CREATE TABLE ${quoteIdent(table)} AS
                 SELECT ${columns.map((c) => d.select.get(c)).join(', ')} FROM ${d.from}`);
  return d;
}
