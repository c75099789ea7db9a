// Differential test: runs every case of queries.test through `tql run` and the equivalent SQL
// through DuckDB, on the same generated spans and logs, and checks that the results agree exactly.
//
//   node differential.mjs TQL_BINARY WORK_DIR [CASE_NAME...]
//
// With case names, only those cases run. The exit status is 0 when every case ran and agreed,
// 1 otherwise. See README.md for the case format and how to add a case.

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, DuckDBTypeId } from '@duckdb/node-api';
import { describeNdjson, loadNdjson } from './load_ndjson.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CASES_FILE = path.join(HERE, 'queries.test');
const SPANS = 100000;
const SEED = 7;
const WORKERS = 2;            // tql processes (and DuckDB connections) at a time
const TQL_TIMEOUT_MS = 120000;
const VERBOSE = Boolean(process.env.DIFFERENTIAL_VERBOSE); // a line per case, with timings
const DUMP = process.env.DIFFERENTIAL_DUMP; // a directory: each side's canonical rows per case

// ---------------------------------------------------------------------------------------------
// The case file

// The option approx=COL:REL[,COL:REL...] of a case line as a Map from column name to REL.
function parseApprox(spec, fail) {
  const approx = new Map();
  for (const item of spec.split(',')) {
    const m = /^(.+):((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/.exec(item);
    if (!m) fail(`approx= takes COL:REL[,COL:REL...], found '${item}'`);
    if (approx.has(m[1])) fail(`approx= names column '${m[1]}' twice`);
    approx.set(m[1], Number(m[2]));
  }
  return approx;
}

// Parses queries.test into [{name, unordered, approx, tql, sql, line}].
function parseCases(text) {
  const cases = [];
  let current = null;
  let part = null; // 'tql' or 'sql': the part that indented lines continue
  const fail = (n, msg) => { throw new Error(`${CASES_FILE}:${n}: ${msg}`); };
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const line = raw.replace(/\s+$/, '');
    if (line === '' || line.startsWith('#')) { part = null; return; }
    if (/^\s/.test(line)) {
      if (!current || !part) fail(n, 'an indented line continues a tql: or sql: line');
      current[part] += '\n' + line.trim();
      return;
    }
    let m;
    if ((m = /^case\s+(\S+)((?:\s+\S+)*)$/.exec(line))) {
      const flags = m[2].trim().split(/\s+/).filter(Boolean);
      let approx = new Map();
      for (const f of flags) {
        if (f.startsWith('approx=') && approx.size === 0) approx = parseApprox(f.slice(7), (msg) => fail(n, msg));
        else if (f !== 'unordered') fail(n, `unknown or repeated flag '${f}'`);
      }
      if (cases.some((c) => c.name === m[1])) fail(n, `case '${m[1]}' appears twice`);
      current = { name: m[1], unordered: flags.includes('unordered'), approx, tql: null, sql: null,
                  baselime: null, line: n };
      cases.push(current);
      part = null;
    } else if ((m = /^(tql|sql|baselime):\s*(.*)$/.exec(line))) {
      if (!current) fail(n, `${m[1]}: before the first 'case' line`);
      if (current[m[1]] !== null) fail(n, `case '${current.name}' has two ${m[1]}: parts`);
      current[m[1]] = m[2];
      part = m[1];
    } else {
      fail(n, `expected 'case NAME [unordered] [approx=COL:REL,...]', 'tql: ...', 'baselime: ...' or 'sql: ...', found '${line}'`);
    }
  });
  for (const c of cases) {
    if (c.tql && c.baselime) fail(c.line, `case '${c.name}' has both a tql: and a baselime: part`);
    if (!(c.tql || c.baselime) || !c.sql) {
      fail(c.line, `case '${c.name}' needs a tql: (or baselime:) and a sql: part`);
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// JSON text of tql's output, read without losing anything: numbers keep their text (64-bit
// integers do not fit a JS number), objects keep their key order as [key, value] pairs.

class JsonNumber {
  constructor(text) { this.text = text; }
}
class JsonObject {
  constructor(entries) { this.entries = entries; }
}

function parseJson(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const err = (what) => { throw new Error(`bad JSON at offset ${i}: ${what}`); };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries = [];
      ws();
      if (text[i] === '}') { i++; return new JsonObject(entries); }
      for (;;) {
        ws();
        if (text[i] !== '"') err('expected a key');
        const k = string();
        ws();
        if (text[i++] !== ':') err('expected :');
        entries.push([k, value()]);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return new JsonObject(entries); }
        err('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const items = [];
      ws();
      if (text[i] === ']') { i++; return items; }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return items; }
        err('expected , or ]');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r) err('unexpected character');
    i += r[0].length;
    return new JsonNumber(r[0]);
  };
  const string = () => {
    const start = i++;
    let escaped = false;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') { escaped = true; i++; }
      i++;
    }
    if (i >= text.length) err('unterminated string');
    i++;
    const raw = text.slice(start, i);
    return escaped ? JSON.parse(raw) : raw.slice(1, -1);
  };
  const v = value();
  ws();
  if (i !== text.length) err('trailing text');
  return v;
}

// ---------------------------------------------------------------------------------------------
// Canonical text of values. Both sides are written in the same form, chosen by the type of the
// DuckDB result column, so that equal values have equal text:
//   null; integers in decimal; floats as the shortest text that round-trips (so equal text
//   means bit-identical doubles, -0 kept); strings and timestamps as JSON strings, timestamps
//   in tql's form (RFC 3339 UTC with 0, 3, 6 or 9 fraction digits); booleans; JSON values as
//   JSON with object keys sorted.
// A tql value of another kind than the column's keeps a text of its own, so it never matches.

const floatText = (x) => (Object.is(x, -0) ? '-0' : String(x));

function canonJson(v) {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof JsonNumber) {
    if (/^-?\d+$/.test(v.text)) return BigInt(v.text).toString();
    const x = Number(v.text);
    return Number.isSafeInteger(x) ? String(x) : floatText(x);
  }
  if (Array.isArray(v)) return '[' + v.map(canonJson).join(',') + ']';
  const entries = [...v.entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return '{' + entries.map(([k, x]) => JSON.stringify(k) + ':' + canonJson(x)).join(',') + '}';
}

function formatTimestampNs(ns) {
  const sec = ns >= 0n ? ns / 1000000000n : -((-ns + 999999999n) / 1000000000n);
  const frac = ns - sec * 1000000000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  let digits = '';
  if (frac !== 0n) {
    const f = frac.toString().padStart(9, '0');
    digits = '.' + (frac % 1000000n === 0n ? f.slice(0, 3) : frac % 1000n === 0n ? f.slice(0, 6) : f);
  }
  return base + digits + 'Z';
}

// The kind of a DuckDB result column: int, float, string, bool, timestamp or json.
function columnKind(type, name) {
  const T = DuckDBTypeId;
  if (type.alias === 'JSON') return 'json';
  switch (type.typeId) {
    case T.TINYINT: case T.SMALLINT: case T.INTEGER: case T.BIGINT: case T.HUGEINT:
    case T.UTINYINT: case T.USMALLINT: case T.UINTEGER: case T.UBIGINT:
      return 'int';
    case T.FLOAT: case T.DOUBLE:
      return 'float';
    case T.VARCHAR:
      return 'string';
    case T.BOOLEAN:
      return 'bool';
    case T.TIMESTAMP: case T.TIMESTAMP_S: case T.TIMESTAMP_MS: case T.TIMESTAMP_NS: case T.TIMESTAMP_TZ:
      return 'timestamp';
    case T.SQLNULL:
      return 'null';
  }
  // DECIMAL arithmetic is not float arithmetic, INTERVAL is not a count of nanoseconds: the
  // SQL must say what it means (CAST(... AS DOUBLE), epoch_ns(...)).
  throw new Error(`SQL result column '${name}' has type ${type}, which tql has no equivalent of;` +
                  ' cast it (floats: DOUBLE, durations: BIGINT nanoseconds, timestamps: TIMESTAMP_NS)');
}

function canonDuck(v, kind) {
  if (v === null) return 'null';
  switch (kind) {
    case 'int': return BigInt(v).toString();
    case 'float': return Number.isFinite(v) ? floatText(v) : 'null'; // tql prints NaN/inf as null
    case 'string': return JSON.stringify(v);
    case 'bool': return String(v);
    case 'timestamp': {
      const ns = v.nanos ?? (v.micros !== undefined ? v.micros * 1000n
               : v.millis !== undefined ? v.millis * 1000000n : v.seconds * 1000000000n);
      return JSON.stringify(formatTimestampNs(ns));
    }
    case 'json': return canonJson(parseJson(v));
  }
  return '<unexpected ' + String(v) + '>';
}

function canonTql(v, kind) {
  if (v === null) return 'null';
  const other = () => '<tql: ' + (v instanceof JsonNumber ? v.text : canonJson(v)) + '>';
  switch (kind) {
    case 'int':
      return v instanceof JsonNumber && /^-?\d+$/.test(v.text) ? BigInt(v.text).toString() : other();
    case 'float':
      return v instanceof JsonNumber ? floatText(Number(v.text)) : other();
    case 'string': case 'timestamp': // tql prints timestamps as RFC 3339 strings
      return typeof v === 'string' ? JSON.stringify(v) : other();
    case 'bool':
      return typeof v === 'boolean' ? String(v) : other();
    case 'json':
      return canonJson(v);
  }
  return other();
}

// ---------------------------------------------------------------------------------------------
// Running one side

// `data` maps each source name (spans, logs) to its file; tql reads every one of them.
function runTql(tql, data, query) {
  const inputs = Object.entries(data).flatMap(([name, file]) => ['--input', `${name}=${file}`]);
  return new Promise((resolve) => {
    execFile(tql, ['run', ...inputs, '--format', 'json', query],
             { maxBuffer: 1 << 30, timeout: TQL_TIMEOUT_MS },
             (error, stdout, stderr) => {
               if (error) {
                 const status = error.code ?? error.signal;
                 const lines = String(stderr).trim().split('\n');
                 const shown = lines.slice(0, 8).join('\n') + (lines.length > 8 ? '\n...' : '');
                 // A stage this version of tql does not execute yet is reported apart.
                 const notRunnable = /cannot run in this version of tql yet/.test(stderr);
                 resolve({ error: `tql exited with ${status}: ${shown}`, notRunnable });
               } else {
                 resolve({ stdout });
               }
             });
  });
}

// tql's rows as {columns, rows: [[canonical value, ...]]}, in the column kinds of the SQL result.
function tqlResult(stdout, kinds, names) {
  const rows = parseJson(stdout);
  if (!Array.isArray(rows)) throw new Error('tql output is not a JSON array');
  let columns = null;
  const out = rows.map((row, r) => {
    const cols = row.entries.map(([k]) => k);
    if (columns === null) columns = cols;
    else if (cols.join('\0') !== columns.join('\0')) throw new Error(`tql row ${r} has other columns`);
    return row.entries.map(([k, v], c) => canonTql(v, names[c] === k ? kinds[c] : null));
  });
  return { columns, rows: out };
}

async function runSql(con, sql) {
  const reader = await con.runAndReadAll(sql);
  const names = reader.columnNames();
  const kinds = reader.columnTypes().map((t, c) => columnKind(t, names[c]));
  const rows = reader.getRows().map((row) => row.map((v, c) => canonDuck(v, kinds[c])));
  return { columns: names, kinds, rows };
}

// ---------------------------------------------------------------------------------------------
// Comparing

const rowKey = (row) => row.join('\u0001');
const showRow = (columns, row) =>
  row === undefined ? '(no row)' : '{' + row.map((v, c) => `${columns[c]}: ${v}`).join(', ') + '}';

// Whether a tql cell agrees with DuckDB's: the same canonical text, or, in a column of the
// case's approx= option (rel is its REL), two finite numbers with |tql - sql| <= rel * |sql|.
// Canonical ints and floats are number text; null, strings and values of another kind are not,
// so they still have to be equal.
function cellAgrees(rel, got, want) {
  if (got === want) return true;
  if (rel === undefined) return false;
  const g = Number(got), w = Number(want);
  return Number.isFinite(g) && Number.isFinite(w) && Math.abs(g - w) <= rel * Math.abs(w);
}

// null when the results agree, else a description of the first difference.
function compare(c, got, want) {
  if (got.rows.length === 0 && want.rows.length === 0) return null;
  if (got.rows.length > 0 && got.columns.join('\0') !== want.columns.join('\0')) {
    return `columns differ\n    tql:    ${got.columns.join(', ')}\n    duckdb: ${want.columns.join(', ')}`;
  }
  const unknown = [...c.approx.keys()].filter((name) => !want.columns.includes(name));
  if (unknown.length) return `approx= names columns the SQL result does not have: ${unknown.join(', ')}`;
  const rel = want.columns.map((name) => c.approx.get(name)); // undefined: an exact column
  const agrees = (a, b) => a !== undefined && b !== undefined && a.every((x, k) => cellAgrees(rel[k], x, b[k]));
  // The text of a row's exact columns, then its approximate ones as numbers: the order in which
  // an unordered case compares rows (so that approximate values do not change the pairing).
  const exactKey = (row) => rowKey(row.filter((_, k) => rel[k] === undefined));
  const byKey = (a, b) => {
    const ka = exactKey(a), kb = exactKey(b);
    if (ka !== kb) return ka < kb ? -1 : 1;
    for (let k = 0; k < a.length; k++) {
      if (rel[k] !== undefined && a[k] !== b[k]) return Number(a[k]) - Number(b[k]) || (a[k] < b[k] ? -1 : 1);
    }
    return 0;
  };
  const sameRowsSorted = () => {
    const a = [...got.rows].sort(byKey), b = [...want.rows].sort(byKey);
    return a.length === b.length && a.every((r, i) => agrees(r, b[i]));
  };
  let note = '';
  if (c.unordered) {
    // Compare as multisets: both sides in one order.
    got = { ...got, rows: [...got.rows].sort(byKey) };
    want = { ...want, rows: [...want.rows].sort(byKey) };
    note = ' (rows sorted, as the case is unordered)';
  }
  const n = Math.max(got.rows.length, want.rows.length);
  for (let i = 0; i < n; i++) {
    if (!agrees(got.rows[i], want.rows[i])) {
      if (!c.unordered && sameRowsSorted()) note = ' (the same rows in another order)';
      const a = got.rows[i], b = want.rows[i];
      const cells = a && b ? want.columns.filter((_, c) => !cellAgrees(rel[c], a[c], b[c])).map((name) => {
        const c = want.columns.indexOf(name);
        const bound = rel[c] === undefined ? '' : `, relative error allowed ${rel[c]}`;
        return `${name} (tql ${a[c]}, duckdb ${b[c]}${bound})`;
      }) : [];
      return `${got.rows.length} rows from tql, ${want.rows.length} from DuckDB; ` +
             `first difference at row ${i}${note}\n` +
             `    tql:    ${showRow(want.columns, a)}\n` +
             `    duckdb: ${showRow(want.columns, b)}` +
             (cells.length ? `\n    differs in: ${cells.join('; ')}` : '');
    }
  }
  return null;
}

// Writes both results, a row per line, for a diff by hand.
function dump(name, got, want) {
  mkdirSync(DUMP, { recursive: true });
  for (const [side, r] of [['tql', got], ['duckdb', want]]) {
    const lines = [(r.columns ?? []).join('\t'), ...r.rows.map((row) => row.join('\t'))];
    writeFileSync(path.join(DUMP, `${name}.${side}.txt`), lines.join('\n') + '\n');
  }
}

// ---------------------------------------------------------------------------------------------
// The data: tql gen writes the spans and their logs; DuckDB reads the same files into the tables
// `spans` and `logs`, nested objects flattened into dotted columns, in tql's column order.

// Loads the source `table` (its file is data[table]) as tql reads it. `rows` is the number of
// rows it must have, or null for as many as tql counts.
async function loadTable(con, tql, data, table, rows) {
  const file = data[table];
  // tql's columns, in its order: the header of its first row.
  const head = await runTql(tql, data, `${table} | take 1`);
  if (head.error) throw new Error(head.error);
  const tqlColumns = parseJson(head.stdout)[0].entries.map(([k]) => k);
  // DuckDB's columns must be the same set; the table is created in tql's order, the rows in
  // file order, so that DuckDB's rowid is the line number - 1, the order tql reads.
  const probe = await describeNdjson(con, file);
  for (const [name, type] of probe.types) {
    if (name !== 'timestamp' && name !== 'duration' && type.typeId !== DuckDBTypeId.LIST) {
      columnKind(type, name); // a type tql has a column type for, or an error
    }
  }
  const missing = tqlColumns.filter((c) => !probe.types.has(c));
  const extra = probe.names.filter((c) => !tqlColumns.includes(c));
  if (missing.length || extra.length) {
    throw new Error(`tql and DuckDB read different columns of ${table}: only tql: [${missing}], only DuckDB: [${extra}]`);
  }
  await loadNdjson(con, file, table, tqlColumns);
  if (rows === null) {
    const counted = await runTql(tql, data, `${table} | count`);
    if (counted.error) throw new Error(counted.error);
    rows = BigInt(parseJson(counted.stdout)[0].entries[0][1].text);
  }
  const count = await con.runAndReadAll(`SELECT count(*) FROM ${table}`);
  if (count.getRows()[0][0] !== BigInt(rows)) {
    throw new Error(`DuckDB read ${count.getRows()[0][0]} rows of ${table}, tql ${rows}`);
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const [tql, work, ...only] = process.argv.slice(2);
  if (!tql || !work) {
    console.error('usage: node differential.mjs TQL_BINARY WORK_DIR [CASE_NAME...]');
    process.exit(2);
  }
  const started = Date.now();
  const text = readFileSync(CASES_FILE, 'utf8');
  let cases = parseCases(text);
  const inFile = (text.match(/^case\s/gm) ?? []).length; // counted apart from the parser
  if (cases.length !== inFile) throw new Error(`queries.test has ${inFile} cases, ${cases.length} parsed`);
  if (only.length) {
    const unknown = only.filter((n) => !cases.some((c) => c.name === n));
    if (unknown.length) throw new Error(`no such case: ${unknown.join(', ')}`);
    cases = cases.filter((c) => only.includes(c.name));
  }

  mkdirSync(work, { recursive: true });
  // gen writes the logs of the spans in --out X.ndjson to X.logs.ndjson.
  const data = { spans: path.resolve(work, 'spans.ndjson'), logs: path.resolve(work, 'spans.logs.ndjson') };
  await new Promise((resolve, reject) =>
    execFile(tql, ['gen', '--spans', String(SPANS), '--seed', String(SEED), '--logs', '--out', data.spans],
             (error, _out, stderr) => (error ? reject(new Error(`tql gen failed: ${stderr}`)) : resolve())));

  const db = await DuckDBInstance.create(':memory:', { threads: String(WORKERS) });
  const setup = await db.connect();
  await loadTable(setup, tql, data, 'spans', SPANS);
  await loadTable(setup, tql, data, 'logs', null);
  setup.closeSync();
  if (VERBOSE) console.log(`data generated and loaded in ${Date.now() - started} ms`);

  // A baselime: case runs the TQL that `tql import FILE --query ID` translates it to (FILE is
  // relative to tests/, ID its name without .baselime.yml).
  for (const c of cases.filter((each) => each.baselime)) {
    const file = path.join(HERE, '..', c.baselime);
    const id = path.basename(file).replace(/\.baselime\.ya?ml$/, '');
    c.tql = await new Promise((resolve, reject) =>
      execFile(tql, ['import', file, '--query', id], (error, out, stderr) =>
        (error ? reject(new Error(`tql import ${c.baselime} failed: ${stderr}`)) : resolve(out.trim()))));
  }

  // Each worker takes the next case: tql in a child process while DuckDB runs the SQL.
  const results = new Array(cases.length);
  const notRunnable = new Array(cases.length).fill(false);
  let next = 0;
  const worker = async () => {
    const con = await db.connect();
    while (next < cases.length) {
      const k = next++;
      const c = cases[k];
      const t0 = Date.now();
      const tqlRun = runTql(tql, data, c.tql).then((r) => ({ ...r, ms: Date.now() - t0 }));
      let failure;
      let sqlMs = 0;
      let rows = '?';
      try {
        let want;
        try {
          want = await runSql(con, c.sql);
          sqlMs = Date.now() - t0;
          rows = want.rows.length;
        } catch (e) {
          failure = `SQL error: ${e.message}`;
        }
        const got = await tqlRun;
        if (!failure && got.error) {
          failure = got.error;
          notRunnable[k] = got.notRunnable;
        }
        if (!failure && !c.unordered && want.rows.length > 1 && !/\bORDER\s+BY\b/i.test(c.sql)) {
          failure = 'the case compares rows in order, but its SQL has no ORDER BY (or mark it unordered)';
        }
        if (!failure) {
          const have = tqlResult(got.stdout, want.kinds, want.columns);
          if (DUMP) dump(c.name, have, want);
          failure = compare(c, have, want);
        }
        if (!failure && want.rows.length === 0) {
          console.log(`note: case ${c.name} (queries.test:${c.line}) returns no rows, ` +
                      'so its columns are not compared');
        }
      } catch (e) {
        failure = e.message;
      }
      results[k] = failure;
      if (VERBOSE) {
        const tqlMs = (await tqlRun).ms;
        console.log(`${failure ? 'FAIL' : 'ok  '} ${c.name} (${rows} rows; tql ${tqlMs} ms, ` +
                    `DuckDB ${sqlMs} ms, compared at ${Date.now() - t0} ms)`);
      }
    }
    con.closeSync();
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));

  let agree = 0;
  let ran = 0;
  cases.forEach((c, k) => {
    if (results[k] === undefined) return;
    ran++;
    if (results[k] === null) { agree++; return; }
    const query = c.tql.replace(/\n/g, '\n       ');
    console.log(`FAIL ${c.name} (queries.test:${c.line})\n  tql: ${query}\n  ${results[k]}\n`);
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const pending = notRunnable.filter(Boolean).length;
  console.log(`differential: ${ran} queries, ${agree} agree` +
              (pending ? ` (${pending} use stages this tql cannot run yet)` : '') + ` [${seconds} s]`);
  const expected = only.length ? new Set(only).size : inFile;
  if (ran !== expected) console.log(`differential: ${expected} cases to run, but ${ran} ran`);
  process.exitCode = agree === ran && ran === expected ? 0 : 1;
}

main().catch((e) => {
  console.error(`differential: ${e.message}`);
  process.exit(1);
});
