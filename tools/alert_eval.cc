#include "tools/alert_eval.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "frontend/binder.h"
#include "frontend/parser.h"
#include "planner/executor.h"
#include "planner/logical_plan.h"
#include "tools/query_check.h"

namespace tql {

namespace {

// The `where` stage of `predicate` (a one-stage query over a placeholder source).
std::optional<ast::Stage> ParseWhere(const std::string& predicate) {
  ParseResult parsed = ParseQuery("result | where " + predicate);
  if (!parsed.query || parsed.query->pipeline.stages.size() != 1) return std::nullopt;
  return std::move(parsed.query->pipeline.stages[0]);
}

// The start of the window that ends at `at` (clamped at the earliest representable time).
int64_t WindowStart(int64_t at, int64_t window) {
  int64_t from = 0;
  return __builtin_sub_overflow(at, window, &from) ? INT64_MIN : from;
}

}  // namespace

std::optional<int64_t> LatestTimestamp(const LoadedInputs& inputs) {
  std::optional<int64_t> latest;
  for (const auto& [name, table] : inputs.tables) {
    if (!table.schema) continue;
    const int column = table.schema->IndexOf("timestamp");
    if (column < 0 || table.schema->field(column).type != TypeId::kTimestamp) continue;
    for (const Batch& b : table.batches) {
      const Vector& v = b.column(column);
      if (v.type() != TypeId::kTimestamp || v.length() == 0) continue;
      const int64_t* values = v.int64_values();
      for (int64_t i = 0; i < v.length(); ++i) {
        if (v.IsValid(i) && (!latest || values[i] > *latest)) latest = values[i];
      }
    }
  }
  if (latest && *latest < INT64_MAX) ++*latest;
  return latest;
}

Result<std::string> AlertQueryText(const Manifest& manifest, const ManifestAlert& alert) {
  const QuerySource& source = manifest.AlertQuery(alert);
  ParseResult parsed = ParseQuery(source.text);
  if (!parsed.query) {
    return Status::QueryError("alert '{}': its query does not parse", alert.id);
  }
  const AlertCondition& c = alert.condition;
  auto condition = ParseWhere(fmt::format("{} {} {}", ast::FormatNamePart(c.column),
                                          ast::OpText(c.op), ast::FormatLiteral(c.literal)));
  if (!condition) {
    return Status::QueryError("alert '{}': invalid condition '{}'", alert.id, c.text);
  }
  parsed.query->pipeline.stages.push_back(std::move(*condition));
  return ast::FormatQuery(*parsed.query);
}

Result<std::vector<AlertOutcome>> EvaluateAlerts(const Manifest& manifest,
                                                 const LoadedInputs& inputs, int64_t at,
                                                 int64_t now, const ExecOptions& base) {
  std::vector<AlertOutcome> out;
  for (const ManifestAlert& alert : manifest.alerts) {
    AlertOutcome o;
    o.id = alert.id;
    o.to = at;
    o.from = WindowStart(at, alert.window);
    if (!alert.enabled) {
      o.state = "disabled";
      out.push_back(o);
      continue;
    }
    Result<std::string> text = AlertQueryText(manifest, alert);
    if (!text.ok()) return text.status();
    ParseResult parsed = ParseQuery(*text);
    if (!parsed.query) {
      return Status::QueryError("{}",
                                fmt::format("alert '{}': its query does not parse", alert.id));
    }
    for (const std::string& source : SourceNames(*parsed.query)) {
      SchemaPtr schema = inputs.catalog.Find(source);
      if (!schema) {
        return Status::QueryError(
            "{}", fmt::format("alert '{}': no input named '{}' (give it with --input {}=FILE)",
                              alert.id, source, source));
      }
      const int ts = schema->IndexOf("timestamp");
      if (ts < 0 || schema->field(ts).type != TypeId::kTimestamp) {
        return Status::QueryError(
            "{}",
            fmt::format("alert '{}': source '{}' has no timestamp column to apply the window to",
                        alert.id, source));
      }
    }
    BindResult bound = Bind(&*parsed.query, inputs.catalog);
    if (!bound.ok()) {
      return Status::QueryError("{}", fmt::format("alert '{}': {}", alert.id,
                                                  FormatDiagnostics(*text, bound.diagnostics)));
    }
    PlanOptions options;
    options.now = now;
    options.time_range = ScanTimeRange{"timestamp", o.from, o.to};
    PlanResult planned = PlanQuery(*parsed.query, bound, inputs.catalog, options);
    if (!planned.plan) {
      return Status::QueryError("{}", fmt::format("alert '{}': {}", alert.id,
                                                  FormatDiagnostics(*text, planned.diagnostics)));
    }
    o.query = *text;
    o.plan = ExplainPlan(*planned.plan);
    for (const PushdownInfo& p : DescribePushdown(*planned.plan)) {
      o.plan += fmt::format("pushdown to {}: columns [{}]", p.source, fmt::join(p.columns, ", "));
      if (!p.predicates.empty())
        o.plan += fmt::format("; predicates [{}]", fmt::join(p.predicates, ", "));
      o.plan += "\n";
    }
    ScanStats stats;
    ExecOptions exec = base;
    exec.now = now;
    Result<Table> result = ExecutePlan(*planned.plan, inputs.tables, &stats, exec);
    if (!result.ok()) {
      return Status::QueryError("{}",
                                fmt::format("alert '{}': {}", alert.id, result.status().message()));
    }
    o.rows = result->num_rows();
    o.state = o.rows > 0 ? "firing" : "ok";
    out.push_back(o);
  }
  return out;
}

}  // namespace tql
