-- The SQL of bench/queries/jit.tql, by name: `NAME: SQL` lines.
filter_count: SELECT count(*) FROM spans WHERE duration > 250000000
filter_sum: SELECT sum("http.status_code") FROM spans WHERE duration > 100000000
multi_conjunct: SELECT count(*) FROM spans WHERE duration > 50000000 AND "http.status_code" >= 500 AND service <> 'cart' AND kind = 'server'
arith_filter: SELECT count(*) FROM spans WHERE duration / 1e6 * 2.5 > 10 OR "http.status_code" % 100 = 4
time_bins: SELECT count(*) FROM (SELECT epoch_ns(timestamp) // 60000000000 FROM spans GROUP BY 1)
p99_by_service: SELECT count(*) FROM (SELECT service, approx_quantile(duration, 0.99) FROM spans GROUP BY service)
dcount_by_route: SELECT count(*) FROM (SELECT "http.route", approx_count_distinct("user.id") FROM spans GROUP BY 1)
top_slowest: SELECT count(DISTINCT trace_id) FROM (SELECT trace_id FROM spans ORDER BY duration DESC LIMIT 10)
needle: SELECT count(*) FROM spans WHERE {search:timeout}
regex: SELECT count(*) FROM logs WHERE regexp_matches(message, 'timed? ?out')
json_path: SELECT count(*) FROM logs WHERE CASE WHEN json_valid(message) THEN TRY_CAST(json_extract(message, '$.status') AS DOUBLE) END >= 500
let_threshold: SELECT count(*) FROM spans WHERE duration > 500000000 AND "http.status_code" >= 500
wide_extend: SELECT sum("http.status_code" * 2) FROM spans WHERE duration / 1e6 > 100
