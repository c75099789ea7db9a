#include "tools/baselime.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "frontend/ast.h"
#include "frontend/parser.h"
#include "runtime/time_format.h"
#include "tools/cli_support.h"
#include "tools/query_check.h"

namespace tql {

namespace fs = std::filesystem;

namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A Baselime field name as a TQL name: each dotted part as it must be written (backticks for
// `@duration`, `$baselime`).
std::string FieldName(const std::string& key) {
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!out.empty()) out += '.';
    out += ast::FormatNamePart(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// A result column name as a TQL name (one part, whatever it holds).
std::string ColumnName(const std::string& name) {
  return ast::FormatNamePart(name);
}

std::string StringLiteral(const std::string& s) {
  ast::Literal l;
  l.type = TypeId::kString;
  l.string_value = s;
  return ast::FormatLiteral(l);
}

// A filter value as TQL: surrounding quotes removed, then a number when it reads back as the
// same number, a bool for true/false, else a string.
std::string TypedValue(std::string v) {
  v = Trim(v);
  if (v.size() >= 2 &&
      ((v.front() == '\'' && v.back() == '\'') || (v.front() == '"' && v.back() == '"'))) {
    v = v.substr(1, v.size() - 2);
  }
  int64_t i = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
  if (ec == std::errc() && p == v.data() + v.size() && fmt::format("{}", i) == v) {
    return v;
  }
  double d = 0;
  auto [q, ec2] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec2 == std::errc() && q == v.data() + v.size() && std::isfinite(d) &&
      fmt::format("{}", d) == v && v.find('.') != std::string::npos) {
    return v;
  }
  if (v == "true" || v == "false") return v;
  return StringLiteral(v);
}

std::string Unquote(std::string v) {
  v = Trim(v);
  if (v.size() >= 2 &&
      ((v.front() == '\'' && v.back() == '\'') || (v.front() == '"' && v.back() == '"'))) {
    v = v.substr(1, v.size() - 2);
  }
  return v;
}

// SQL LIKE (`%` any run, `_` one character) as an anchored RE2 pattern.
std::string LikeToRegex(const std::string& pattern) {
  std::string re = "^(?s)";
  for (char c : pattern) {
    if (c == '%') {
      re += ".*";
    } else if (c == '_') {
      re += '.';
    } else {
      re += RE2::QuoteMeta(std::string(1, c));
    }
  }
  return re + "$";
}

// A duration in nanoseconds as the shortest exact TQL literal: 30m, 1h, 90s.
std::string DurationLiteral(int64_t ns) {
  static const std::pair<int64_t, const char*> kUnits[] = {{kNanosPerDay, "d"},
                                                           {kNanosPerHour, "h"},
                                                           {kNanosPerMinute, "m"},
                                                           {1000000000, "s"},
                                                           {1000000, "ms"},
                                                           {1000, "us"},
                                                           {1, "ns"}};
  for (const auto& [unit, name] : kUnits) {
    if (ns % unit == 0) return fmt::format("{}{}", ns / unit, name);
  }
  return fmt::format("{}ns", ns);
}

// A Baselime duration: a plain number is minutes; else `5mins`, `'30 mins'`, `1h`.
std::optional<int64_t> BaselimeDuration(const YAML::Node& node) {
  const std::string v = Trim(node.Scalar());
  int64_t minutes = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), minutes);
  if (ec == std::errc() && p == v.data() + v.size()) {
    if (minutes <= 0 || minutes > 1000000) return std::nullopt;
    return minutes * kNanosPerMinute;
  }
  return ParseManifestDuration(v);
}

struct Calculation {
  std::string name;  // the result column: the alias, else the text as written
  std::string tql;   // the aggregate call
};

// The 19 calculation operators and their TQL aggregates.
const std::vector<std::pair<std::string, std::string>>& CalculationOperators() {
  static const std::vector<std::pair<std::string, std::string>> kOps = {
      {"COUNT", "count"},      {"COUNT_DISTINCT", "dcount"},
      {"MAX", "max"},          {"MIN", "min"},
      {"SUM", "sum"},          {"AVG", "avg"},
      {"MEDIAN", "median"},    {"P001", "p001"},
      {"P01", "p01"},          {"P05", "p05"},
      {"P10", "p10"},          {"P25", "p25"},
      {"P75", "p75"},          {"P90", "p90"},
      {"P95", "p95"},          {"P99", "p99"},
      {"P999", "p999"},        {"STDDEV", "stdev"},
      {"VARIANCE", "variance"}};
  return kOps;
}

std::vector<std::string> CalculationNames() {
  std::vector<std::string> names;
  for (const auto& [op, fn] : CalculationOperators()) names.push_back(op);
  return names;
}

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("_.@$%&'()").find(c) != std::string_view::npos;
}

// `OP(KEY) [as ALIAS]` or `COUNT [as ALIAS]`.
std::optional<Calculation> ParseCalculation(YamlFile* file, const YAML::Node& node) {
  const std::string text = Trim(node.Scalar());
  std::string body = text;
  std::string alias;
  // ` as ALIAS` at the end (any case).
  const std::string upper = Upper(text);
  const size_t as = upper.rfind(" AS ");
  if (as != std::string::npos && upper.find(')', as) == std::string::npos) {
    body = Trim(text.substr(0, as));
    alias = Trim(text.substr(as + 4));
    if (alias.empty()) {
      file->Error(node, fmt::format("calculation '{}' has 'as' without a name", text));
      return std::nullopt;
    }
  }
  std::string op = body;
  std::string key;
  const size_t open = body.find('(');
  if (open != std::string::npos) {
    if (body.back() != ')') {
      file->Error(node, fmt::format("calculation '{}' is not OP(FIELD)", text),
                  {"write a calculation as OP(FIELD) [as NAME] or COUNT [as NAME]"});
      return std::nullopt;
    }
    op = Trim(body.substr(0, open));
    key = Trim(body.substr(open + 1, body.size() - open - 2));
  }
  const std::string op_upper = Upper(op);
  const auto& ops = CalculationOperators();
  auto it =
      std::find_if(ops.begin(), ops.end(), [&](const auto& p) { return p.first == op_upper; });
  if (it == ops.end()) {
    std::vector<std::string> hints = DidYouMean(op_upper, CalculationNames());
    hints.push_back(fmt::format("the calculations are {}", QuotedList(CalculationNames())));
    file->Error(node, fmt::format("unknown calculation '{}'", op), std::move(hints));
    return std::nullopt;
  }
  if (!key.empty() && !std::all_of(key.begin(), key.end(), IsKeyChar)) {
    file->Error(node, fmt::format("'{}' is not a field name", key));
    return std::nullopt;
  }
  Calculation c;
  c.name = alias.empty() ? text : alias;
  if (key.empty()) {
    if (it->first != "COUNT") {
      file->Error(node, fmt::format("{} needs a field: {}(FIELD)", it->first, it->first));
      return std::nullopt;
    }
    c.tql = "count()";
  } else {
    c.tql = fmt::format("{}({})", it->second, FieldName(key));
  }
  return c;
}

// `KEY OP VALUE` as a TQL predicate.
std::optional<std::string> TranslateFilter(YamlFile* file, const YAML::Node& node) {
  const std::string text = Trim(node.Scalar());
  size_t k = 0;
  while (k < text.size() && IsKeyChar(text[k])) ++k;
  const std::string key = text.substr(0, k);
  if (key.empty()) {
    file->Error(node, fmt::format("filter '{}' does not start with a field name", text),
                {"write a filter as \"FIELD OP VALUE\", e.g. \"@duration > 500\""});
    return std::nullopt;
  }
  size_t p = k;
  while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p]))) ++p;
  if (p < text.size() && text[p] == ':') ++p;  // early files: `:=`, `:>`
  std::string op;
  static const char* kSymbols[] = {">=", "<=", "!=", "=", ">", "<"};
  for (const char* s : kSymbols) {
    if (text.compare(p, std::char_traits<char>::length(s), s) == 0) {
      op = s;
      break;
    }
  }
  if (op.empty()) {
    size_t e = p;
    while (e < text.size() && (std::isalpha(static_cast<unsigned char>(text[e])) || text[e] == '_'))
      ++e;
    op = text.substr(p, e - p);
  } else if (p + op.size() < text.size() &&
             std::string_view("=<>!").find(text[p + op.size()]) != std::string_view::npos) {
    // `==`, `<>`, `=>`: not an operator followed by a value that starts with a symbol.
    size_t e = p;
    while (e < text.size() && std::string_view("=<>!").find(text[e]) != std::string_view::npos) ++e;
    op = text.substr(p, e - p);
  }
  const std::string rest = Trim(std::string_view(text).substr(p + op.size()));
  const std::string name = FieldName(key);
  static const std::vector<std::string> kWords = {"LIKE",        "NOT_LIKE",
                                                  "INCLUDES",    "DOES_NOT_INCLUDE",
                                                  "STARTS_WITH", "MATCH_REGEX",
                                                  "IN",          "NOT_IN",
                                                  "EXISTS",      "DOES_NOT_EXIST",
                                                  "=",           "!=",
                                                  ">",           ">=",
                                                  "<",           "<="};
  if (std::find(kWords.begin(), kWords.end(), op) == kWords.end()) {
    std::vector<std::string> hints = DidYouMean(Upper(op), kWords);
    hints.push_back(fmt::format("the operators are {}", QuotedList(kWords)));
    file->Error(node,
                op.empty() ? fmt::format("filter '{}' has no operator", text)
                           : fmt::format("unknown filter operator '{}'", op),
                std::move(hints));
    return std::nullopt;
  }
  if (op == "EXISTS" || op == "DOES_NOT_EXIST") {
    if (!rest.empty()) {
      file->Error(node, fmt::format("{} takes no value, found '{}'", op, rest));
      return std::nullopt;
    }
    return fmt::format("{}({})", op == "EXISTS" ? "isnotnull" : "isnull", name);
  }
  if (rest.empty()) {
    file->Error(node, fmt::format("filter '{}' has no value after '{}'", text, op));
    return std::nullopt;
  }
  if (op == "IN" || op == "NOT_IN") {
    if (rest.size() < 2 || !((rest.front() == '(' && rest.back() == ')') ||
                             (rest.front() == '[' && rest.back() == ']'))) {
      file->Error(node, fmt::format("{} takes a list: (a, b, c)", op));
      return std::nullopt;
    }
    // Items split at commas outside quotes: ('a,b', c) has two.
    std::vector<std::string> items;
    const std::string inner = rest.substr(1, rest.size() - 2);
    std::string item;
    char quote = 0;
    for (size_t i = 0; i <= inner.size(); ++i) {
      const char c = i < inner.size() ? inner[i] : ',';
      if (quote != 0) {
        if (c == quote) quote = 0;
        item += c;
        continue;
      }
      if (i < inner.size() && (c == '\'' || c == '"')) {
        quote = c;
        item += c;
        continue;
      }
      if (c != ',') {
        item += c;
        continue;
      }
      if (Trim(item).empty()) {
        file->Error(node, fmt::format("an empty item in the list of {}", op));
        return std::nullopt;
      }
      items.push_back(TypedValue(item));
      item.clear();
    }
    if (quote != 0) {
      file->Error(node, fmt::format("an unterminated quote in the list of {}", op));
      return std::nullopt;
    }
    std::string list;
    for (size_t i = 0; i < items.size(); ++i) list += (i > 0 ? ", " : "") + items[i];
    return fmt::format("{} {} ({})", name, op == "IN" ? "in" : "!in", list);
  }
  if (op == "INCLUDES" || op == "DOES_NOT_INCLUDE") {
    return fmt::format("{} {} {}", name, op == "INCLUDES" ? "contains" : "!contains",
                       StringLiteral(Unquote(rest)));
  }
  if (op == "STARTS_WITH")
    return fmt::format("{} startswith {}", name, StringLiteral(Unquote(rest)));
  if (op == "LIKE" || op == "NOT_LIKE" || op == "MATCH_REGEX") {
    const std::string pattern = op == "MATCH_REGEX" ? Unquote(rest) : LikeToRegex(Unquote(rest));
    RE2 re(pattern, RE2::Quiet);
    if (!re.ok()) {
      file->Error(node,
                  fmt::format("invalid regular expression '{}': {}", Unquote(rest), re.error()));
      return std::nullopt;
    }
    return fmt::format("{} {} {}", name, op == "NOT_LIKE" ? "!~" : "=~", StringLiteral(pattern));
  }
  return fmt::format("{} {} {}", name, op == "=" ? "==" : op, TypedValue(rest));
}

// Finds the calculation `value` names (its alias or its text; spacing and case of the
// operator aside).
const Calculation* FindCalculation(const std::vector<Calculation>& calcs,
                                   const std::string& value) {
  auto normal = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    }
    return Upper(out);
  };
  for (const Calculation& c : calcs) {
    if (c.name == value) return &c;
  }
  for (const Calculation& c : calcs) {
    if (normal(c.name) == normal(value)) return &c;
  }
  return nullptr;
}

std::vector<std::string> CalculationColumns(const std::vector<Calculation>& calcs) {
  std::vector<std::string> names;
  for (const Calculation& c : calcs) names.push_back(c.name);
  return names;
}

// `order: ASC|DESC`; true for descending.
bool ReadOrder(YamlFile* file, MapReader* r, const std::string& key) {
  const MapEntry* e = r->Scalar(key, false);
  if (e == nullptr) return true;
  const std::string v = Upper(Trim(e->value.Scalar()));
  if (v == "DESC") return true;
  if (v == "ASC") return false;
  file->Error(e->value, fmt::format("'{}' is ASC or DESC, not '{}'", key, e->value.Scalar()));
  return true;
}

std::optional<int64_t> ReadLimit(YamlFile* file, const MapEntry* e) {
  const std::string v = Trim(e->value.Scalar());
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n <= 0) {
    file->Error(e->value, fmt::format("'limit' is a positive number, not '{}'", v));
    return std::nullopt;
  }
  return n;
}

// Translates one query's `parameters` to TQL (an error leaves `q->tql` empty).
void TranslateQuery(YamlFile* file, const YAML::Node& params, const YAML::Node& where,
                    const SchemaPtr& sample, BaselimeQuery* q) {
  if (!params.IsMap()) {
    file->Error(where, fmt::format("query '{}' has no parameters", q->id));
    return;
  }
  const size_t errors_before = file->diagnostics().size();
  MapReader r(
      file, params, "a query's parameters",
      {"dataset", "datasets", "namespaces", "namespaceCombination", "calculations", "filters",
       "filterCombination", "groupBy", "groupBys", "orderBy", "limit", "needle", "timeframe"});
  if (const MapEntry* t = r.Find("timeframe")) {
    file->Error(
        t->key, "'timeframe' is not translated: a query's time range comes from where it runs",
        {"remove it; 'tql alert eval' applies an alert's window, 'tql run' reads the whole input"});
  }

  // The source.
  std::vector<std::string> datasets;
  const MapEntry* one = r.Find("dataset");
  const MapEntry* many = r.Find("datasets");
  if (one != nullptr && many != nullptr) {
    file->Error(one->key, "a query has 'dataset' or 'datasets', not both");
  } else if (one != nullptr) {
    if ((one = r.Scalar("dataset", true)) != nullptr) datasets.push_back(one->value.Scalar());
  } else if (many != nullptr) {
    if ((many = r.List("datasets", true)) != nullptr) {
      for (const YAML::Node& d : many->value) {
        if (d.IsScalar() && !Trim(d.Scalar()).empty()) {
          datasets.push_back(Trim(d.Scalar()));
        } else {
          file->Error(d, "a dataset is a name such as lambda-logs");
        }
      }
      if (datasets.empty()) file->Error(many->key, "'datasets' is empty");
    }
  } else {
    file->Error(r.Anchor(), "no 'datasets' in a query's parameters");
  }
  std::string tql;
  if (datasets.size() == 1) {
    tql = ColumnName(datasets[0]);
  } else if (datasets.size() > 1) {
    tql = "union ";
    for (size_t i = 0; i < datasets.size(); ++i)
      tql += (i > 0 ? ", " : "") + ColumnName(datasets[i]);
  }

  // Filters, namespaces and the needle.
  std::vector<std::string> predicates;
  bool any_or = false;
  if (const MapEntry* fs = r.List("filters", false)) {
    for (const YAML::Node& f : fs->value) {
      if (!f.IsScalar()) {
        file->Error(f, "a filter is written as \"FIELD OP VALUE\"");
        continue;
      }
      if (auto p = TranslateFilter(file, f)) predicates.push_back(*p);
    }
  }
  if (const MapEntry* c = r.Scalar("filterCombination", false)) {
    const std::string v = Upper(Trim(c->value.Scalar()));
    if (v == "OR") {
      any_or = true;
    } else if (v != "AND") {
      file->Error(c->value,
                  fmt::format("'filterCombination' is AND or OR, not '{}'", c->value.Scalar()));
    }
  }
  std::string where_text;
  if (!predicates.empty()) {
    std::string joined;
    for (size_t i = 0; i < predicates.size(); ++i) {
      joined += (i > 0 ? (any_or ? " or " : " and ") : "") + predicates[i];
    }
    where_text = any_or && predicates.size() > 1 ? "(" + joined + ")" : joined;
  }
  if (const MapEntry* ns = r.List("namespaces", false)) {
    std::vector<std::string> names;
    for (const YAML::Node& n : ns->value) {
      if (n.IsScalar()) {
        names.push_back(n.Scalar());
      } else {
        file->Error(n, "a namespace is a name");
      }
    }
    std::string kind = "INCLUDE";
    if (const MapEntry* c = r.Scalar("namespaceCombination", false)) {
      kind = Upper(Trim(c->value.Scalar()));
      if (kind != "INCLUDE" && kind != "EXCLUDE" && kind != "STARTS_WITH") {
        file->Error(c->value, fmt::format("'namespaceCombination' is INCLUDE, EXCLUDE or "
                                          "STARTS_WITH, not '{}'",
                                          c->value.Scalar()));
      }
    }
    if (!names.empty()) {
      const std::string column = FieldName("$baselime.namespace");
      std::string p;
      if (kind == "STARTS_WITH") {
        for (size_t i = 0; i < names.size(); ++i) {
          p += fmt::format("{}{} startswith {}", i > 0 ? " or " : "", column,
                           StringLiteral(names[i]));
        }
        if (names.size() > 1) p = "(" + p + ")";
      } else {
        std::string list;
        for (size_t i = 0; i < names.size(); ++i)
          list += (i > 0 ? ", " : "") + StringLiteral(names[i]);
        p = fmt::format("{} {} ({})", column, kind == "EXCLUDE" ? "!in" : "in", list);
      }
      where_text = where_text.empty() ? p : where_text + " and " + p;
    }
  } else if (const MapEntry* c = r.Find("namespaceCombination")) {
    file->Error(c->key, "'namespaceCombination' without 'namespaces'");
  }
  if (!where_text.empty()) tql += "\n| where " + where_text;
  if (const MapEntry* n = r.Find("needle")) {
    std::string value;
    bool regex = false, match_case = false;
    if (n->value.IsScalar()) {
      value = n->value.Scalar();
    } else if (n->value.IsMap()) {
      MapReader nr(file, n->value, "a needle", {"value", "isRegex", "matchCase"});
      if (const MapEntry* v = nr.Scalar("value", true)) value = v->value.Scalar();
      regex = nr.Bool("isRegex", false);
      match_case = nr.Bool("matchCase", false);
    } else {
      file->Error(n->key, "'needle' is a mapping with 'value', 'isRegex' and 'matchCase'");
    }
    if (!value.empty()) {
      if (regex) {
        const std::string pattern = match_case ? value : "(?i)" + value;
        RE2 re(pattern, RE2::Quiet);
        if (!re.ok()) {
          file->Error(n->value,
                      fmt::format("invalid regular expression '{}': {}", value, re.error()));
        }
        // TQL's search ignores case unless matchcase is given.
        tql += fmt::format("\n| search {}regex {}", match_case ? "matchcase " : "",
                           StringLiteral(pattern));
      } else {
        tql += fmt::format("\n| search {}{}", match_case ? "matchcase " : "", StringLiteral(value));
      }
    } else if (n->value.IsScalar()) {
      file->Error(n->key, "the needle is empty");
    }
  }

  // Calculations, grouping, order and limit.
  std::vector<Calculation> calcs;
  std::set<std::string> names;
  if (const MapEntry* cs = r.List("calculations", false)) {
    for (const YAML::Node& c : cs->value) {
      if (!c.IsScalar()) {
        file->Error(c, "a calculation is written as OP(FIELD) [as NAME]");
        continue;
      }
      if (auto calc = ParseCalculation(file, c)) {
        if (!names.insert(calc->name).second) {
          file->Error(c, fmt::format("two calculations are named '{}'", calc->name),
                      {"give one of them another name with 'as NAME'"});
          continue;
        }
        calcs.push_back(*calc);
      }
    }
  }
  std::vector<std::string> keys;
  struct OrderSpec {
    std::string column;
    bool descending = true;
  };
  std::optional<OrderSpec> order;
  std::optional<int64_t> limit;
  auto read_group_key = [&](const YAML::Node& g, MapReader* gr) {
    if (const MapEntry* t = gr->Scalar("type", false)) {
      const std::string v = t->value.Scalar();
      if (v != "string" && v != "number" && v != "boolean") {
        file->Error(t->value,
                    fmt::format("a group's type is string, number or boolean, not '{}'", v));
      }
    }
    if (const MapEntry* v = gr->Scalar("value", true)) {
      const std::string key = Trim(v->value.Scalar());
      if (key.empty() || !std::all_of(key.begin(), key.end(), IsKeyChar)) {
        file->Error(v->value, fmt::format("'{}' is not a field name", key));
      } else if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
        file->Error(v->value, fmt::format("the query is grouped by '{}' twice", key));
      } else {
        keys.push_back(key);
      }
    }
    (void)g;
  };
  const MapEntry* nested = r.Find("groupBy");
  const MapEntry* groups = r.Find("groupBys");
  if (nested != nullptr && groups != nullptr) {
    file->Error(nested->key, "a query has 'groupBy' or 'groupBys', not both");
  } else if (groups != nullptr) {
    if ((groups = r.List("groupBys", true)) != nullptr) {
      for (const YAML::Node& g : groups->value) {
        if (!g.IsMap()) {
          file->Error(g, "a group is a mapping with 'type' and 'value'");
          continue;
        }
        MapReader gr(file, g, "a group", {"type", "value"});
        read_group_key(g, &gr);
      }
    }
  } else if (nested != nullptr) {
    if ((nested = r.Map("groupBy", true)) != nullptr) {
      MapReader gr(file, nested->value, "a groupBy",
                   {"type", "value", "limit", "orderBy", "order"});
      read_group_key(nested->value, &gr);
      // The older nested form: the top 10 groups by the first calculation, descending.
      limit = 10;
      if (const MapEntry* l = gr.Scalar("limit", false)) limit = ReadLimit(file, l);
      OrderSpec o;
      o.descending = ReadOrder(file, &gr, "order");
      if (const MapEntry* ob = gr.Scalar("orderBy", false)) {
        if (const Calculation* c = FindCalculation(calcs, Trim(ob->value.Scalar()))) {
          o.column = c->name;
        } else {
          std::vector<std::string> hints =
              DidYouMean(ob->value.Scalar(), CalculationColumns(calcs));
          hints.push_back("orderBy names one of the query's calculations");
          file->Error(
              ob->value,
              fmt::format("orderBy '{}' is not a calculation of this query", ob->value.Scalar()),
              std::move(hints));
        }
      } else if (!calcs.empty()) {
        o.column = calcs[0].name;
      }
      if (!o.column.empty()) order = o;
    }
  }
  if (const MapEntry* ob = r.Map("orderBy", false)) {
    MapReader orr(file, ob->value, "an orderBy", {"value", "order"});
    OrderSpec o;
    o.descending = ReadOrder(file, &orr, "order");
    if (const MapEntry* v = orr.Scalar("value", true)) {
      if (const Calculation* c = FindCalculation(calcs, Trim(v->value.Scalar()))) {
        o.column = c->name;
        order = o;
      } else {
        std::vector<std::string> hints = DidYouMean(v->value.Scalar(), CalculationColumns(calcs));
        hints.push_back(calcs.empty() ? "this query has no calculations to order by"
                                      : "orderBy names one of the query's calculations");
        file->Error(
            v->value,
            fmt::format("orderBy '{}' is not a calculation of this query", v->value.Scalar()),
            std::move(hints));
      }
    }
  }
  if (const MapEntry* l = r.Scalar("limit", false)) limit = ReadLimit(file, l);

  if (calcs.empty() && !keys.empty()) {
    file->Error(groups != nullptr ? groups->key : nested->key,
                "a grouped query needs at least one calculation",
                {"add one, e.g. calculations: [COUNT]"});
  }
  if (!calcs.empty()) {
    std::string items;
    for (size_t i = 0; i < calcs.size(); ++i) {
      items += fmt::format("{}{} = {}", i > 0 ? ", " : "", ColumnName(calcs[i].name), calcs[i].tql);
    }
    tql += "\n| summarize " + items;
    if (!keys.empty()) {
      tql += " by ";
      for (size_t i = 0; i < keys.size(); ++i) tql += (i > 0 ? ", " : "") + FieldName(keys[i]);
    }
    for (const std::string& k : keys) q->columns.push_back(k);
    for (const Calculation& c : calcs) q->columns.push_back(c.name);
    q->first_calculation = calcs[0].name;
  }
  if (order && limit) {
    tql += fmt::format("\n| top {} by {}{}", *limit, ColumnName(order->column),
                       order->descending ? " desc" : " asc");
  } else if (order) {
    tql += fmt::format("\n| sort by {}{}", ColumnName(order->column),
                       order->descending ? " desc" : " asc");
  } else if (limit) {
    tql += fmt::format("\n| take {}", *limit);
  }
  // Something could not be translated: no query rather than a different one.
  for (size_t i = errors_before; i < file->diagnostics().size(); ++i) {
    if (file->diagnostics()[i].severity == Severity::kError) return;
  }
  if (tql.empty()) return;
  // The translation must itself check; its canonical text is what import prints.
  QueryCheck check = CheckQueryText(tql, sample);
  if (!check.ok()) {
    for (const Diagnostic& d : check.diagnostics) {
      if (d.severity != Severity::kError) continue;
      file->Error(
          where,
          fmt::format("query '{}' translates to TQL that does not check: {}", q->id, d.message),
          {fmt::format("the translation: {}", tql)});
      break;
    }
    return;
  }
  ParseResult parsed = ParseQuery(tql);
  q->tql = parsed.query ? ast::FormatQuery(*parsed.query) : tql;
  q->result = check.columns;
}

struct Threshold {
  std::string op;
  std::string value;
};

std::optional<Threshold> ParseThreshold(YamlFile* file, const YAML::Node& node) {
  std::string v = Trim(node.Scalar());
  if (!v.empty() && v[0] == ':') v = Trim(v.substr(1));
  Threshold t;
  static const char* kOps[] = {">=", "<=", "!=", "=", ">", "<"};
  for (const char* op : kOps) {
    if (v.starts_with(op)) {
      t.op = op;
      break;
    }
  }
  const std::string number = Trim(v.substr(t.op.size()));
  int64_t n = 0;
  auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (t.op.empty() || ec != std::errc() || p != number.data() + number.size()) {
    file->Error(node, fmt::format("threshold '{}' is not OP NUMBER", node.Scalar()),
                {"write a threshold such as \"> 15000\"; OP is one of = != > >= < <="});
    return std::nullopt;
  }
  if (t.op == "=") t.op = "==";
  t.value = number;
  return t;
}

// A query reference: `!ref ID` or a plain id.
std::string QueryRef(const YAML::Node& node) {
  return Trim(node.Scalar());
}

class ProjectReader {
 public:
  ProjectReader(BaselimeProject* project, const SchemaPtr& sample)
      : project_(project), sample_(sample) {}

  // The single-file layout: maps keyed by id under `queries`, `alerts`, `channels`.
  void ReadSingleFile(YamlFile* file) {
    const YAML::Node& root = file->root();
    MapReader top(file, root, "a .baselime.yml file",
                  {"version", "application", "service", "description", "provider", "queries",
                   "alerts", "channels", "dashboards", "variables", "templates"});
    if (const MapEntry* s = top.Scalar("service", false)) project_->service = s->value.Scalar();
    if (const MapEntry* s = top.Scalar("application", false)) project_->service = s->value.Scalar();
    if (const MapEntry* d = top.Scalar("description", false)) {
      project_->description = d->value.Scalar();
    }
    if (const MapEntry* cs = top.Map("channels", false)) {
      for (const MapEntry& e : Entries(cs->value)) ReadChannel(file, e.key, e.value);
    }
    if (const MapEntry* qs = top.Map("queries", false)) {
      for (const MapEntry& e : Entries(qs->value)) ReadQuery(file, e.key, e.value, false);
    }
    if (const MapEntry* as = top.Map("alerts", false)) {
      for (const MapEntry& e : Entries(as->value)) pending_alerts_.push_back({file, e, false});
    }
    if (const MapEntry* ds = top.Map("dashboards", false)) {
      for (const MapEntry& e : Entries(ds->value)) pending_dashboards_.push_back({file, e, false});
    }
  }

  // The folder layout's resource files: `ID: {type, properties}`.
  void ReadResourceFile(YamlFile* file) {
    const YAML::Node& root = file->root();
    if (IsNullValue(root)) return;  // an empty file
    if (!root.IsMap()) {
      file->Error(SourceRange{0, 1}, "a resource file maps ids to resources");
      return;
    }
    for (const MapEntry& e : Entries(root)) {
      // Ids are unique across every resource of the folder, whatever its type.
      if (!e.key.IsScalar() || !resource_ids_.Add(file, e.key.Scalar(), e.key)) continue;
      if (!e.value.IsMap()) {
        file->Error(e.key, fmt::format("resource '{}' is not a mapping with 'type' and "
                                       "'properties'",
                                       e.key.Scalar()));
        continue;
      }
      MapReader r(file, e.value, "a resource", {"type", "properties"});
      const MapEntry* type = r.Scalar("type", true);
      const MapEntry* props = r.Map("properties", true);
      if (type == nullptr || props == nullptr) continue;
      const std::string t = type->value.Scalar();
      if (t == "query") {
        ReadQuery(file, e.key, props->value, true);
      } else if (t == "alert") {
        pending_alerts_.push_back({file, {e.key, props->value}, true});
      } else if (t == "dashboard") {
        pending_dashboards_.push_back({file, {e.key, props->value}, true});
      } else if (t == "channel") {
        ReadChannel(file, e.key, props->value);
      } else {
        CheckOneOf(file, type->value, t, {"query", "alert", "dashboard", "channel"},
                   "resource type");
      }
    }
  }

  // Alerts and dashboards name queries and channels: read them once every file is in.
  void Finish() {
    for (const Pending& p : pending_alerts_) ReadAlert(p.file, p.entry.key, p.entry.value);
    for (const Pending& p : pending_dashboards_) ReadDashboard(p.file, p.entry.key, p.entry.value);
  }

 private:
  struct Pending {
    YamlFile* file;
    MapEntry entry;
    bool resource;
  };

  void ReadQuery(YamlFile* file, const YAML::Node& key, const YAML::Node& value, bool resource) {
    BaselimeQuery q;
    q.id = key.Scalar();
    q.file = file;
    q.id_node = key;
    if (!query_ids_.Add(file, q.id, key)) return;
    if (!value.IsMap()) {
      file->Error(key, fmt::format("query '{}' is not a mapping with 'parameters'", q.id));
      return;
    }
    MapReader r(file, value, resource ? "a query's properties" : "a query",
                {"name", "description", "parameters"});
    if (const MapEntry* n = r.Scalar("name", false)) q.name = n->value.Scalar();
    if (const MapEntry* d = r.Scalar("description", false)) q.description = Trim(d->value.Scalar());
    if (const MapEntry* p = r.Map("parameters", true)) {
      TranslateQuery(file, p->value, key, sample_, &q);
    }
    project_->queries.push_back(std::move(q));
  }

  // A channel id, or an inline {type, targets}.
  void ReadChannel(YamlFile* file, const YAML::Node& key, const YAML::Node& value) {
    BaselimeChannel c;
    c.id = key.Scalar();
    if (!channel_ids_.Add(file, c.id, key)) return;
    if (!ReadChannelBody(file, key, value, &c)) return;
    project_->channels.push_back(std::move(c));
  }

  bool ReadChannelBody(YamlFile* file, const YAML::Node& where, const YAML::Node& value,
                       BaselimeChannel* c) {
    if (!value.IsMap()) {
      file->Error(where, "a channel is a mapping with 'type' and 'targets'");
      return false;
    }
    MapReader r(file, value, "a channel", {"type", "targets", "name"});
    bool ok = true;
    if (const MapEntry* t = r.Scalar("type", true)) {
      c->type = t->value.Scalar();
      ok = CheckOneOf(file, t->value, c->type, kChannelTypes, "channel type");
    } else {
      ok = false;
    }
    if (const MapEntry* ts = r.List("targets", true)) {
      for (const YAML::Node& t : ts->value) {
        if (t.IsScalar()) {
          c->targets.push_back(t.Scalar());
        } else {
          file->Error(t, "a target is an address, a channel name or a URL");
          ok = false;
        }
      }
      if (c->targets.empty()) {
        file->Error(ts->key, "a channel needs at least one target");
        ok = false;
      }
    } else {
      ok = false;
    }
    return ok;
  }

  void ReadAlert(YamlFile* file, const YAML::Node& key, const YAML::Node& value) {
    BaselimeAlert a;
    a.id = key.Scalar();
    if (!alert_ids_.Add(file, a.id, key)) return;
    if (!value.IsMap()) {
      file->Error(key, fmt::format("alert '{}' is not a mapping with 'parameters'", a.id));
      return;
    }
    MapReader r(file, value, "an alert",
                {"name", "description", "parameters", "enabled", "channels"});
    if (const MapEntry* n = r.Scalar("name", false)) a.name = n->value.Scalar();
    if (const MapEntry* d = r.Scalar("description", false)) a.description = Trim(d->value.Scalar());
    a.enabled = r.Bool("enabled", true);
    bool ok = true;
    if (const MapEntry* p = r.Map("parameters", true)) {
      MapReader pr(file, p->value, "an alert's parameters",
                   {"query", "threshold", "frequency", "window", "duration"});
      const BaselimeQuery* query = nullptr;
      if (const MapEntry* q = pr.Scalar("query", true)) {
        a.query_id = QueryRef(q->value);
        query = project_->FindQuery(a.query_id);
        if (a.query_id.empty()) {
          file->Error(q->value, "'query' names no query: write !ref QUERY_ID");
          ok = false;
        } else if (query == nullptr) {
          file->Error(
              q->value,
              fmt::format("alert '{}' names query '{}', which does not exist", a.id, a.query_id),
              DidYouMean(a.query_id, query_ids_.ids()));
          ok = false;
        }
      } else {
        ok = false;
      }
      if (const MapEntry* t = pr.Scalar("threshold", true)) {
        if (auto th = ParseThreshold(file, t->value)) {
          if (query != nullptr && query->first_calculation.empty() && !query->tql.empty()) {
            file->Error(t->value,
                        fmt::format("query '{}' has no calculation for the threshold "
                                    "to compare",
                                    a.query_id),
                        {"an alert compares its threshold with the query's first calculation"});
            ok = false;
          } else if (query != nullptr) {
            a.condition =
                fmt::format("{} {} {}", ColumnName(query->first_calculation), th->op, th->value);
            // A threshold is a number; a calculation over a duration column is a duration,
            // and no unit can be assumed for the number.
            for (const Field& f : query->result) {
              if (f.name != query->first_calculation || f.type != TypeId::kDuration) continue;
              file->Error(t->value,
                          fmt::format("the threshold compares '{}', a duration, with the number {}",
                                      f.name, th->value),
                          {"a Baselime threshold has no unit: write the alert in the manifest with "
                           "a duration such as 1s"});
              ok = false;
            }
          }
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
      if (const MapEntry* f = pr.Scalar("frequency", true)) {
        ok = ReadFrequency(file, f->value, &a.every) && ok;
      } else {
        ok = false;
      }
      const MapEntry* w = pr.Find("window");
      const MapEntry* d = pr.Find("duration");
      if (w != nullptr && d != nullptr) {
        file->Error(d->key, "an alert has 'window' or 'duration', not both");
        ok = false;
      } else if (w == nullptr && d == nullptr) {
        file->Error(pr.Anchor(), "no 'window' (or 'duration') in an alert's parameters");
        ok = false;
      } else {
        const MapEntry* e = pr.Scalar(w != nullptr ? "window" : "duration", true);
        auto ns = e != nullptr ? BaselimeDuration(e->value) : std::nullopt;
        if (e != nullptr && (!ns || *ns < kNanosPerMinute)) {
          file->Error(e->value,
                      fmt::format("'{}' is not a window of at least a minute", e->value.Scalar()),
                      {"write minutes (30) or a duration such as '30 mins' or 1h"});
        }
        if (ns && *ns >= kNanosPerMinute) {
          a.window = DurationLiteral(*ns);
        } else {
          ok = false;
        }
      }
    } else {
      ok = false;
    }
    if (const MapEntry* cs = r.List("channels", false)) {
      for (const YAML::Node& c : cs->value) {
        if (c.IsScalar()) {
          if (!channel_ids_.Has(c.Scalar())) {
            file->Error(c, fmt::format("no channel '{}'", c.Scalar()),
                        DidYouMean(c.Scalar(), channel_ids_.ids()));
            ok = false;
          }
          a.channels.push_back(c.Scalar());
          continue;
        }
        BaselimeChannel inline_channel;
        if (!ReadChannelBody(file, c, c, &inline_channel)) {
          ok = false;
          continue;
        }
        // An inline channel gets an id of its own, shared with an identical one.
        auto same = std::find_if(
            project_->channels.begin(), project_->channels.end(), [&](const BaselimeChannel& o) {
              return o.type == inline_channel.type && o.targets == inline_channel.targets;
            });
        if (same != project_->channels.end()) {
          if (std::find(a.channels.begin(), a.channels.end(), same->id) == a.channels.end()) {
            a.channels.push_back(same->id);
          }
          continue;
        }
        std::string id = fmt::format("{}-{}", a.id, inline_channel.type);
        for (int n = 2; channel_ids_.Has(id); ++n) {
          id = fmt::format("{}-{}-{}", a.id, inline_channel.type, n);
        }
        channel_ids_.Add(file, id, c);
        inline_channel.id = id;
        a.channels.push_back(id);
        project_->channels.push_back(std::move(inline_channel));
      }
    }
    if (ok) project_->alerts.push_back(std::move(a));
  }

  bool ReadFrequency(YamlFile* file, const YAML::Node& node, std::string* every) {
    std::string v = Trim(node.Scalar());
    if (v.starts_with("cron(") && v.ends_with(")")) v = Trim(v.substr(5, v.size() - 6));
    if (v.find(' ') != std::string::npos && !ParseManifestDuration(v)) {
      const std::string problem = CheckCron(v);
      if (!problem.empty()) {
        file->Error(node, fmt::format("invalid cron expression '{}'", v), {problem});
        return false;
      }
      *every = v;
      return true;
    }
    auto ns = BaselimeDuration(node);
    if (!ns || *ns < kNanosPerMinute) {
      file->Error(node,
                  fmt::format("frequency '{}' is not a duration of at least a minute or a "
                              "cron expression",
                              node.Scalar()),
                  {"write minutes (30), a duration ('5 mins', 1h) or a cron expression "
                   "('0/30 * * * ? *')"});
      return false;
    }
    *every = DurationLiteral(*ns);
    return true;
  }

  void ReadDashboard(YamlFile* file, const YAML::Node& key, const YAML::Node& value) {
    BaselimeDashboard d;
    d.id = key.Scalar();
    if (!dashboard_ids_.Add(file, d.id, key)) return;
    if (!value.IsMap()) {
      file->Error(key, fmt::format("dashboard '{}' is not a mapping with 'parameters'", d.id));
      return;
    }
    MapReader r(file, value, "a dashboard", {"name", "description", "parameters"});
    if (const MapEntry* n = r.Scalar("name", false)) d.title = n->value.Scalar();
    bool ok = true;
    if (const MapEntry* p = r.Map("parameters", true)) {
      MapReader pr(file, p->value, "a dashboard's parameters", {"widgets"});
      if (const MapEntry* ws = pr.List("widgets", true)) {
        for (const YAML::Node& w : ws->value) {
          if (!w.IsMap()) {
            file->Error(w, "a widget is a mapping with 'query', 'type' and 'name'");
            ok = false;
            continue;
          }
          MapReader wr(file, w, "a widget", {"query", "type", "name", "description"});
          BaselimePanel panel;
          if (const MapEntry* q = wr.Scalar("query", true)) {
            panel.query_id = QueryRef(q->value);
            if (project_->FindQuery(panel.query_id) == nullptr) {
              file->Error(
                  q->value,
                  fmt::format("widget names query '{}', which does not exist", panel.query_id),
                  DidYouMean(panel.query_id, query_ids_.ids()));
              ok = false;
            }
          } else {
            ok = false;
          }
          if (const MapEntry* t = wr.Scalar("type", false)) {
            panel.type = t->value.Scalar();
            ok = CheckOneOf(file, t->value, panel.type, kPanelTypes, "widget type") && ok;
          } else {
            panel.type = "table";
          }
          if (const MapEntry* n = wr.Scalar("name", false)) panel.title = n->value.Scalar();
          d.panels.push_back(std::move(panel));
        }
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (ok) project_->dashboards.push_back(std::move(d));
  }

  BaselimeProject* project_;
  SchemaPtr sample_;
  IdSet resource_ids_{"resource"};
  IdSet query_ids_{"query"};
  IdSet alert_ids_{"alert"};
  IdSet channel_ids_{"channel"};
  IdSet dashboard_ids_{"dashboard"};
  std::vector<Pending> pending_alerts_;
  std::vector<Pending> pending_dashboards_;
};

// `{{ name }}` replaced by the variable's value; unknown names reported.
YamlFile* AddSubstitutedFile(BaselimeProject* project, const std::string& path,
                             const std::string& source,
                             const std::map<std::string, std::string>& variables) {
  std::string text;
  std::vector<Substitution> subs;
  std::vector<Diagnostic> unknown;
  size_t i = 0;
  while (i < source.size()) {
    const size_t open = source.find("{{", i);
    if (open == std::string::npos) break;
    const size_t close = source.find("}}", open + 2);
    if (close == std::string::npos) break;
    const std::string name = Trim(std::string_view(source).substr(open + 2, close - open - 2));
    text += source.substr(i, open - i);
    auto it = variables.find(name);
    const uint32_t length = static_cast<uint32_t>(close + 2 - open);
    if (it == variables.end()) {
      std::vector<std::string> names;
      for (const auto& [n, v] : variables) names.push_back(n);
      std::vector<std::string> hints = DidYouMean(name, names);
      if (names.empty()) hints.push_back("variables are defined in index.yml under 'variables'");
      unknown.push_back(MakeDiagnostic(
          Severity::kError, {static_cast<uint32_t>(open), static_cast<uint32_t>(open) + length},
          fmt::format("unknown variable '{}'", name), hints));
      subs.push_back(
          {static_cast<uint32_t>(text.size()), length, static_cast<uint32_t>(open), length});
      text += source.substr(open, length);
    } else {
      subs.push_back({static_cast<uint32_t>(text.size()), static_cast<uint32_t>(it->second.size()),
                      static_cast<uint32_t>(open), length});
      text += it->second;
    }
    i = close + 2;
  }
  text += source.substr(std::min(i, source.size()));
  project->files.push_back(std::make_unique<YamlFile>(path, source, text, subs));
  YamlFile* file = project->files.back().get();
  for (Diagnostic& d : unknown) file->Add(std::move(d));
  return file;
}

bool IsYamlName(const fs::path& p) {
  return p.extension() == ".yml" || p.extension() == ".yaml";
}

// A file whose top-level values are resources (`type:` and `properties:`).
bool LooksLikeResourceFile(const YAML::Node& root) {
  if (!root.IsMap()) return false;
  for (const auto& kv : root) {
    if (kv.second.IsMap() && kv.second["type"] && kv.second["properties"]) return true;
  }
  return false;
}

void ReadFolder(BaselimeProject* project, ProjectReader* reader, const fs::path& folder) {
  std::map<std::string, std::string> variables;
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && IsYamlName(it->path())) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& name : {folder / "index.yml", folder / "index.yaml"}) {
    std::string text;
    if (!ReadTextFile(name.string(), &text)) continue;
    project->files.push_back(std::make_unique<YamlFile>(name.string(), text));
    YamlFile* index = project->files.back().get();
    if (!index->parsed()) break;
    if (!index->root().IsMap()) {
      index->Error(SourceRange{0, 1}, "index.yml is a mapping with 'version' and 'service'");
      break;
    }
    MapReader r(
        index, index->root(), "index.yml",
        {"version", "service", "application", "description", "provider", "templates", "variables"});
    if (const MapEntry* s = r.Scalar("service", false)) project->service = s->value.Scalar();
    if (const MapEntry* s = r.Scalar("application", false)) project->service = s->value.Scalar();
    if (const MapEntry* d = r.Scalar("description", false))
      project->description = d->value.Scalar();
    if (const MapEntry* vs = r.Map("variables", false)) {
      for (const MapEntry& v : Entries(vs->value)) {
        // A value, or per-environment values of which `default` is taken.
        if (v.value.IsScalar()) {
          variables[v.key.Scalar()] = v.value.Scalar();
        } else if (v.value.IsMap() && v.value["default"] && v.value["default"].IsScalar()) {
          variables[v.key.Scalar()] = v.value["default"].Scalar();
        } else {
          index->Error(v.key,
                       fmt::format("variable '{}' has no value (or 'default')", v.key.Scalar()));
        }
      }
    }
    break;
  }
  for (const fs::path& p : files) {
    const std::string base = p.filename().string();
    if (p.parent_path() == folder && (base == "index.yml" || base == "index.yaml")) continue;
    std::string text;
    if (!ReadTextFile(p.string(), &text)) continue;
    YamlFile* file = AddSubstitutedFile(project, p.string(), text, variables);
    if (file->parsed()) reader->ReadResourceFile(file);
  }
}

}  // namespace

bool BaselimeProject::HasErrors() const {
  return !path_errors.empty() ||
         std::any_of(files.begin(), files.end(), [](const auto& f) { return f->HasErrors(); });
}

std::string BaselimeProject::FormatProblems() const {
  std::string out;
  for (const std::string& e : path_errors) out += e + "\n";
  for (const auto& f : files) out += f->FormatProblems();
  return out;
}

const BaselimeQuery* BaselimeProject::FindQuery(const std::string& id) const {
  for (const BaselimeQuery& q : queries) {
    if (q.id == id) return &q;
  }
  return nullptr;
}

std::string BaselimeFolderOf(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  for (fs::path dir = p; !dir.empty(); dir = dir.parent_path()) {
    if (dir.filename() == ".baselime") return dir.string();
    if (dir == dir.parent_path()) break;
  }
  return "";
}

bool IsBaselimePath(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  if (name.ends_with(".baselime.yml") || name.ends_with(".baselime.yaml") || name == ".baselime") {
    return true;
  }
  return IsYamlName(path) && !BaselimeFolderOf(path).empty();
}

std::unique_ptr<BaselimeProject> LoadBaselime(const std::string& path, const SchemaPtr& sample) {
  auto project = std::make_unique<BaselimeProject>();
  ProjectReader reader(project.get(), sample);
  std::error_code ec;
  std::string folder = BaselimeFolderOf(path);
  if (folder.empty() && fs::is_directory(path, ec)) {
    if (fs::is_directory(fs::path(path) / ".baselime", ec)) {
      folder = (fs::path(path) / ".baselime").string();
    } else if (fs::exists(fs::path(path) / ".baselime.yml", ec)) {
      return LoadBaselime((fs::path(path) / ".baselime.yml").string(), sample);
    } else if (fs::exists(fs::path(path) / "index.yml", ec) ||
               fs::exists(fs::path(path) / "index.yaml", ec)) {
      folder = path;  // a .baselime folder by another name
    } else {
      project->path_errors.push_back(fmt::format(
          "{}: error: no Baselime files here: a .baselime/ folder, a .baselime.yml file or an "
          "index.yml",
          path));
      return project;
    }
  }
  if (!folder.empty()) {
    ReadFolder(project.get(), &reader, folder);
  } else {
    std::string text;
    if (!ReadTextFile(path, &text)) {
      project->path_errors.push_back(fmt::format("{}: error: cannot read the file", path));
      return project;
    }
    project->files.push_back(std::make_unique<YamlFile>(path, text));
    YamlFile* file = project->files.back().get();
    if (file->parsed()) {
      if (LooksLikeResourceFile(file->root())) {
        reader.ReadResourceFile(file);
      } else if (file->root().IsMap()) {
        reader.ReadSingleFile(file);
      } else if (!IsNullValue(file->root())) {
        file->Error(SourceRange{0, 1}, "a Baselime file is a mapping");
      }
    }
  }
  reader.Finish();
  return project;
}

std::string FormatManifest(const BaselimeProject& project, bool query_files) {
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  out << YAML::Key << "version" << YAML::Value << 1;
  out << YAML::Key << "queries" << YAML::Value << YAML::BeginSeq;
  for (const BaselimeQuery& q : project.queries) {
    if (q.tql.empty()) continue;
    out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << q.id;
    if (!q.name.empty()) out << YAML::Key << "name" << YAML::Value << q.name;
    if (!q.description.empty()) out << YAML::Key << "description" << YAML::Value << q.description;
    if (query_files) {
      out << YAML::Key << "file" << YAML::Value << q.id + ".tql";
    } else {
      out << YAML::Key << "query" << YAML::Value << YAML::Literal << q.tql;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (!project.alerts.empty()) {
    out << YAML::Key << "alerts" << YAML::Value << YAML::BeginSeq;
    for (const BaselimeAlert& a : project.alerts) {
      out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << a.id;
      if (!a.name.empty()) out << YAML::Key << "name" << YAML::Value << a.name;
      if (!a.description.empty()) out << YAML::Key << "description" << YAML::Value << a.description;
      out << YAML::Key << "query" << YAML::Value << a.query_id;
      out << YAML::Key << "condition" << YAML::Value << YAML::DoubleQuoted << a.condition;
      out << YAML::Key << "window" << YAML::Value << a.window;
      out << YAML::Key << "every" << YAML::Value;
      if (a.every.find(' ') != std::string::npos) out << YAML::DoubleQuoted;
      out << a.every;
      out << YAML::Key << "enabled" << YAML::Value << a.enabled;
      if (!a.channels.empty()) {
        out << YAML::Key << "notify" << YAML::Value << YAML::Flow << a.channels;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!project.channels.empty()) {
    out << YAML::Key << "channels" << YAML::Value << YAML::BeginSeq;
    for (const BaselimeChannel& c : project.channels) {
      out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << c.id;
      out << YAML::Key << "type" << YAML::Value << c.type;
      out << YAML::Key << "targets" << YAML::Value << YAML::Flow << c.targets;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!project.dashboards.empty()) {
    out << YAML::Key << "dashboards" << YAML::Value << YAML::BeginSeq;
    for (const BaselimeDashboard& d : project.dashboards) {
      out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << d.id;
      if (!d.title.empty()) out << YAML::Key << "title" << YAML::Value << d.title;
      out << YAML::Key << "panels" << YAML::Value << YAML::BeginSeq;
      for (const BaselimePanel& p : d.panels) {
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "query" << YAML::Value << p.query_id;
        out << YAML::Key << "type" << YAML::Value << p.type;
        if (!p.title.empty()) out << YAML::Key << "title" << YAML::Value << p.title;
        out << YAML::EndMap;
      }
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace tql
