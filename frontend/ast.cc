#include "frontend/ast.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string_view>

#include "runtime/time_format.h"

namespace tql::ast {

std::string Name::Joined() const {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '.';
    out += p;
  }
  return out;
}

const char* OpText(Op op) {
  switch (op) {
    case Op::kNone:
      return "";
    case Op::kNot:
      return "not";
    case Op::kNegate:
      return "-";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kMatches:
      return "=~";
    case Op::kNotMatches:
      return "!~";
    case Op::kContains:
      return "contains";
    case Op::kNotContains:
      return "!contains";
    case Op::kContainsCs:
      return "contains_cs";
    case Op::kNotContainsCs:
      return "!contains_cs";
    case Op::kHas:
      return "has";
    case Op::kNotHas:
      return "!has";
    case Op::kHasCs:
      return "has_cs";
    case Op::kNotHasCs:
      return "!has_cs";
    case Op::kStartsWith:
      return "startswith";
    case Op::kNotStartsWith:
      return "!startswith";
    case Op::kStartsWithCs:
      return "startswith_cs";
    case Op::kNotStartsWithCs:
      return "!startswith_cs";
    case Op::kEndsWith:
      return "endswith";
    case Op::kNotEndsWith:
      return "!endswith";
    case Op::kEndsWithCs:
      return "endswith_cs";
    case Op::kNotEndsWithCs:
      return "!endswith_cs";
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
  }
  return "";
}

ExprPtr MakeLiteral(SourceRange range, Literal literal) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kLiteral;
  e->range = range;
  e->literal = std::move(literal);
  return e;
}

ExprPtr Clone(const Expr& e) {
  auto c = std::make_unique<Expr>();
  c->kind = e.kind;
  c->range = e.range;
  c->op = e.op;
  c->negated = e.negated;
  c->literal = e.literal;
  c->name = e.name;
  c->height = e.height;
  c->type = e.type;
  c->column = e.column;
  c->path = e.path;
  c->implicit = e.implicit;
  c->member = e.member;
  for (const ExprPtr& a : e.args) c->args.push_back(Clone(*a));
  return c;
}

bool IsReservedWord(const std::string& word) {
  // The keywords that the grammar never accepts as a name (docs/language.md, "Names").
  static constexpr std::array<std::string_view, 20> kReserved = {
      "and",           "or",       "not",         "in",
      "between",       "true",     "false",       "null",
      "let",           "by",       "as",          "contains",
      "contains_cs",   "has",      "has_cs",      "startswith",
      "startswith_cs", "endswith", "endswith_cs", "union"};
  std::string lower;
  for (char c : word) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return std::find(kReserved.begin(), kReserved.end(), lower) != kReserved.end();
}

std::string FormatNamePart(const std::string& part) {
  bool plain = !part.empty() && !(part[0] >= '0' && part[0] <= '9');
  for (char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '@';
    plain = plain && ok;
  }
  if (plain && !IsReservedWord(part)) return part;
  return fmt::format("`{}`", part);
}

std::string FormatName(const Name& name) {
  std::string out;
  for (const std::string& p : name.parts) {
    if (!out.empty()) out += '.';
    out += FormatNamePart(p);
  }
  return out;
}

namespace {

void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\0':
        *out += "\\0";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          *out += fmt::format("\\u{:04x}", c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// The largest unit that divides the value exactly keeps the literal an integer: 1.5s → 1500ms.
std::string FormatDurationLiteral(int64_t nanos) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {{kNanosPerDay, "d"},
                                                               {kNanosPerHour, "h"},
                                                               {kNanosPerMinute, "m"},
                                                               {kNanosPerSecond, "s"},
                                                               {kNanosPerMilli, "ms"},
                                                               {kNanosPerMicro, "us"},
                                                               {1, "ns"}};
  if (nanos == 0) return "0s";
  for (const auto& [scale, unit] : kUnits) {
    if (nanos % scale == 0) return fmt::format("{}{}", nanos / scale, unit);
  }
  return fmt::format("{}ns", nanos);
}

}  // namespace

std::string FormatLiteral(const Literal& l) {
  switch (l.type) {
    case TypeId::kNull:
      return "null";
    case TypeId::kBool:
      return l.int_value ? "true" : "false";
    case TypeId::kInt:
      return fmt::format("{}", l.int_value);
    case TypeId::kFloat: {
      std::string s = fmt::format("{}", l.float_value);
      // Keep it a float literal when read back: `2` → `2.0`.
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
    case TypeId::kString:
    case TypeId::kDynamic: {
      std::string out;
      AppendQuoted(&out, l.string_value);
      return out;
    }
    case TypeId::kTimestamp:
      return fmt::format("datetime({})", FormatTimestamp(l.int_value));
    case TypeId::kDuration:
      return FormatDurationLiteral(l.int_value);
  }
  return "null";
}

namespace {

// Binding strength, lowest first, as in the grammar.
enum Precedence {
  kPrecOr = 1,
  kPrecAnd,
  kPrecNot,
  kPrecCompare,
  kPrecAdd,
  kPrecMul,
  kPrecUnary,
  kPrecPostfix,
};

bool IsComparison(Op op) {
  return op >= Op::kEq && op <= Op::kNotEndsWithCs;
}

int PrecedenceOf(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      // A negative number reads back as a negation.
      if ((e.literal.type == TypeId::kInt || e.literal.type == TypeId::kDuration) &&
          e.literal.int_value < 0) {
        return kPrecUnary;
      }
      if (e.literal.type == TypeId::kFloat && std::signbit(e.literal.float_value))
        return kPrecUnary;
      return kPrecPostfix;
    case ExprKind::kName:
    case ExprKind::kParameter:
    case ExprKind::kCall:
    case ExprKind::kIndex:
      return kPrecPostfix;
    case ExprKind::kUnary:
      return e.op == Op::kNot ? kPrecNot : kPrecUnary;
    case ExprKind::kIn:
    case ExprKind::kBetween:
      return kPrecCompare;
    case ExprKind::kBinary:
      if (e.op == Op::kOr) return kPrecOr;
      if (e.op == Op::kAnd) return kPrecAnd;
      if (IsComparison(e.op)) return kPrecCompare;
      if (e.op == Op::kAdd || e.op == Op::kSub) return kPrecAdd;
      return kPrecMul;
  }
  return kPrecPostfix;
}

void AppendExpr(std::string* out, const Expr& e, int min_precedence);

void AppendList(std::string* out, const std::vector<ExprPtr>& items, size_t from) {
  for (size_t i = from; i < items.size(); ++i) {
    if (i > from) *out += ", ";
    AppendExpr(out, *items[i], kPrecOr);
  }
}

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

void AppendExpr(std::string* out, const Expr& e, int min_precedence) {
  const int prec = PrecedenceOf(e);
  const bool parens = prec < min_precedence;
  if (parens) *out += '(';
  switch (e.kind) {
    case ExprKind::kLiteral:
      *out += FormatLiteral(e.literal);
      break;
    case ExprKind::kName:
      *out += FormatName(e.name);
      break;
    case ExprKind::kParameter:
      *out += "$" + e.name.parts[0];
      break;
    case ExprKind::kCall: {
      // Function names print as written but lower case; a part that is not identifier-shaped
      // (`\`1 in\``) keeps its backticks. Reserved words are fine here: `count()`.
      std::string name;
      for (const std::string& raw : e.name.parts) {
        const std::string part = LowerAscii(raw);
        const bool plain = !part.empty() &&
                           (std::isalpha(static_cast<unsigned char>(part[0])) || part[0] == '_') &&
                           std::all_of(part.begin(), part.end(), [](char c) {
                             return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                           });
        if (!name.empty()) name += '.';
        name += plain ? part : FormatNamePart(part);
      }
      std::string args;
      AppendList(&args, e.args, 0);
      // `datetime(` followed by a digit is a datetime literal to the lexer: a call of that name
      // whose arguments print starting with a digit gets them in parentheses.
      const bool wrap = name == "datetime" && !args.empty() &&
                        std::isdigit(static_cast<unsigned char>(args[0])) != 0;
      *out += name;
      *out += wrap ? "((" : "(";
      *out += args;
      *out += wrap ? "))" : ")";
      break;
    }
    case ExprKind::kIndex:
      AppendExpr(out, *e.args[0], kPrecPostfix);
      if (e.member) {
        *out += '.';
        *out += FormatNamePart(e.args[1]->literal.string_value);
      } else {
        *out += '[';
        AppendExpr(out, *e.args[1], kPrecOr);
        *out += ']';
      }
      break;
    case ExprKind::kUnary:
      if (e.op == Op::kNot) {
        *out += "not ";
        AppendExpr(out, *e.args[0], kPrecNot);
      } else {
        std::string operand;
        AppendExpr(&operand, *e.args[0], kPrecUnary);
        *out += operand.starts_with('-') ? "- " : "-";
        *out += operand;
      }
      break;
    case ExprKind::kIn:
      AppendExpr(out, *e.args[0], kPrecAdd);
      *out += e.negated ? " !in (" : " in (";
      AppendList(out, e.args, 1);
      *out += ')';
      break;
    case ExprKind::kBetween:
      AppendExpr(out, *e.args[0], kPrecAdd);
      *out += e.negated ? " !between (" : " between (";
      AppendExpr(out, *e.args[1], kPrecAdd);
      *out += " .. ";
      AppendExpr(out, *e.args[2], kPrecAdd);
      *out += ')';
      break;
    case ExprKind::kBinary: {
      if (e.op == Op::kAnd || e.op == Op::kOr) {
        for (size_t i = 0; i < e.args.size(); ++i) {
          if (i > 0) *out += fmt::format(" {} ", OpText(e.op));
          AppendExpr(out, *e.args[i], prec + 1);
        }
      } else if (IsComparison(e.op)) {
        AppendExpr(out, *e.args[0], kPrecAdd);
        *out += fmt::format(" {} ", OpText(e.op));
        AppendExpr(out, *e.args[1], kPrecAdd);
      } else {
        // Left-associative: the right operand binds tighter.
        AppendExpr(out, *e.args[0], prec);
        *out += fmt::format(" {} ", OpText(e.op));
        AppendExpr(out, *e.args[1], prec + 1);
      }
      break;
    }
  }
  if (parens) *out += ')';
}

void AppendNamed(std::string* out, const NamedExpr& item) {
  if (item.name) {
    *out += FormatName(*item.name);
    *out += " = ";
  }
  AppendExpr(out, *item.expr, kPrecOr);
}

void AppendNamedList(std::string* out, const std::vector<NamedExpr>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) *out += ", ";
    AppendNamed(out, items[i]);
  }
}

void AppendNames(std::string* out, const std::vector<Name>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) *out += ", ";
    *out += FormatName(names[i]);
  }
}

// `default_descending`: `top` sorts descending unless told, `sort` ascending.
void AppendSort(std::string* out, const std::vector<SortItem>& items, bool default_descending) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) *out += ", ";
    AppendExpr(out, *items[i].expr, kPrecOr);
    if (items[i].descending != default_descending) {
      *out += items[i].descending ? " desc" : " asc";
    }
    if (items[i].nulls_first.value_or(false)) *out += " nulls first";
  }
}

void AppendRowCount(std::string* out, const RowCount& c) {
  *out += c.parameter ? "$" + *c.parameter : fmt::format("{}", c.value);
}

int SpansetPrecedence(const Spanset& s) {
  switch (s.kind) {
    case SpansetKind::kOr:
      return 1;
    case SpansetKind::kAnd:
      return 2;
    case SpansetKind::kFilter:
      return 4;
    default:
      return 3;
  }
}

const char* SpansetOpText(const Spanset& s) {
  switch (s.kind) {
    case SpansetKind::kAnd:
      return "&&";
    case SpansetKind::kOr:
      return "||";
    case SpansetKind::kChild:
      return s.negated ? "!>" : ">";
    case SpansetKind::kDescendant:
      return s.negated ? "!>>" : ">>";
    case SpansetKind::kParent:
      return s.negated ? "!<" : "<";
    case SpansetKind::kAncestor:
      return s.negated ? "!<<" : "<<";
    case SpansetKind::kSibling:
      return s.negated ? "!~" : "~";
    case SpansetKind::kFilter:
      return "";
  }
  return "";
}

void AppendSpanset(std::string* out, const Spanset& s, int min_precedence) {
  const int prec = SpansetPrecedence(s);
  const bool parens = prec < min_precedence;
  if (parens) *out += '(';
  if (s.kind == SpansetKind::kFilter) {
    if (s.filter) {
      *out += "{ ";
      AppendExpr(out, *s.filter, kPrecOr);
      *out += " }";
    } else {
      *out += "{}";
    }
  } else {
    AppendSpanset(out, *s.lhs, prec);
    *out += fmt::format(" {} ", SpansetOpText(s));
    AppendSpanset(out, *s.rhs, prec + 1);
  }
  if (parens) *out += ')';
}

const char* JoinKindText(JoinKind k) {
  switch (k) {
    case JoinKind::kInner:
      return "inner";
    case JoinKind::kLeft:
      return "left";
    case JoinKind::kSemi:
      return "semi";
    case JoinKind::kAnti:
      return "anti";
  }
  return "inner";
}

void AppendUnion(std::string* out, const std::optional<Name>& with_source,
                 const std::vector<Name>& sources) {
  *out += "union ";
  if (with_source) *out += fmt::format("withsource={} ", FormatName(*with_source));
  AppendNames(out, sources);
}

void AppendStage(std::string* out, const Stage& s, std::string_view stage_separator) {
  switch (s.kind) {
    case StageKind::kWhere:
      *out += "where ";
      AppendExpr(out, *s.predicate, kPrecOr);
      break;
    case StageKind::kSearch: {
      *out += "search ";
      if (s.match_case) *out += "matchcase ";
      if (s.regex) *out += "regex ";
      AppendQuoted(out, s.needle);
      if (!s.names.empty()) {
        *out += " in (";
        AppendNames(out, s.names);
        *out += ')';
      }
      break;
    }
    case StageKind::kExtend:
      *out += "extend ";
      AppendNamedList(out, s.items);
      break;
    case StageKind::kProject:
      *out += "project ";
      AppendNamedList(out, s.items);
      break;
    case StageKind::kProjectAway:
      *out += "project-away ";
      AppendNames(out, s.names);
      break;
    case StageKind::kProjectRename:
      *out += "project-rename ";
      for (size_t i = 0; i < s.renames.size(); ++i) {
        if (i > 0) *out += ", ";
        *out += FormatName(s.renames[i].first) + " = " + FormatName(s.renames[i].second);
      }
      break;
    case StageKind::kSummarize:
      *out += "summarize";
      if (!s.items.empty()) {
        *out += ' ';
        AppendNamedList(out, s.items);
      }
      if (!s.keys.empty()) {
        *out += " by ";
        AppendNamedList(out, s.keys);
      }
      break;
    case StageKind::kSort:
      *out += "sort by ";
      AppendSort(out, s.sort, false);
      break;
    case StageKind::kTake:
      *out += "take ";
      AppendRowCount(out, s.count);
      break;
    case StageKind::kTop:
      *out += "top ";
      AppendRowCount(out, s.count);
      if (!s.sort.empty()) {
        *out += " by ";
        AppendSort(out, s.sort, true);
      }
      break;
    case StageKind::kDistinct:
      *out += "distinct ";
      AppendNamedList(out, s.items);
      break;
    case StageKind::kCount:
      *out += "count";
      break;
    case StageKind::kMatch:
      *out += "match ";
      AppendSpanset(out, *s.spanset, 1);
      break;
    case StageKind::kJoin: {
      *out += "join ";
      if (s.join_kind != JoinKind::kInner)
        *out += fmt::format("kind={} ", JoinKindText(s.join_kind));
      *out += '(';
      *out += FormatPipeline(*s.subquery);
      *out += ") on ";
      AppendList(out, s.join_keys, 0);
      break;
    }
    case StageKind::kUnion:
      AppendUnion(out, s.with_source, s.names);
      break;
  }
  (void)stage_separator;
}

std::string PipelineText(const Pipeline& p, std::string_view separator) {
  std::string out;
  if (p.source_is_union) {
    AppendUnion(&out, p.union_with_source, p.union_sources);
  } else {
    out += FormatName(p.source);
  }
  for (const Stage& s : p.stages) {
    out += separator;
    AppendStage(&out, s, separator);
  }
  return out;
}

}  // namespace

std::string FormatStage(const Stage& stage) {
  std::string out;
  AppendStage(&out, stage, " | ");
  return out;
}

std::string FormatExpr(const Expr& expr) {
  std::string out;
  AppendExpr(&out, expr, kPrecOr);
  return out;
}

std::string FormatSpanset(const Spanset& spanset) {
  std::string out;
  AppendSpanset(&out, spanset, 1);
  return out;
}

// A pipeline inside another (a join's right side) prints on one line.
std::string FormatPipeline(const Pipeline& pipeline) {
  return PipelineText(pipeline, " | ");
}

std::string FormatQuery(const Query& query) {
  std::string out;
  for (const Let& let : query.lets) {
    out += fmt::format("let {} = {};\n", FormatName(let.name), FormatExpr(*let.value));
  }
  out += PipelineText(query.pipeline, "\n| ");
  return out;
}

namespace {

struct Element {
  SourceRange range;
  std::string text;
  std::vector<std::string> leading;   // own-line comments (a "" entry: a blank line)
  std::vector<std::string> trailing;  // comments after it on its last line
};

bool OnlyBlanksBefore(std::string_view source, uint32_t at) {
  for (uint32_t i = at; i > 0; --i) {
    const char c = source[i - 1];
    if (c == '\n') return true;
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// A blank line between the comment and the code or comment before it.
bool BlankLineBefore(std::string_view source, uint32_t at) {
  int newlines = 0;
  for (uint32_t i = at; i > 0; --i) {
    const char c = source[i - 1];
    if (c == '\n') {
      if (++newlines == 2) return true;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      return false;
    }
  }
  return false;  // the start of the file
}

}  // namespace

std::string FormatQueryKeepingComments(const Query& query, std::string_view source,
                                       const std::vector<Comment>& comments) {
  std::vector<Element> elements;
  for (const Let& let : query.lets) {
    elements.push_back({let.range,
                        fmt::format("let {} = {};", FormatName(let.name), FormatExpr(*let.value)),
                        {},
                        {}});
  }
  const Pipeline& p = query.pipeline;
  std::string source_text;
  SourceRange source_range = p.range;
  if (p.source_is_union) {
    AppendUnion(&source_text, p.union_with_source, p.union_sources);
  } else {
    source_text = FormatName(p.source);
  }
  // The source ends with its (last) name: a comment after it belongs to what follows.
  source_range.end = p.source_is_union && !p.union_sources.empty()
                         ? p.union_sources.back().range.end
                         : p.source.range.end;
  if (!p.stages.empty()) source_range.end = std::min(source_range.end, p.stages[0].range.begin);
  elements.push_back({source_range, source_text, {}, {}});
  for (const Stage& st : p.stages) {
    std::string text = "| ";
    AppendStage(&text, st, "\n| ");
    elements.push_back({st.range, std::move(text), {}, {}});
  }
  std::vector<std::string> at_end;
  for (const Comment& c : comments) {
    const bool own_line = OnlyBlanksBefore(source, c.range.begin);
    if (!own_line) {
      // The element holding the code before the comment on its line.
      Element* e = &elements.front();
      for (Element& each : elements) {
        if (each.range.begin < c.range.begin) e = &each;
      }
      if (c.range.begin >= e->range.end) {
        e->trailing.push_back(c.text);
      } else {
        e->leading.push_back(c.text);
      }
      continue;
    }
    Element* next = nullptr;
    for (Element& each : elements) {
      if (each.range.end > c.range.begin) {
        next = &each;
        break;
      }
    }
    std::vector<std::string>* list = next != nullptr ? &next->leading : &at_end;
    if (BlankLineBefore(source, c.range.begin) && !(next == &elements.front() && list->empty())) {
      list->push_back("");
    }
    list->push_back(c.text);
  }
  std::string out;
  for (const Element& e : elements) {
    for (const std::string& c : e.leading) out += c + "\n";
    out += e.text;
    for (const std::string& c : e.trailing) out += " " + c;
    out += "\n";
  }
  for (const std::string& c : at_end) out += c + "\n";
  return out;
}

}  // namespace tql::ast
