// The executor benchmark side by side with DuckDB: the same generated spans and logs, the
// same questions (bench/queries/*.tql for tql, bench/duckdb/*.sql for DuckDB), one thread
// each, in one run. Prints the best time of each engine, their ratio, rows/s and GB/s (of the
// columns tql reads), and checks that both engines return the same count.
//
//   node bench/compare_duckdb.mjs TQL_BINARY DATA_DIR [--spans N] [--repeat R] [--suite NAME]
//        [--engine interp|jit|both]   (both: the interpreter and the JIT beside DuckDB)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, DuckDBTypeId } from '@duckdb/node-api';
import { loadNdjson, quoteIdent } from '../tests/duckdb/load_ndjson.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const args = { spans: 10_000_000, repeat: 5, suite: 'executor', engine: 'interp', positional: [] };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--spans') args.spans = Number(argv[++i]);
    else if (argv[i] === '--repeat') args.repeat = Number(argv[++i]);
    else if (argv[i] === '--suite') args.suite = argv[++i];
    else if (argv[i] === '--engine') args.engine = argv[++i];
    else args.positional.push(argv[i]);
  }
  return args;
}

// `NAME: TEXT` lines (comments: `#` or `--`).
function readNamed(file) {
  const out = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#') || line.startsWith('--')) continue;
    const colon = line.indexOf(': ');
    out.set(line.slice(0, colon), line.slice(colon + 2));
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const [tql, dataDir] = args.positional;
  if (!tql || !dataDir) {
    console.error('usage: node bench/compare_duckdb.mjs TQL_BINARY DATA_DIR [--spans N] [--repeat R]');
    process.exit(2);
  }
  mkdirSync(dataDir, { recursive: true });
  const spans = path.join(dataDir, `spans-${args.spans}.ndjson`);
  const logs = path.join(dataDir, `spans-${args.spans}.logs.ndjson`);
  if (!existsSync(spans) || !existsSync(logs)) {
    console.log(`generating ${args.spans} spans and their logs in ${dataDir} ...`);
    execFileSync(tql, ['gen', '--spans', String(args.spans), '--seed', '7', '--logs', '--out', spans],
                 { stdio: 'inherit' });
  }
  const queriesFile = path.join(HERE, 'queries', `${args.suite}.tql`);
  const sql = readNamed(path.join(HERE, 'duckdb', `${args.suite}.sql`));

  // tql: inputs loaded once, each query `repeat` times, one thread.
  console.log('tql: loading and running ...');
  const tqlOut = execFileSync(tql, ['bench', '--format', 'json', '--repeat', String(args.repeat),
                                    '--engine', args.engine,
                                    '--input', `spans=${spans}`, '--input', `logs=${logs}`,
                                    '--queries', queriesFile],
                              { encoding: 'utf8', maxBuffer: 1 << 26 });
  // By query name: the result of each engine tql ran ({interp, jit}).
  const tqlResults = new Map();
  for (const r of tqlOut.trim().split('\n').map((l) => JSON.parse(l))) {
    if (!tqlResults.has(r.name)) tqlResults.set(r.name, {});
    tqlResults.get(r.name)[r.engine ?? 'interp'] = r;
  }

  // DuckDB: the same files, loaded with every core; the queries on one thread.
  console.log('duckdb: loading ...');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const spansTable = await loadNdjson(con, spans, 'spans');
  await loadNdjson(con, logs, 'logs');
  await con.run('SET threads = 1');
  const stringColumns = spansTable.names.filter((n) => {
    const t = spansTable.types.get(n);
    return t.typeId === DuckDBTypeId.VARCHAR || t.typeId === DuckDBTypeId.LIST;
  });

  const rows = [];
  for (const [name, byEngine] of tqlResults) {
    const r = byEngine.jit ?? byEngine.interp;
    let text = sql.get(name);
    if (!text) throw new Error(`no SQL for '${name}' in bench/duckdb/${args.suite}.sql`);
    text = text.replace(/\{search:([^}]*)\}/g, (_m, needle) =>
      stringColumns.map((c) => `${quoteIdent(c)}::VARCHAR ILIKE '%${needle}%'`).join(' OR '));
    const times = [];
    let count = null;
    for (let i = 0; i < args.repeat; ++i) {
      const start = process.hrtime.bigint();
      const result = await con.runAndReadAll(text);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      count = result.getRows()[0]?.[0];
    }
    times.sort((a, b) => a - b);
    // Both engines must give the same answer (the suites are single-value queries).
    for (const e of Object.values(byEngine)) {
      if (e.value !== undefined && String(count) !== e.value) {
        throw new Error(`${name}: tql (${e.engine}) says ${e.value}, DuckDB says ${count}`);
      }
    }
    rows.push({ name, tql: r, interp: byEngine.interp, jit: byEngine.jit, duck: times[0] });
  }

  if (args.engine === 'both') {
    // The interpreter, the JIT and DuckDB side by side.
    const pad = (s, n) => String(s).padStart(n);
    console.log(`\n${'query'.padEnd(18)}${pad('interp ms', 11)}${pad('jit ms', 10)}${pad('duckdb ms', 11)}` +
                `${pad('jit/interp', 12)}${pad('duckdb/jit', 12)}`);
    const speedups = [], ratios = [];
    for (const { name, interp, jit, duck } of rows) {
      const speedup = interp.best_ms / jit.best_ms, ratio = duck / jit.best_ms;
      speedups.push(speedup);
      ratios.push(ratio);
      console.log(`${name.padEnd(18)}${pad(interp.best_ms.toFixed(1), 11)}${pad(jit.best_ms.toFixed(1), 10)}` +
                  `${pad(duck.toFixed(1), 11)}${pad(speedup.toFixed(2) + 'x', 12)}${pad(ratio.toFixed(2) + 'x', 12)}`);
    }
    const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    console.log(`median jit/interp: ${median(speedups).toFixed(2)}x; median duckdb/jit: ` +
                `${median(ratios).toFixed(2)}x (above 1: the JIT is faster)`);
    return;
  }

  const pad = (s, n) => String(s).padStart(n);
  console.log(`\n${'query'.padEnd(16)}${pad('rows in', 12)}${pad('tql ms', 10)}${pad('duckdb ms', 11)}` +
              `${pad('duckdb/tql', 12)}${pad('tql Mrows/s', 13)}${pad('tql GB/s', 10)}`);
  const ratios = [];
  for (const { name, tql: r, duck } of rows) {
    const ratio = duck / r.best_ms;
    ratios.push(ratio);
    console.log(`${name.padEnd(16)}${pad(r.rows_in, 12)}${pad(r.best_ms.toFixed(1), 10)}` +
                `${pad(duck.toFixed(1), 11)}${pad(ratio.toFixed(2) + 'x', 12)}` +
                `${pad((r.rows_in / r.best_ms / 1e3).toFixed(1), 13)}${pad((r.bytes / r.best_ms / 1e6).toFixed(2), 10)}`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`median duckdb/tql: ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}x ` +
              '(above 1: tql is faster)');
}

main().catch((e) => {
  console.error(e.stack ?? String(e));
  process.exit(1);
});
