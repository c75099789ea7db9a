-- The SQL of bench/queries/executor.tql, by name: `NAME: SQL` lines. `{string_columns}` is
-- replaced by the table's VARCHAR columns (what `search` looks in).
int_compare: SELECT count(*) FROM spans WHERE "http.status_code" >= 500
dict_string_eq: SELECT count(*) FROM spans WHERE service = 'checkout'
contains: SELECT count(*) FROM logs WHERE message ILIKE '%timeout%'
regex: SELECT count(*) FROM logs WHERE regexp_matches(message, 'timed? ?out')
json_path: SELECT count(*) FROM logs WHERE CASE WHEN json_valid(message) THEN TRY_CAST(json_extract(message, '$.status') AS DOUBLE) END >= 500
search: SELECT count(*) FROM spans WHERE {search:timeout}
