//! The `.tql.yaml` manifest (docs/observability-as-code.md): queries, alerts on their results,
//! notification channels and dashboards, kept in source control. Loading checks everything
//! that can be checked without data: YAML structure, ids and references, durations, cron
//! expressions, every query's syntax and types, and each alert's condition against the columns
//! of its query's result.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "runtime/types.h"
#include "tools/query_check.h"
#include "tools/yaml_file.h"

namespace tql {

// A query's text and where it came from, so that its diagnostics point into the file.
struct QuerySource {
  std::string text;
  YAML::Node node;        // the YAML scalar holding the text (inline queries)
  std::string file;       // a `file:` query: the .tql file's path
  std::string file_text;  // and its contents
  QueryCheck check;
};

struct ManifestQuery {
  std::string id;
  YAML::Node id_node;
  QuerySource query;
};

// `COLUMN OP LITERAL`, compared against each row of the query's result.
struct AlertCondition {
  std::string column;
  ast::Op op = ast::Op::kGt;
  ast::Literal literal;
  std::string text;  // as written
};

struct ManifestAlert {
  std::string id;
  YAML::Node id_node;
  std::string query_id;  // empty for an inline query
  QuerySource inline_query;
  AlertCondition condition;
  int64_t window = 0;      // nanoseconds
  int64_t every = 0;       // nanoseconds; 0 when `every` is a cron expression
  std::string every_cron;  // the cron expression, as written
  bool enabled = true;
  std::vector<std::string> notify;
  std::string name;  // optional human-readable title
};

// The kinds of channel and panel a manifest (and a Baselime file) may name.
inline const std::vector<std::string> kChannelTypes = {"slack", "email", "webhook"};
inline const std::vector<std::string> kPanelTypes = {"table", "timeseries", "timeseries_bar",
                                                     "statistic"};

struct ManifestChannel {
  std::string id;
  std::string type;  // slack, email, webhook
  std::vector<std::string> targets;
};

struct ManifestPanel {
  std::string query_id;  // empty for an inline query
  QuerySource inline_query;
  std::string type;
  std::string title;
};

struct ManifestDashboard {
  std::string id;
  std::string title;
  std::vector<ManifestPanel> panels;
};

struct Manifest {
  int version = 1;
  std::vector<ManifestQuery> queries;
  std::vector<ManifestAlert> alerts;
  std::vector<ManifestChannel> channels;
  std::vector<ManifestDashboard> dashboards;

  const ManifestQuery* FindQuery(const std::string& id) const;
  // The text an alert runs: its query's, or its inline query.
  const QuerySource& AlertQuery(const ManifestAlert& alert) const;
};

// Reads and checks the manifest in `file`; problems are added to `file` (and, for a `file:`
// query, printed against that file by the caller through `QuerySource::check`). `sample`: the
// columns to check names against strictly (tql check --schema), or null.
Manifest LoadManifest(YamlFile* file, const SchemaPtr& sample);

// Alert conditions are written `COLUMN OP LITERAL`; `error` says what is wrong otherwise.
std::optional<AlertCondition> ParseCondition(const std::string& text, std::string* error);

// `every:` as a cron expression: five fields (minute hour day-of-month month day-of-week) or
// AWS's six (with a year, `?` for "any" in a day field). Empty string: valid; else the problem.
std::string CheckCron(const std::string& text);

// A manifest duration: a TQL duration literal (`15m`, `90s`), or the Baselime forms `5mins`,
// `30 mins`, `1 hour`. Returns nullopt when it is neither.
std::optional<int64_t> ParseManifestDuration(const std::string& text);

}  // namespace tql
