-- The SQL of bench/queries/aggregate.tql, by name. The outer count makes both engines return
-- one value (the number of groups), which the comparison checks.
by_service: SELECT count(*) FROM (SELECT service, count(*), avg(duration), quantile_cont(duration, 0.99) FROM spans GROUP BY service)
by_user: SELECT count(*) FROM (SELECT "user.id", count(*) FROM spans GROUP BY "user.id")
by_minute_route: SELECT count(*) FROM (SELECT epoch_ns(timestamp) // 60000000000, "http.route", count(*), quantile_cont(duration, 0.95) FROM spans GROUP BY 1, 2)
by_service_approx: SELECT count(*) FROM (SELECT service, count(*), avg(duration), approx_quantile(duration, 0.99) FROM spans GROUP BY service)
by_minute_route_approx: SELECT count(*) FROM (SELECT epoch_ns(timestamp) // 60000000000, "http.route", count(*), approx_quantile(duration, 0.95) FROM spans GROUP BY 1, 2)
users_by_route: SELECT count(*) FROM (SELECT "http.route", count(DISTINCT "user.id") FROM spans GROUP BY 1)
users_by_route_approx: SELECT count(*) FROM (SELECT "http.route", approx_count_distinct("user.id") FROM spans GROUP BY 1)
