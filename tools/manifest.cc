#include "tools/manifest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "frontend/parser.h"
#include "frontend/suggest.h"
#include "runtime/expression.h"
#include "runtime/time_format.h"
#include "tools/cli_support.h"

namespace tql {

namespace {

// Reads the `id` entry of a manifest item; empty when missing or invalid (reported).
std::string ReadId(YamlFile* file, MapReader* r, IdSet* ids, YAML::Node* node) {
  const MapEntry* e = r->Scalar("id", /*required=*/true);
  if (e == nullptr) return "";
  *node = e->value;
  return ids->Add(file, e->value.Scalar(), e->value) ? e->value.Scalar() : "";
}

// The checks made so far, by the place of the query text in the file: a YAML alias repeats a
// node, and its query is checked once.
using CheckCache = std::map<uint32_t, QueryCheck>;

// Checks the query text held by `node` (a YAML scalar) and reports its diagnostics inside it.
QuerySource CheckInlineQuery(YamlFile* file, const YAML::Node& node, const SchemaPtr& sample,
                             CheckCache* cache) {
  QuerySource q;
  q.node = node;
  q.text = node.Scalar();
  const uint32_t at = file->Offset(node);
  if (auto it = cache->find(at); it != cache->end()) {
    q.check = it->second;
    return q;
  }
  q.check = CheckQueryText(q.text, sample);
  (*cache)[at] = q.check;
  for (const Diagnostic& d : q.check.diagnostics) {
    Diagnostic mapped = d;
    mapped.range = file->ValueRange(node, d.range);
    file->Add(std::move(mapped));
  }
  return q;
}

// Reads a `file:` query relative to the manifest; its diagnostics stay with the .tql file.
QuerySource CheckFileQuery(YamlFile* file, const YAML::Node& node, const SchemaPtr& sample) {
  QuerySource q;
  q.node = node;
  const std::filesystem::path base = std::filesystem::path(file->path()).parent_path();
  q.file = (base / node.Scalar()).lexically_normal().string();
  if (!ReadTextFile(q.file, &q.file_text)) {
    file->Error(node, fmt::format("cannot read the query file '{}'", q.file));
    q.check.diagnostics.push_back(MakeDiagnostic(Severity::kError, {}, "unreadable"));
    q.file.clear();
    return q;
  }
  q.text = q.file_text;
  q.check = CheckQueryText(q.text, sample);
  return q;
}

bool TypesComparable(TypeId column, TypeId literal) {
  auto numeric = [](TypeId t) { return t == TypeId::kInt || t == TypeId::kFloat; };
  if (column == TypeId::kDynamic || column == TypeId::kNull) return true;
  if (numeric(column) && numeric(literal)) return true;
  return column == literal;
}

// Checks `condition` against the columns of the alert's query result.
void CheckCondition(YamlFile* file, const YAML::Node& node, const AlertCondition& c,
                    const QueryCheck& query) {
  if (!query.ok()) return;  // the query's own errors are reported already
  auto it = std::find_if(query.columns.begin(), query.columns.end(),
                         [&](const Field& f) { return f.name == c.column; });
  if (it == query.columns.end()) {
    std::vector<std::string> names;
    for (const Field& f : query.columns) names.push_back(f.name);
    std::vector<std::string> hints = DidYouMean(c.column, names);
    std::string list = QuotedList(names);
    if (const size_t last = list.rfind(" or "); last != std::string::npos) {
      list.replace(last, 4, " and ");
    }
    hints.push_back(fmt::format("the query's result has the columns {}", list));
    file->Error(node,
                fmt::format("the condition's column '{}' is not in the query's result", c.column),
                std::move(hints));
    return;
  }
  if (!TypesComparable(it->type, c.literal.type)) {
    std::vector<std::string> hints;
    if (it->type == TypeId::kDuration) hints.push_back("write a duration such as 2s or 250ms");
    file->Error(node,
                fmt::format("the condition compares '{}' ({}) with a value of type {}", c.column,
                            TypeName(it->type), TypeName(c.literal.type)),
                std::move(hints));
  }
}

}  // namespace

std::optional<int64_t> ParseManifestDuration(const std::string& text) {
  // NUMBER [spaces] UNIT: white space only around the whole and between the two.
  std::string t;
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  while (i < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' || text[i] == '_')) {
    t += text[i++];
  }
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) t += text[i++];
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (t.empty() || i != text.size()) return std::nullopt;
  // Baselime's spellings of a unit: 5mins, 30 mins, 1hour, 2 days.
  static const std::pair<const char*, const char*> kUnits[] = {
      {"seconds", "s"}, {"second", "s"}, {"secs", "s"}, {"sec", "s"},   {"minutes", "m"},
      {"minute", "m"},  {"mins", "m"},   {"min", "m"},  {"hours", "h"}, {"hour", "h"},
      {"hrs", "h"},     {"hr", "h"},     {"days", "d"}, {"day", "d"},
  };
  const std::string lower = AsciiLower(t);
  for (const auto& [word, unit] : kUnits) {
    const size_t n = std::char_traits<char>::length(word);
    if (lower.size() > n && lower.compare(lower.size() - n, n, word) == 0) {
      t = lower.substr(0, lower.size() - n) + unit;
      break;
    }
  }
  bool exact = true;
  std::optional<int64_t> d = ParseDuration(t, &exact);
  if (!d || !exact) return std::nullopt;
  return d;
}

std::string CheckCron(const std::string& text) {
  std::vector<std::string> fields;
  std::istringstream in(text);
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5 && fields.size() != 6) {
    return fmt::format("a cron expression has 5 fields (6 with a year), this one has {}",
                       fields.size());
  }
  struct Range {
    const char* name;
    int lo, hi;
  };
  static const Range kRanges[] = {{"minute", 0, 59}, {"hour", 0, 23},       {"day of month", 1, 31},
                                  {"month", 1, 12},  {"day of week", 0, 7}, {"year", 1970, 2199}};
  static const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static const char* kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  const bool aws = fields.size() == 6;
  for (size_t i = 0; i < fields.size(); ++i) {
    const Range& r = kRanges[i];
    const std::string& f = fields[i];
    const bool day_field = i == 2 || i == 4;
    if (f == "?") {
      if (!day_field)
        return fmt::format("'?' is allowed only in the day fields, not the {}", r.name);
      continue;
    }
    // AWS numbers the days of week 1-7 (SUN-SAT).
    const int lo = aws && i == 4 ? 1 : r.lo;
    auto value = [&](std::string v, int* out) {
      const std::string upper = [&] {
        std::string u = v;
        for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return u;
      }();
      if (i == 3) {
        for (int m = 0; m < 12; ++m) {
          if (upper == kMonths[m]) return *out = m + 1, true;
        }
      }
      if (i == 4) {
        for (int d = 0; d < 7; ++d) {
          if (upper == kDays[d]) return *out = d + lo, true;
        }
        if (!upper.empty() && (upper.back() == 'L')) v = v.substr(0, v.size() - 1);
      }
      if (i == 2 && (upper == "L" || upper == "LW")) return *out = lo, true;
      if (i == 2 && !upper.empty() && upper.back() == 'W') v = v.substr(0, v.size() - 1);
      int n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size()) return false;
      *out = n;
      return n >= lo && n <= r.hi;
    };
    std::istringstream parts(f);
    for (std::string part; std::getline(parts, part, ',');) {
      std::string range = part;
      const size_t slash = part.find('/');
      if (slash != std::string::npos) {
        range = part.substr(0, slash);
        int step = 0;
        const std::string s = part.substr(slash + 1);
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
        if (ec != std::errc() || p != s.data() + s.size() || step <= 0) {
          return fmt::format("'{}' in the {} field: the step after '/' must be a positive number",
                             part, r.name);
        }
      }
      if (i == 4 && range.find('#') != std::string::npos) range = range.substr(0, range.find('#'));
      if (range == "*") continue;
      const size_t dash = range.find('-');
      int a = 0, b = 0;
      const bool ok = dash == std::string::npos ? value(range, &a)
                                                : value(range.substr(0, dash), &a) &&
                                                      value(range.substr(dash + 1), &b) && a <= b;
      if (!ok) {
        return fmt::format("'{}' is not a valid {} (from {} to {})", part, r.name, lo, r.hi);
      }
    }
  }
  return "";
}

std::optional<AlertCondition> ParseCondition(const std::string& text, std::string* error) {
  static constexpr std::string_view kPrefix = "result | where ";
  const std::string wrapped = std::string(kPrefix) + text;
  ParseResult parsed = ParseQuery(wrapped);
  const char* kForm = "a condition is COLUMN OP VALUE, e.g. \"p99(duration) > 2s\"";
  if (!parsed.query || parsed.query->pipeline.stages.size() != 1 || !parsed.query->lets.empty()) {
    *error = kForm;
    for (const Diagnostic& d : parsed.diagnostics) {
      if (d.severity == Severity::kError) {
        *error = fmt::format("{}: {}", kForm, d.message);
        break;
      }
    }
    return std::nullopt;
  }
  const ast::Expr& e = *parsed.query->pipeline.stages[0].predicate;
  static const ast::Op kOps[] = {ast::Op::kEq, ast::Op::kNe, ast::Op::kLt,
                                 ast::Op::kLe, ast::Op::kGt, ast::Op::kGe};
  if (e.kind != ast::ExprKind::kBinary ||
      std::find(std::begin(kOps), std::end(kOps), e.op) == std::end(kOps) || e.args.size() != 2) {
    *error = fmt::format("{}, with OP one of == != < <= > >=", kForm);
    return std::nullopt;
  }
  AlertCondition c;
  c.text = text;
  c.op = e.op;
  const ast::Expr& lhs = *e.args[0];
  c.column = lhs.kind == ast::ExprKind::kName ? lhs.name.Joined() : ast::FormatExpr(lhs);
  const ast::Expr* rhs = e.args[1].get();
  bool negate = false;
  if (rhs->kind == ast::ExprKind::kUnary && rhs->op == ast::Op::kNegate) {
    negate = true;
    rhs = rhs->args[0].get();
  }
  if (rhs->kind != ast::ExprKind::kLiteral || rhs->literal.type == TypeId::kNull) {
    *error =
        fmt::format("{}: the value must be a literal (a number, duration, string or bool)", kForm);
    return std::nullopt;
  }
  c.literal = rhs->literal;
  if (negate) {
    switch (c.literal.type) {
      case TypeId::kInt:
      case TypeId::kDuration:
        c.literal.int_value = -c.literal.int_value;
        break;
      case TypeId::kFloat:
        c.literal.float_value = -c.literal.float_value;
        break;
      default:
        *error = fmt::format("{}: only a number or a duration can be negative", kForm);
        return std::nullopt;
    }
  }
  return c;
}

const ManifestQuery* Manifest::FindQuery(const std::string& id) const {
  for (const ManifestQuery& q : queries) {
    if (q.id == id) return &q;
  }
  return nullptr;
}

const QuerySource& Manifest::AlertQuery(const ManifestAlert& alert) const {
  if (!alert.query_id.empty()) {
    if (const ManifestQuery* q = FindQuery(alert.query_id)) return q->query;
  }
  return alert.inline_query;
}

namespace {

// A query reference (`query:` of an alert or a panel): the id of a manifest query, or TQL.
// A single name that is no query id is taken as a dangling id, not as a source name.
void ReadQueryRef(YamlFile* file, const MapEntry& e, const IdSet& query_ids,
                  const SchemaPtr& sample, CheckCache* cache, std::string* query_id,
                  QuerySource* inline_query) {
  const std::string& v = e.value.Scalar();
  if (query_ids.Has(v)) {
    *query_id = v;
    return;
  }
  if (IsValidId(v)) {
    file->Error(e.value, fmt::format("no query '{}' in this manifest", v),
                DidYouMean(v, query_ids.ids()));
    *query_id = v;
    return;
  }
  *inline_query = CheckInlineQuery(file, e.value, sample, cache);
}

ManifestChannel ReadChannel(YamlFile* file, const YAML::Node& node, IdSet* ids) {
  ManifestChannel c;
  MapReader r(file, node, "a channel", {"id", "type", "targets", "name"});
  YAML::Node id_node;
  c.id = ReadId(file, &r, ids, &id_node);
  if (const MapEntry* t = r.Scalar("type", true)) {
    c.type = t->value.Scalar();
    if (!CheckOneOf(file, t->value, c.type, kChannelTypes, "channel type")) c.type.clear();
  }
  if (const MapEntry* t = r.List("targets", true)) {
    if (IsNullValue(t->value) || t->value.size() == 0) {
      file->Error(t->key, "a channel needs at least one target");
    }
    for (const YAML::Node& target : t->value) {
      if (!target.IsScalar()) {
        file->Error(target, "a target must be a single value");
        continue;
      }
      const std::string& s = target.Scalar();
      if (c.type == "webhook" && !s.starts_with("https://") && !s.starts_with("http://")) {
        file->Error(target, fmt::format("webhook target '{}' is not an http(s) URL", s));
      } else if (c.type == "email" && s.find('@') == std::string::npos) {
        file->Error(target, fmt::format("email target '{}' is not an email address", s));
      }
      c.targets.push_back(s);
    }
  }
  return c;
}

}  // namespace

Manifest LoadManifest(YamlFile* file, const SchemaPtr& sample) {
  Manifest m;
  const YAML::Node& root = file->root();
  if (!file->parsed()) return m;
  if (!root.IsMap()) {
    file->Error(SourceRange{0, 1}, "a manifest is a mapping with 'version' and 'queries'");
    return m;
  }
  MapReader top(file, root, "the manifest",
                {"version", "queries", "alerts", "channels", "dashboards"});
  if (const MapEntry* v = top.Scalar("version", true)) {
    if (v->value.Scalar() != "1") {
      file->Error(v->value, fmt::format("unsupported manifest version '{}'", v->value.Scalar()),
                  {"this version of tql reads 'version: 1'"});
    }
  }

  CheckCache cache;
  IdSet query_ids("query");
  if (const MapEntry* qs = top.List("queries", false)) {
    for (const YAML::Node& node : qs->value) {
      if (!node.IsMap()) {
        file->Error(node, "a query is a mapping with 'id' and 'query' (or 'file')");
        continue;
      }
      MapReader r(file, node, "a query", {"id", "query", "file", "name", "description"});
      ManifestQuery q;
      q.id = ReadId(file, &r, &query_ids, &q.id_node);
      const MapEntry* text = r.Find("query");
      const MapEntry* path = r.Find("file");
      if (text != nullptr && path != nullptr) {
        file->Error(path->key, "a query has either 'query' or 'file', not both");
      } else if (text == nullptr && path == nullptr) {
        file->Error(r.Anchor(), "a query needs 'query' (TQL text) or 'file' (a .tql file)");
      } else if (text != nullptr) {
        if ((text = r.Scalar("query", true)) != nullptr) {
          q.query = CheckInlineQuery(file, text->value, sample, &cache);
        }
      } else if ((path = r.Scalar("file", true)) != nullptr) {
        q.query = CheckFileQuery(file, path->value, sample);
      }
      if (!q.id.empty()) m.queries.push_back(std::move(q));
    }
  }

  IdSet channel_ids("channel");
  if (const MapEntry* cs = top.List("channels", false)) {
    for (const YAML::Node& node : cs->value) {
      if (!node.IsMap()) {
        file->Error(node, "a channel is a mapping with 'id', 'type' and 'targets'");
        continue;
      }
      ManifestChannel c = ReadChannel(file, node, &channel_ids);
      if (!c.id.empty()) m.channels.push_back(std::move(c));
    }
  }

  IdSet alert_ids("alert");
  if (const MapEntry* as = top.List("alerts", false)) {
    for (const YAML::Node& node : as->value) {
      if (!node.IsMap()) {
        file->Error(node, "an alert is a mapping with 'id', 'query', 'condition' and 'window'");
        continue;
      }
      MapReader r(file, node, "an alert",
                  {"id", "name", "description", "query", "condition", "window", "every", "enabled",
                   "notify"});
      ManifestAlert a;
      a.id = ReadId(file, &r, &alert_ids, &a.id_node);
      if (const MapEntry* n = r.Scalar("name", false)) a.name = n->value.Scalar();
      if (const MapEntry* q = r.Scalar("query", true)) {
        ReadQueryRef(file, *q, query_ids, sample, &cache, &a.query_id, &a.inline_query);
      }
      if (const MapEntry* c = r.Scalar("condition", true)) {
        std::string error;
        if (auto cond = ParseCondition(c->value.Scalar(), &error)) {
          a.condition = *cond;
          if (a.query_id.empty() || m.FindQuery(a.query_id) != nullptr) {
            CheckCondition(file, c->value, a.condition, m.AlertQuery(a).check);
          }
        } else {
          file->Error(c->value, fmt::format("invalid condition '{}'", c->value.Scalar()), {error});
        }
      }
      if (const MapEntry* w = r.Scalar("window", true)) {
        auto d = ParseManifestDuration(w->value.Scalar());
        if (!d || *d <= 0) {
          file->Error(w->value, fmt::format("'{}' is not a duration", w->value.Scalar()),
                      {"write a window such as 15m, 1h or 30s"});
        } else {
          a.window = *d;
        }
      }
      if (const MapEntry* ev = r.Scalar("every", false)) {
        const std::string& s = ev->value.Scalar();
        if (auto d = ParseManifestDuration(s)) {
          if (*d <= 0) {
            file->Error(ev->value, fmt::format("'every' must be positive, not '{}'", s));
          }
          a.every = *d;
        } else if (s.find(' ') != std::string::npos) {
          std::string problem = CheckCron(s);
          if (!problem.empty()) {
            file->Error(ev->value, fmt::format("invalid cron expression '{}'", s), {problem});
          }
          a.every_cron = s;
        } else {
          file->Error(ev->value, fmt::format("'{}' is neither a duration nor a cron expression", s),
                      {"write a duration such as 5m, or a cron expression such as '*/5 * * * *'"});
        }
      } else {
        a.every = a.window;
      }
      if (const MapEntry* en = r.Scalar("enabled", false)) {
        const std::string& s = en->value.Scalar();
        if (s == "true" || s == "false") {
          a.enabled = s == "true";
        } else {
          file->Error(en->value, fmt::format("'enabled' is true or false, not '{}'", s));
        }
      }
      if (const MapEntry* n = r.List("notify", false)) {
        for (const YAML::Node& c : n->value) {
          if (!c.IsScalar()) {
            file->Error(c, "'notify' lists channel ids");
            continue;
          }
          if (!channel_ids.Has(c.Scalar())) {
            file->Error(c, fmt::format("no channel '{}' in this manifest", c.Scalar()),
                        DidYouMean(c.Scalar(), channel_ids.ids()));
          }
          a.notify.push_back(c.Scalar());
        }
      }
      if (!a.id.empty()) m.alerts.push_back(std::move(a));
    }
  }

  IdSet dashboard_ids("dashboard");
  if (const MapEntry* ds = top.List("dashboards", false)) {
    for (const YAML::Node& node : ds->value) {
      if (!node.IsMap()) {
        file->Error(node, "a dashboard is a mapping with 'id' and 'panels'");
        continue;
      }
      MapReader r(file, node, "a dashboard", {"id", "title", "name", "description", "panels"});
      ManifestDashboard d;
      YAML::Node id_node;
      d.id = ReadId(file, &r, &dashboard_ids, &id_node);
      if (const MapEntry* t = r.Scalar("title", false)) d.title = t->value.Scalar();
      if (const MapEntry* ps = r.List("panels", true)) {
        for (const YAML::Node& pn : ps->value) {
          if (!pn.IsMap()) {
            file->Error(pn, "a panel is a mapping with 'query', 'type' and 'title'");
            continue;
          }
          MapReader pr(file, pn, "a panel", {"query", "type", "title"});
          ManifestPanel p;
          if (const MapEntry* q = pr.Scalar("query", true)) {
            ReadQueryRef(file, *q, query_ids, sample, &cache, &p.query_id, &p.inline_query);
          }
          if (const MapEntry* t = pr.Scalar("type", false)) {
            p.type = t->value.Scalar();
            CheckOneOf(file, t->value, p.type, kPanelTypes, "panel type");
          } else {
            p.type = "table";
          }
          if (const MapEntry* t = pr.Scalar("title", false)) p.title = t->value.Scalar();
          d.panels.push_back(std::move(p));
        }
      }
      if (!d.id.empty()) m.dashboards.push_back(std::move(d));
    }
  }
  return m;
}

}  // namespace tql
