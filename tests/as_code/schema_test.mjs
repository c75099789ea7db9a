// The manifest JSON Schema (docs/tql-manifest.schema.json) against manifests: the valid ones
// must validate, and the structurally invalid ones of check/ must not (what tql check reports
// beyond structure — TQL errors, dangling ids, conditions — is not the schema's to catch).
// Usage: node schema_test.mjs TQL   (tql writes one manifest with `tql import --out`)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'tql-manifest.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);

const work = mkdtempSync(path.join(os.tmpdir(), 'tql-schema-'));
execFileSync(process.argv[2], ['import', path.join(here, 'valid', 'service'), '--out', work], { stdio: 'ignore' });

const valid = [
  path.join(here, 'valid', 'tql.yaml'),
  path.join(here, 'alerts', 'alerts.tql.yaml'),
  path.join(root, 'examples', 'ci', 'tql.yaml'),
  path.join(work, 'tql.yaml'),
];
const invalid = ['m02-no-version', 'm03-bad-version', 'm04-unknown-top-key', 'm06-invalid-id',
  'm07-query-and-file', 'm08-no-query-text', 'm19-no-window', 'm22-enabled-not-bool',
  'm24-channel-type', 'm25-webhook-url', 'm26-unknown-alert-key', 'm27-panel',
  'm29-queries-not-list'].map((name) => path.join(here, 'check', `${name}.tql.yaml`));

let failures = 0;
for (const file of valid) {
  if (!validate(YAML.parse(readFileSync(file, 'utf8')))) {
    console.log(`FAIL: ${path.relative(root, file)} does not validate:`, JSON.stringify(validate.errors));
    failures++;
  }
}
for (const file of invalid) {
  if (validate(YAML.parse(readFileSync(file, 'utf8')))) {
    console.log(`FAIL: ${path.relative(root, file)} validates, but tql check rejects it`);
    failures++;
  }
}
rmSync(work, { recursive: true, force: true });
console.log(`schema: ${valid.length} valid and ${invalid.length} invalid manifests, failed: ${failures}`);
process.exit(failures === 0 ? 0 : 1);
