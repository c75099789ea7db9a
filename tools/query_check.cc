#include "tools/query_check.h"

#include <memory>

#include "frontend/binder.h"
#include "frontend/catalog.h"
#include "frontend/parser.h"

namespace tql {

namespace {

void AddPipelineSources(const ast::Pipeline& p, std::vector<std::string>* out) {
  if (p.source_is_union) {
    for (const ast::Name& n : p.union_sources) out->push_back(n.Joined());
  } else {
    out->push_back(p.source.Joined());
  }
  for (const ast::Stage& st : p.stages) {
    if (st.kind == ast::StageKind::kUnion) {
      for (const ast::Name& n : st.names) out->push_back(n.Joined());
    }
    if (st.subquery) AddPipelineSources(*st.subquery, out);
  }
}

}  // namespace

std::vector<std::string> SourceNames(const ast::Query& query) {
  std::vector<std::string> names;
  AddPipelineSources(query.pipeline, &names);
  return names;
}

QueryCheck CheckQueryText(std::string_view text, const SchemaPtr& sample) {
  QueryCheck check;
  ParseResult parsed = ParseQuery(text);
  check.diagnostics = parsed.diagnostics;
  if (!parsed.query) return check;
  const SchemaPtr assumed = sample ? sample : std::make_shared<Schema>(ConventionalColumns());
  Catalog catalog;
  for (const std::string& name : SourceNames(*parsed.query)) {
    catalog.Add(name, assumed, /*open=*/!sample);
  }
  BindOptions options;
  options.only_near_misses = !sample;
  BindResult bound = Bind(&*parsed.query, catalog, options);
  check.diagnostics.insert(check.diagnostics.end(), bound.diagnostics.begin(),
                           bound.diagnostics.end());
  if (bound.ok() && !bound.stage_columns.empty()) check.columns = bound.stage_columns.back();
  return check;
}

}  // namespace tql
