#include "frontend/parser.h"

#include <antlr4-runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "TqlLexer.h"
#include "TqlParser.h"
#include "frontend/suggest.h"
#include "runtime/time_format.h"
#include "runtime/utf8.h"

namespace tql {

namespace {

using grammar::TqlLexer;
using grammar::TqlParser;
using Token = antlr4::Token;

// ANTLR indexes code points; diagnostics use byte offsets into the UTF-8 text.
class OffsetMap {
 public:
  explicit OffsetMap(std::string_view text) {
    // ANTLR's input stream drops a leading byte-order mark: its code points start after it.
    const uint32_t start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    for (uint32_t i = start; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) byte_of_.push_back(i);
    }
    byte_of_.push_back(static_cast<uint32_t>(text.size()));
  }
  uint32_t Byte(size_t code_point) const {
    return byte_of_[std::min(code_point, byte_of_.size() - 1)];
  }
  SourceRange RangeOf(const Token* t) const {
    if (t == nullptr) return {};
    const uint32_t begin = Byte(t->getStartIndex());
    if (t->getType() == Token::EOF) return {begin, begin};
    return {begin, Byte(t->getStopIndex() + 1)};
  }
  SourceRange RangeOf(antlr4::ParserRuleContext* ctx) const {
    const uint32_t begin = Byte(ctx->getStart()->getStartIndex());
    const Token* stop = ctx->getStop();
    uint32_t end = begin;
    if (stop != nullptr && stop->getType() != Token::EOF) end = Byte(stop->getStopIndex() + 1);
    return {begin, std::max(begin, end)};
  }

 private:
  std::vector<uint32_t> byte_of_;
};

Diagnostic Error(SourceRange range, std::string message, std::vector<std::string> hints = {}) {
  Diagnostic d;
  d.range = range;
  d.message = std::move(message);
  d.hints = std::move(hints);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Syntax errors in the user's terms.

const std::vector<std::string>& StageNames() {
  static const std::vector<std::string> names = {
      "where",     "filter", "search", "extend", "project", "project-away", "project-rename",
      "summarize", "sort",   "order",  "take",   "limit",   "top",          "distinct",
      "count",     "match",  "join",   "union"};
  return names;
}

std::string LowerWord(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

bool Contains(const std::vector<size_t>& types, size_t t) {
  return std::find(types.begin(), types.end(), t) != types.end();
}

std::string DescribeTokenType(const antlr4::dfa::Vocabulary& vocabulary, size_t type) {
  switch (type) {
    case TqlParser::INTEGER:
      return "a number";
    case TqlParser::STRING:
      return "a string";
    case TqlParser::IDENT:
    case TqlParser::BACKTICK_IDENT:
      return "a name";
    case TqlParser::PARAMETER:
      return "a $parameter";
    case Token::EOF:
      return "the end of the query";
    default:
      break;
  }
  // Keywords and punctuation: their literal spelling, lower-case.
  std::string literal = vocabulary.getLiteralName(type);
  if (literal.size() >= 2 && literal.front() == '\'') return literal;
  std::string symbolic = vocabulary.getSymbolicName(type);
  for (char& c : symbolic)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c == '_' ? '-' : c);
  return fmt::format("'{}'", symbolic);
}

// What the parser wanted, summarized: "an expression", "a stage", or a short list.
std::string DescribeExpected(const antlr4::dfa::Vocabulary& vocabulary,
                             const std::vector<size_t>& types) {
  if (Contains(types, TqlParser::IDENT) &&
      (Contains(types, TqlParser::INTEGER) || Contains(types, TqlParser::STRING))) {
    return "an expression";
  }
  if (Contains(types, TqlParser::IDENT)) return "a name";
  if (Contains(types, TqlParser::WHERE) && Contains(types, TqlParser::SUMMARIZE)) {
    return "a stage (where, extend, project, summarize, sort, take, ...)";
  }
  if (Contains(types, TqlParser::LBRACE) && Contains(types, TqlParser::LPAREN) &&
      types.size() <= 3) {
    return "a spanset ('{ ... }')";
  }
  std::vector<std::string> words;
  for (size_t t : types) {
    std::string w = DescribeTokenType(vocabulary, t);
    if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(w);
  }
  if (words.size() > 5) return "an operator, ',' or the end of the stage";
  std::string list;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) list += i + 1 == words.size() ? " or " : ", ";
    list += words[i];
  }
  return list;
}

// Text echoed in a message: control characters as U+XXXX so that they cannot garble a
// terminal, long text cut.
std::string Printable(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size() && out.size() < 40; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("U+{:04X}", c);
    } else {
      out += text[i];
    }
  }
  if (out.size() >= 40) out += "...";
  return out;
}

std::string DescribeToken(const Token* t) {
  if (t == nullptr || t->getType() == Token::EOF) return "the end of the query";
  return fmt::format("'{}'", Printable(t->getText()));
}

// Collects syntax errors as diagnostics instead of printing them. After an error, only an
// error in a later stage (past a '|') is reported: errors right after one are its echoes.
class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(const OffsetMap* offsets, antlr4::CommonTokenStream* tokens,
                      std::vector<Diagnostic>* out)
      : offsets_(offsets), tokens_(tokens), out_(out) {}

  int errors() const { return errors_; }

  void syntaxError(antlr4::Recognizer* recognizer, Token* offending, size_t, size_t,
                   const std::string&, std::exception_ptr) override {
    ++errors_;
    const size_t index = offending ? offending->getTokenIndex() : 0;
    // Only the first syntax error: ANTLR's recovery guesses, and errors after the first are
    // too often echoes of it. (The binder reports every independent problem.)
    if (stop_reporting_ || last_index_ >= 0) return;
    last_index_ = static_cast<int64_t>(index);
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (parser == nullptr || out_->size() >= kMaxSyntaxErrors) return;
    out_->push_back(Describe(parser, offending));
  }

 private:
  static constexpr size_t kMaxSyntaxErrors = 5;

  Diagnostic Describe(antlr4::Parser* parser, Token* offending) {
    const Token* prev = nullptr;
    for (int64_t i = static_cast<int64_t>(offending->getTokenIndex()) - 1; i >= 0; --i) {
      const Token* t = tokens_->get(static_cast<size_t>(i));
      if (t->getChannel() == Token::DEFAULT_CHANNEL) {
        prev = t;
        break;
      }
    }
    Diagnostic d;
    d.range = offsets_->RangeOf(offending);
    // A missing token at the end, or at the end of a line, points just past the last token,
    // not at whatever comes next.
    if (prev != nullptr &&
        (offending->getType() == Token::EOF || offending->getLine() > prev->getLine())) {
      const uint32_t end = offsets_->RangeOf(prev).end;
      d.range = {end, end};
    }
    std::vector<size_t> expected;
    for (auto t : parser->getExpectedTokens().toList()) expected.push_back(static_cast<size_t>(t));
    if (prev == nullptr) {
      // Nothing before the error: the query does not start with a source, and what follows
      // cannot be read in a useful way.
      stop_reporting_ = true;
      if (offending->getType() == Token::EOF) {
        d.message = "the query is empty";
        d.hints.push_back("a query starts with the source it reads, e.g. spans | take 10");
      } else {
        d.message = fmt::format("expected a source name, found {}", DescribeToken(offending));
        d.hints.push_back("a query starts with the source it reads, e.g. spans | take 10");
      }
      return d;
    }
    const size_t prev_type = prev->getType();
    if (offending->getType() == TqlParser::ASSIGN) {
      const bool wants_name = prev_type == TqlParser::EXTEND || prev_type == TqlParser::PROJECT ||
                              prev_type == TqlParser::LET || prev_type == TqlParser::COMMA ||
                              prev_type == TqlParser::SUMMARIZE || prev_type == TqlParser::BY;
      if (wants_name) {
        d.message = fmt::format("expected a name before '=', after {}", DescribeToken(prev));
      } else {
        d.message = "unexpected '='";
        d.hints.push_back(
            "comparison is written '=='; NAME = EXPR belongs in extend, project "
            "and summarize");
      }
      return d;
    }
    const bool at_stage_end = Contains(expected, Token::EOF) || Contains(expected, TqlParser::PIPE);
    if (at_stage_end && offending->getType() != Token::EOF) {
      const size_t t = offending->getType();
      const std::string word = offending->getText();
      if (t == TqlParser::RPAREN || t == TqlParser::RBRACKET || t == TqlParser::RBRACE) {
        d.message = fmt::format("unmatched '{}'", word);
        return d;
      }
      if (std::find(StageNames().begin(), StageNames().end(), LowerWord(word)) !=
          StageNames().end()) {
        d.message = fmt::format("expected '|' before '{}'", word);
        d.hints.push_back("stages are separated by '|'");
        return d;
      }
      if (t == TqlParser::IDENT) {
        static const std::vector<std::string> kWords = {
            "contains", "startswith", "endswith", "has",   "between", "in",   "and", "or", "not",
            "by",       "asc",        "desc",     "nulls", "first",   "last", "as",  "on"};
        d.message = fmt::format("unexpected '{}' after {}", word, DescribeToken(prev));
        const std::string lower = LowerWord(word);
        if (lower == "like") {
          d.hints.push_back("use contains, startswith, endswith or =~ (a regular expression)");
        } else if (lower == "is") {
          d.hints.push_back("test for null with isnull(x) or isnotnull(x)");
        } else if (auto near = lower.size() >= 4 ? ClosestName(lower, kWords) : std::nullopt) {
          d.message += fmt::format("; did you mean '{}'?", *near);
        }
        return d;
      }
    }
    std::string wanted = DescribeExpected(parser->getVocabulary(), expected);
    const std::string after = fmt::format(" after {}", DescribeToken(prev));
    const bool wants_stage = prev_type == TqlParser::PIPE && wanted.starts_with("a stage");
    const bool is_word = !offending->getText().empty() &&
                         std::isalpha(static_cast<unsigned char>(offending->getText()[0]));
    if (wants_stage && offending->getType() != Token::EOF && is_word) {
      const std::string word = offending->getText();
      if (LowerWord(word) == "let") {
        d.message = "let must come before the source";
        d.hints.push_back("write: let x = 5; spans | where y > x");
        return d;
      }
      d.message = fmt::format("unknown stage '{}'", word);
      if (auto near = ClosestName(word, StageNames())) {
        d.message += fmt::format("; did you mean '{}'?", *near);
      } else {
        d.hints.push_back("the stages are: " + fmt::format("{}", fmt::join(StageNames(), ", ")));
      }
      return d;
    }
    d.message = fmt::format("expected {}{}, found {}", wanted, after, DescribeToken(offending));
    return d;
  }

  const OffsetMap* offsets_;
  antlr4::CommonTokenStream* tokens_;
  std::vector<Diagnostic>* out_;
  int errors_ = 0;
  int64_t last_index_ = -1;
  bool stop_reporting_ = false;
};

// Lexical problems reported before parsing: they make better messages than the parse errors
// they would cause. Also bounds bracket nesting, so that the recursive parser cannot overflow
// the stack.
bool IsBangOperator(size_t type) {
  switch (type) {
    case TqlParser::NOT_IN:
    case TqlParser::NOT_BETWEEN:
    case TqlParser::NOT_CONTAINS:
    case TqlParser::NOT_CONTAINS_CS:
    case TqlParser::NOT_HAS:
    case TqlParser::NOT_HAS_CS:
    case TqlParser::NOT_STARTSWITH:
    case TqlParser::NOT_STARTSWITH_CS:
    case TqlParser::NOT_ENDSWITH:
    case TqlParser::NOT_ENDSWITH_CS:
      return true;
    default:
      return false;
  }
}

bool StartsWithNameChar(const std::string& s) {
  if (s.empty()) return false;
  const char c = s[0];
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@';
}

// `!has_error` lexes as `!has` `_error`, but means `not has_error`: a `!` operator word that
// runs straight into more name characters is `!` followed by one name. (Done on the tokens
// rather than with a lexer predicate, which the ANTLR 4.9 runtime leaks memory on.)
void SplitBangWords(const std::vector<Token*>& tokens) {
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    Token* bang = tokens[i];
    Token* next = tokens[i + 1];
    if (!IsBangOperator(bang->getType()) || next->getStartIndex() != bang->getStopIndex() + 1 ||
        !StartsWithNameChar(next->getText())) {
      continue;
    }
    auto* first = dynamic_cast<antlr4::WritableToken*>(bang);
    auto* second = dynamic_cast<antlr4::WritableToken*>(next);
    auto* first_common = dynamic_cast<antlr4::CommonToken*>(bang);
    auto* second_common = dynamic_cast<antlr4::CommonToken*>(next);
    if (!first || !second || !first_common || !second_common) continue;
    const std::string word = bang->getText().substr(1) + next->getText();
    const size_t start = bang->getStartIndex();
    first->setType(TqlParser::NOT);
    first->setText("!");
    first_common->setStopIndex(start);
    second->setType(TqlParser::IDENT);
    second->setText(word);
    second_common->setStartIndex(start + 1);
  }
}

constexpr size_t kMaxLexicalErrors = 5;

void CheckTokens(const std::vector<Token*>& tokens, const OffsetMap& offsets,
                 std::vector<Diagnostic>* out) {
  int depth = 0;
  bool reported_depth = false;
  for (const Token* t : tokens) {
    switch (t->getType()) {
      case TqlParser::STRING:
        if (t->getText().find('\0') != std::string::npos) {
          out->push_back(Error(offsets.RangeOf(t), "NUL character in a string",
                               {"write it as the escape \\0"}));
        }
        break;
      case TqlParser::UNTERMINATED_STRING:
        out->push_back(Error(offsets.RangeOf(t), "unterminated string",
                             {"a string ends with the quote it starts with, on the same line"}));
        break;
      case TqlParser::UNTERMINATED_BACKTICK:
        out->push_back(Error(offsets.RangeOf(t), "unterminated `name`",
                             {"a quoted name ends with '`' on the same line"}));
        break;
      case TqlParser::UNTERMINATED_COMMENT:
        out->push_back(Error({offsets.RangeOf(t).begin, offsets.RangeOf(t).begin + 2},
                             "unterminated comment", {"a block comment ends with '*/'"}));
        break;
      case TqlParser::ERROR_CHAR: {
        const std::string text = t->getText();
        const bool nul = text.size() == 1 && text[0] == '\0';
        if (out->size() >= kMaxLexicalErrors) break;
        out->push_back(Error(offsets.RangeOf(t),
                             nul ? std::string("unexpected NUL character")
                                 : fmt::format("unexpected character '{}'", Printable(text))));
        break;
      }
      case TqlParser::LPAREN:
      case TqlParser::LBRACKET:
      case TqlParser::LBRACE:
        if (++depth > kMaxNesting && !reported_depth) {
          reported_depth = true;
          out->push_back(
              Error(offsets.RangeOf(t),
                    fmt::format("nested too deeply: more than {} levels of brackets", kMaxNesting),
                    {"name intermediate results with extend or let"}));
        }
        break;
      case TqlParser::RPAREN:
      case TqlParser::RBRACKET:
      case TqlParser::RBRACE:
        depth = std::max(0, depth - 1);
        break;
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parse tree → AST.

struct UnitSpelling {
  const char* written;
  const char* unit;
};
constexpr UnitSpelling kUnitSpellings[] = {
    {"sec", "s"},     {"secs", "s"},          {"second", "s"},
    {"seconds", "s"}, {"min", "m"},           {"mins", "m"},
    {"minute", "m"},  {"minutes", "m"},       {"hr", "h"},
    {"hrs", "h"},     {"hour", "h"},          {"hours", "h"},
    {"day", "d"},     {"days", "d"},          {"msec", "ms"},
    {"millis", "ms"}, {"milliseconds", "ms"}, {"usec", "us"},
    {"micros", "us"}, {"microseconds", "us"}, {"nsec", "ns"},
    {"nanos", "ns"},  {"nanoseconds", "ns"}};

class AstBuilder {
 public:
  AstBuilder(const OffsetMap* offsets, std::vector<Diagnostic>* diagnostics)
      : offsets_(offsets), diagnostics_(diagnostics) {}

  ast::Query BuildQuery(TqlParser::QueryContext* ctx) {
    ast::Query q;
    q.range = offsets_->RangeOf(ctx);
    for (auto* let : ctx->letStatement()) {
      ast::Let l;
      l.range = offsets_->RangeOf(let);
      l.name = NameOf(let->identifier());
      l.value = BuildExpr(let->expression());
      q.lets.push_back(std::move(l));
    }
    q.pipeline = BuildPipeline(ctx->pipeline());
    return q;
  }

 private:
  void Report(SourceRange range, std::string message, std::vector<std::string> hints = {}) {
    diagnostics_->push_back(Error(range, std::move(message), std::move(hints)));
  }

  // --- names

  static std::string IdentifierText(TqlParser::IdentifierContext* id) {
    // One token: its text, without RuleContext::getText (which builds a stringstream).
    std::string t = id->getStart()->getText();
    if (id->getStart()->getType() == TqlParser::BACKTICK_IDENT) return t.substr(1, t.size() - 2);
    return t;
  }

  ast::Name NameOf(TqlParser::IdentifierContext* id) const {
    ast::Name n;
    n.range = offsets_->RangeOf(id);
    n.parts.push_back(IdentifierText(id));
    return n;
  }

  ast::Name NameOf(TqlParser::NameContext* ctx) const {
    ast::Name n;
    n.range = offsets_->RangeOf(ctx);
    for (auto* id : ctx->identifier()) n.parts.push_back(IdentifierText(id));
    return n;
  }

  std::vector<ast::Name> NamesOf(const std::vector<TqlParser::NameContext*>& ctxs) const {
    std::vector<ast::Name> names;
    for (auto* c : ctxs) names.push_back(NameOf(c));
    return names;
  }

  // --- pipelines and stages

  ast::Pipeline BuildPipeline(TqlParser::PipelineContext* ctx) {
    ast::Pipeline p;
    p.range = offsets_->RangeOf(ctx);
    if (auto* u = dynamic_cast<TqlParser::UnionSourceContext*>(ctx->source())) {
      p.source_is_union = true;
      p.union_sources = NamesOf(u->unionBody()->name());
      if (auto* ws = u->unionBody()->identifier()) p.union_with_source = NameOf(ws);
    } else {
      auto* named = dynamic_cast<TqlParser::NamedSourceContext*>(ctx->source());
      p.source = NameOf(named->name());
    }
    for (auto* stage : ctx->stage()) p.stages.push_back(BuildStage(stage));
    return p;
  }

  ast::Stage BuildStage(TqlParser::StageContext* ctx) {
    ast::Stage s;
    s.range = offsets_->RangeOf(ctx);
    s.keyword_range = offsets_->RangeOf(ctx->getStart());
    if (auto* where = dynamic_cast<TqlParser::WhereStageContext*>(ctx)) {
      s.kind = ast::StageKind::kWhere;
      s.predicate = BuildExpr(where->expression());
    } else if (auto* search = dynamic_cast<TqlParser::SearchStageContext*>(ctx)) {
      s.kind = ast::StageKind::kSearch;
      s.match_case = !search->searchOptions()->MATCHCASE().empty();
      s.regex = !search->searchOptions()->REGEX().empty();
      s.needle_range = offsets_->RangeOf(search->STRING()->getSymbol());
      s.needle = Unquote(search->STRING()->getSymbol());
      s.names = NamesOf(search->name());
    } else if (auto* extend = dynamic_cast<TqlParser::ExtendStageContext*>(ctx)) {
      s.kind = ast::StageKind::kExtend;
      for (auto* a : extend->assignment()) {
        ast::NamedExpr item;
        item.name = NameOf(a->name());
        item.assigned = true;
        item.expr = BuildExpr(a->expression());
        s.items.push_back(std::move(item));
      }
    } else if (auto* project = dynamic_cast<TqlParser::ProjectStageContext*>(ctx)) {
      s.kind = ast::StageKind::kProject;
      for (auto* item : project->projectItem())
        s.items.push_back(BuildNamed(item->namedExpression()));
    } else if (auto* away = dynamic_cast<TqlParser::ProjectAwayStageContext*>(ctx)) {
      s.kind = ast::StageKind::kProjectAway;
      s.names = NamesOf(away->name());
    } else if (auto* rename = dynamic_cast<TqlParser::ProjectRenameStageContext*>(ctx)) {
      s.kind = ast::StageKind::kProjectRename;
      for (auto* r : rename->renameItem())
        s.renames.emplace_back(NameOf(r->name(0)), NameOf(r->name(1)));
    } else if (auto* summarize = dynamic_cast<TqlParser::SummarizeStageContext*>(ctx)) {
      s.kind = ast::StageKind::kSummarize;
      const size_t by = summarize->BY() ? summarize->BY()->getSymbol()->getTokenIndex() : SIZE_MAX;
      for (auto* item : summarize->namedExpression()) {
        auto& list = item->getStart()->getTokenIndex() > by ? s.keys : s.items;
        list.push_back(BuildNamed(item));
      }
      if (s.items.empty() && s.keys.empty()) {
        Report(s.keyword_range, "summarize needs an aggregate or a 'by' clause",
               {"for example: summarize count() by service"});
      }
    } else if (auto* sort = dynamic_cast<TqlParser::SortStageContext*>(ctx)) {
      s.kind = ast::StageKind::kSort;
      for (auto* item : sort->sortItem()) s.sort.push_back(BuildSortItem(item, false));
    } else if (auto* take = dynamic_cast<TqlParser::TakeStageContext*>(ctx)) {
      s.kind = ast::StageKind::kTake;
      s.count = BuildRowCount(take->count);
    } else if (auto* top = dynamic_cast<TqlParser::TopStageContext*>(ctx)) {
      s.kind = ast::StageKind::kTop;
      s.count = BuildRowCount(top->count);
      for (auto* item : top->sortItem()) s.sort.push_back(BuildSortItem(item, true));
      if (s.sort.empty()) {
        Report(s.range, "top needs 'by' and the expressions to rank by",
               {fmt::format("for example: top {} by duration",
                            ast::FormatLiteral({TypeId::kInt, s.count.value, 0, {}}))});
      }
    } else if (auto* distinct = dynamic_cast<TqlParser::DistinctStageContext*>(ctx)) {
      s.kind = ast::StageKind::kDistinct;
      for (auto* item : distinct->namedExpression()) s.items.push_back(BuildNamed(item));
    } else if (dynamic_cast<TqlParser::CountStageContext*>(ctx) != nullptr) {
      s.kind = ast::StageKind::kCount;
    } else if (auto* match = dynamic_cast<TqlParser::MatchStageContext*>(ctx)) {
      s.kind = ast::StageKind::kMatch;
      s.spanset = BuildSpanset(match->spansetExpression());
    } else if (auto* join = dynamic_cast<TqlParser::JoinStageContext*>(ctx)) {
      s.kind = ast::StageKind::kJoin;
      if (join->joinKind != nullptr) {
        s.join_kind_written = true;
        std::string k = IdentifierText(join->joinKind);
        for (char& ch : k) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        if (k == "inner") {
          s.join_kind = ast::JoinKind::kInner;
        } else if (k == "left" || k == "leftouter") {
          s.join_kind = ast::JoinKind::kLeft;
        } else if (k == "semi" || k == "leftsemi") {
          s.join_kind = ast::JoinKind::kSemi;
        } else if (k == "anti" || k == "leftanti") {
          s.join_kind = ast::JoinKind::kAnti;
        } else {
          std::string message = fmt::format("unknown join kind '{}'", k);
          if (auto near = ClosestName(k, {"inner", "left", "semi", "anti"})) {
            message += fmt::format("; did you mean '{}'?", *near);
          }
          Report(offsets_->RangeOf(join->joinKind), message,
                 {"the kinds are inner, left, semi, anti"});
        }
      }
      s.subquery = std::make_unique<ast::Pipeline>(BuildPipeline(join->pipeline()));
      for (auto* key : join->expression()) s.join_keys.push_back(BuildExpr(key));
    } else if (auto* union_stage = dynamic_cast<TqlParser::UnionStageContext*>(ctx)) {
      s.kind = ast::StageKind::kUnion;
      s.names = NamesOf(union_stage->unionBody()->name());
      if (auto* ws = union_stage->unionBody()->identifier()) s.with_source = NameOf(ws);
    }
    return s;
  }

  ast::RowCount BuildRowCount(TqlParser::RowCountContext* ctx) {
    ast::RowCount c;
    c.range = offsets_->RangeOf(ctx);
    if (auto* p = ctx->PARAMETER()) {
      c.parameter = p->getText().substr(1);
    } else {
      c.value = ParseInteger(ctx->INTEGER()->getSymbol(), /*negated=*/false).value_or(0);
    }
    return c;
  }

  ast::NamedExpr BuildNamed(TqlParser::NamedExpressionContext* ctx) {
    ast::NamedExpr item;
    if (ctx->ASSIGN() != nullptr) {
      item.name = NameOf(ctx->name());
      item.assigned = true;
    } else if (ctx->name() != nullptr) {
      item.name = NameOf(ctx->name());
    }
    item.expr = BuildExpr(ctx->expression());
    return item;
  }

  ast::SortItem BuildSortItem(TqlParser::SortItemContext* ctx, bool default_descending) {
    ast::SortItem item;
    item.expr = BuildExpr(ctx->expression());
    item.descending = ctx->DESC() ? true : ctx->ASC() ? false : default_descending;
    if (ctx->NULLS() != nullptr) item.nulls_first = ctx->FIRST() != nullptr;
    return item;
  }

  // --- spansets

  ast::SpansetPtr Combine(ast::SpansetKind kind, bool negated, ast::SpansetPtr lhs,
                          ast::SpansetPtr rhs) {
    auto s = std::make_unique<ast::Spanset>();
    s->kind = kind;
    s->negated = negated;
    s->range = {lhs->range.begin, rhs->range.end};
    s->lhs = std::move(lhs);
    s->rhs = std::move(rhs);
    return s;
  }

  ast::SpansetPtr BuildSpanset(TqlParser::SpansetExpressionContext* ctx) {
    ast::SpansetPtr result;
    for (auto* part : ctx->spansetAnd()) {
      ast::SpansetPtr next = BuildSpansetAnd(part);
      result = result ? Combine(ast::SpansetKind::kOr, false, std::move(result), std::move(next))
                      : std::move(next);
    }
    return result;
  }

  ast::SpansetPtr BuildSpansetAnd(TqlParser::SpansetAndContext* ctx) {
    ast::SpansetPtr result;
    for (auto* part : ctx->spansetStructural()) {
      ast::SpansetPtr next = BuildSpansetStructural(part);
      result = result ? Combine(ast::SpansetKind::kAnd, false, std::move(result), std::move(next))
                      : std::move(next);
    }
    return result;
  }

  ast::SpansetPtr BuildSpansetStructural(TqlParser::SpansetStructuralContext* ctx) {
    auto primaries = ctx->spansetPrimary();
    auto ops = ctx->structuralOperator();
    ast::SpansetPtr result = BuildSpansetPrimary(primaries[0]);
    for (size_t i = 0; i < ops.size(); ++i) {
      ast::SpansetKind kind = ast::SpansetKind::kChild;
      bool negated = false;
      switch (ops[i]->getStart()->getType()) {
        case TqlParser::GT:
          kind = ast::SpansetKind::kChild;
          break;
        case TqlParser::GTGT:
          kind = ast::SpansetKind::kDescendant;
          break;
        case TqlParser::LT:
          kind = ast::SpansetKind::kParent;
          break;
        case TqlParser::LTLT:
          kind = ast::SpansetKind::kAncestor;
          break;
        case TqlParser::TILDE:
          kind = ast::SpansetKind::kSibling;
          break;
        case TqlParser::NOT_GT:
          kind = ast::SpansetKind::kChild, negated = true;
          break;
        case TqlParser::NOT_GTGT:
          kind = ast::SpansetKind::kDescendant, negated = true;
          break;
        case TqlParser::NOT_LT:
          kind = ast::SpansetKind::kParent, negated = true;
          break;
        case TqlParser::NOT_LTLT:
          kind = ast::SpansetKind::kAncestor, negated = true;
          break;
        case TqlParser::NOT_MATCHES:
          kind = ast::SpansetKind::kSibling, negated = true;
          break;
        default:
          break;
      }
      result = Combine(kind, negated, std::move(result), BuildSpansetPrimary(primaries[i + 1]));
    }
    return result;
  }

  ast::SpansetPtr BuildSpansetPrimary(TqlParser::SpansetPrimaryContext* ctx) {
    if (auto* parens = dynamic_cast<TqlParser::SpansetParensContext*>(ctx)) {
      return BuildSpanset(parens->spansetExpression());
    }
    auto* filter = dynamic_cast<TqlParser::SpansetFilterContext*>(ctx);
    auto s = std::make_unique<ast::Spanset>();
    s->kind = ast::SpansetKind::kFilter;
    s->range = offsets_->RangeOf(ctx);
    if (filter->expression() != nullptr) s->filter = BuildExpr(filter->expression());
    return s;
  }

  // --- expressions

  ast::ExprPtr Node(ast::ExprKind kind, ast::Op op, SourceRange range,
                    std::vector<ast::ExprPtr> args) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->op = op;
    e->range = range;
    int height = 0;
    for (const auto& a : args) height = std::max(height, a->height);
    e->height = height + 1;
    e->args = std::move(args);
    if (e->height > kMaxExpressionHeight && !reported_height_) {
      reported_height_ = true;
      Report(range,
             fmt::format("expression too deeply nested: more than {} levels", kMaxExpressionHeight),
             {"split it with extend, or use 'in (...)' for long lists of alternatives"});
    }
    return e;
  }

  static SourceRange Span(const ast::ExprPtr& a, const ast::ExprPtr& b) {
    return {a->range.begin, b->range.end};
  }

  // `(a and b) and c` is `a and b and c`: and/or are associative, so parenthesized operands
  // of the same operator join the list.
  static void Flatten(ast::Op op, ast::ExprPtr e, std::vector<ast::ExprPtr>* out) {
    if (e->kind == ast::ExprKind::kBinary && e->op == op) {
      for (ast::ExprPtr& a : e->args) out->push_back(std::move(a));
    } else {
      out->push_back(std::move(e));
    }
  }

  // The expression rules are walked by position, not with the generated accessors: a
  // successful parse has a fixed shape, and the accessors' dynamic_casts over every child
  // cost more than the walk.
  template <typename T>
  static T* Child(antlr4::ParserRuleContext* ctx, size_t i) {
    return static_cast<T*>(ctx->children[i]);
  }
  static size_t TokenTypeAt(antlr4::ParserRuleContext* ctx, size_t i) {
    return static_cast<antlr4::tree::TerminalNode*>(ctx->children[i])->getSymbol()->getType();
  }
  static Token* TokenAt(antlr4::ParserRuleContext* ctx, size_t i) {
    return static_cast<antlr4::tree::TerminalNode*>(ctx->children[i])->getSymbol();
  }

  ast::ExprPtr BuildExpr(TqlParser::ExpressionContext* ctx) {
    // andExpression (OR andExpression)*
    if (ctx->children.size() == 1) return BuildAnd(Child<TqlParser::AndExpressionContext>(ctx, 0));
    std::vector<ast::ExprPtr> args;
    for (size_t i = 0; i < ctx->children.size(); i += 2) {
      Flatten(ast::Op::kOr, BuildAnd(Child<TqlParser::AndExpressionContext>(ctx, i)), &args);
    }
    const SourceRange range = Span(args.front(), args.back());
    return Node(ast::ExprKind::kBinary, ast::Op::kOr, range, std::move(args));
  }

  ast::ExprPtr BuildAnd(TqlParser::AndExpressionContext* ctx) {
    // NOT* comparison (AND NOT* comparison)*
    std::vector<ast::ExprPtr> args;
    size_t operand_start = 0;
    for (size_t i = 0; i < ctx->children.size(); ++i) {
      antlr4::tree::ParseTree* child = ctx->children[i];
      if (dynamic_cast<antlr4::tree::TerminalNode*>(child) != nullptr) {
        if (TokenTypeAt(ctx, i) == TqlParser::AND) operand_start = i + 1;
        continue;
      }
      ast::ExprPtr e = BuildComparison(static_cast<TqlParser::ComparisonContext*>(child));
      for (size_t k = i; k-- > operand_start;) {  // the NOTs before it, innermost first
        const SourceRange range{offsets_->RangeOf(TokenAt(ctx, k)).begin, e->range.end};
        std::vector<ast::ExprPtr> not_args;
        not_args.push_back(std::move(e));
        e = Node(ast::ExprKind::kUnary, ast::Op::kNot, range, std::move(not_args));
      }
      Flatten(ast::Op::kAnd, std::move(e), &args);
    }
    if (args.size() == 1) return std::move(args.front());
    const SourceRange range = Span(args.front(), args.back());
    return Node(ast::ExprKind::kBinary, ast::Op::kAnd, range, std::move(args));
  }

  static ast::Op ComparisonOp(size_t token) {
    switch (token) {
      case TqlParser::EQ:
        return ast::Op::kEq;
      case TqlParser::NEQ:
        return ast::Op::kNe;
      case TqlParser::LT:
        return ast::Op::kLt;
      case TqlParser::LE:
        return ast::Op::kLe;
      case TqlParser::GT:
        return ast::Op::kGt;
      case TqlParser::GE:
        return ast::Op::kGe;
      case TqlParser::MATCHES:
        return ast::Op::kMatches;
      case TqlParser::NOT_MATCHES:
        return ast::Op::kNotMatches;
      case TqlParser::CONTAINS:
        return ast::Op::kContains;
      case TqlParser::NOT_CONTAINS:
        return ast::Op::kNotContains;
      case TqlParser::CONTAINS_CS:
        return ast::Op::kContainsCs;
      case TqlParser::NOT_CONTAINS_CS:
        return ast::Op::kNotContainsCs;
      case TqlParser::HAS:
        return ast::Op::kHas;
      case TqlParser::NOT_HAS:
        return ast::Op::kNotHas;
      case TqlParser::HAS_CS:
        return ast::Op::kHasCs;
      case TqlParser::NOT_HAS_CS:
        return ast::Op::kNotHasCs;
      case TqlParser::STARTSWITH:
        return ast::Op::kStartsWith;
      case TqlParser::NOT_STARTSWITH:
        return ast::Op::kNotStartsWith;
      case TqlParser::STARTSWITH_CS:
        return ast::Op::kStartsWithCs;
      case TqlParser::NOT_STARTSWITH_CS:
        return ast::Op::kNotStartsWithCs;
      case TqlParser::ENDSWITH:
        return ast::Op::kEndsWith;
      case TqlParser::NOT_ENDSWITH:
        return ast::Op::kNotEndsWith;
      case TqlParser::ENDSWITH_CS:
        return ast::Op::kEndsWithCs;
      case TqlParser::NOT_ENDSWITH_CS:
        return ast::Op::kNotEndsWithCs;
      default:
        return ast::Op::kNone;
    }
  }

  ast::ExprPtr BuildComparison(TqlParser::ComparisonContext* ctx) {
    // additive comparisonTail?
    ast::ExprPtr lhs = BuildAdditive(Child<TqlParser::AdditiveContext>(ctx, 0));
    if (ctx->children.size() == 1) return lhs;
    auto* tail = Child<TqlParser::ComparisonTailContext>(ctx, 1);
    const SourceRange range{lhs->range.begin, offsets_->RangeOf(tail).end};
    std::vector<ast::ExprPtr> args;
    args.push_back(std::move(lhs));
    const size_t first = tail->getStart()->getType();
    if (first == TqlParser::IN || first == TqlParser::NOT_IN) {
      // (IN | NOT_IN) LPAREN expressionList RPAREN
      auto* list = Child<TqlParser::ExpressionListContext>(tail, 2);
      for (size_t i = 0; i < list->children.size(); i += 2) {
        args.push_back(BuildExpr(Child<TqlParser::ExpressionContext>(list, i)));
      }
      auto e = Node(ast::ExprKind::kIn, ast::Op::kNone, range, std::move(args));
      e->negated = first == TqlParser::NOT_IN;
      return e;
    }
    if (first == TqlParser::BETWEEN || first == TqlParser::NOT_BETWEEN) {
      // (BETWEEN | NOT_BETWEEN) LPAREN additive DOTDOT additive RPAREN
      args.push_back(BuildAdditive(Child<TqlParser::AdditiveContext>(tail, 2)));
      args.push_back(BuildAdditive(Child<TqlParser::AdditiveContext>(tail, 4)));
      auto e = Node(ast::ExprKind::kBetween, ast::Op::kNone, range, std::move(args));
      e->negated = first == TqlParser::NOT_BETWEEN;
      return e;
    }
    // comparisonOperator additive
    args.push_back(BuildAdditive(Child<TqlParser::AdditiveContext>(tail, 1)));
    return Node(ast::ExprKind::kBinary, ComparisonOp(first), range, std::move(args));
  }

  static ast::Op ArithmeticOp(size_t token) {
    switch (token) {
      case TqlParser::PLUS:
        return ast::Op::kAdd;
      case TqlParser::MINUS:
        return ast::Op::kSub;
      case TqlParser::STAR:
        return ast::Op::kMul;
      case TqlParser::SLASH:
        return ast::Op::kDiv;
      default:
        return ast::Op::kMod;
    }
  }

  ast::ExprPtr BuildAdditive(TqlParser::AdditiveContext* ctx) {
    // multiplicative ((PLUS | MINUS) multiplicative)*: `a - b + c` is `(a - b) + c`.
    ast::ExprPtr result = BuildMultiplicative(Child<TqlParser::MultiplicativeContext>(ctx, 0));
    for (size_t i = 1; i + 1 < ctx->children.size(); i += 2) {
      ast::ExprPtr next = BuildMultiplicative(Child<TqlParser::MultiplicativeContext>(ctx, i + 1));
      result = Binary(ArithmeticOp(TokenTypeAt(ctx, i)), std::move(result), std::move(next));
    }
    return result;
  }

  ast::ExprPtr Binary(ast::Op op, ast::ExprPtr lhs, ast::ExprPtr rhs) {
    const SourceRange range = Span(lhs, rhs);
    std::vector<ast::ExprPtr> args;
    args.push_back(std::move(lhs));
    args.push_back(std::move(rhs));
    return Node(ast::ExprKind::kBinary, op, range, std::move(args));
  }

  ast::ExprPtr BuildMultiplicative(TqlParser::MultiplicativeContext* ctx) {
    // (MINUS | PLUS)* postfix ((STAR | SLASH | PERCENT) (MINUS | PLUS)* postfix)*
    ast::ExprPtr result;
    ast::Op pending = ast::Op::kNone;
    std::vector<Token*> minuses;
    for (size_t i = 0; i < ctx->children.size(); ++i) {
      antlr4::tree::ParseTree* child = ctx->children[i];
      if (auto* terminal = dynamic_cast<antlr4::tree::TerminalNode*>(child)) {
        const size_t t = terminal->getSymbol()->getType();
        if (t == TqlParser::MINUS) {
          minuses.push_back(terminal->getSymbol());
        } else if (t != TqlParser::PLUS) {
          pending = ArithmeticOp(t);  // `*`, `/` or `%` between operands
        }
        continue;
      }
      ast::ExprPtr operand = BuildOperand(minuses, static_cast<TqlParser::PostfixContext*>(child));
      minuses.clear();
      result = result ? Binary(pending, std::move(result), std::move(operand)) : std::move(operand);
    }
    return result;
  }

  // One operand with its prefix minuses (a `+` changes nothing).
  ast::ExprPtr BuildOperand(const std::vector<Token*>& minuses,
                            TqlParser::PostfixContext* postfix) {
    size_t negations = minuses.size();
    ast::ExprPtr e;
    // `-9223372036854775808` is the one integer whose magnitude alone does not fit.
    auto* literal = SoleLiteral(postfix);
    if (negations > 0 && literal != nullptr &&
        literal->getStart()->getType() == TqlParser::INTEGER) {
      auto v = ParseInteger(literal->getStart(), /*negated=*/true);
      e = ast::MakeLiteral(
          {offsets_->RangeOf(minuses.back()).begin, offsets_->RangeOf(literal).end},
          {TypeId::kInt, v.value_or(0), 0, {}});
      --negations;
    } else {
      e = BuildPostfix(postfix);
    }
    for (size_t k = 0; k < negations; ++k) {
      const SourceRange range{offsets_->RangeOf(minuses[negations - 1 - k]).begin, e->range.end};
      if (e->kind == ast::ExprKind::kLiteral && FoldNegation(&e->literal)) {
        e->range = range;
        continue;
      }
      std::vector<ast::ExprPtr> args;
      args.push_back(std::move(e));
      e = Node(ast::ExprKind::kUnary, ast::Op::kNegate, range, std::move(args));
    }
    return e;
  }

  // Negative numbers are literals, so `-5` and `-5ms` print and bind as constants.
  static bool FoldNegation(ast::Literal* l) {
    if (l->type == TypeId::kFloat) {
      l->float_value = -l->float_value;
      return true;
    }
    if ((l->type == TypeId::kInt || l->type == TypeId::kDuration) && l->int_value > INT64_MIN) {
      l->int_value = -l->int_value;
      return true;
    }
    return false;
  }

  static bool IsLiteralToken(size_t t) {
    switch (t) {
      case TqlParser::INTEGER:
      case TqlParser::FLOAT:
      case TqlParser::DURATION:
      case TqlParser::BAD_DURATION:
      case TqlParser::STRING:
      case TqlParser::DATETIME:
      case TqlParser::TRUE_LITERAL:
      case TqlParser::FALSE_LITERAL:
      case TqlParser::NULL_LITERAL:
        return true;
      default:
        return false;
    }
  }

  static TqlParser::LiteralContext* SoleLiteral(TqlParser::PostfixContext* ctx) {
    if (ctx->children.size() != 1) return nullptr;
    auto* primary = Child<TqlParser::PrimaryContext>(ctx, 0);
    if (!IsLiteralToken(primary->getStart()->getType())) return nullptr;
    return Child<TqlParser::LiteralContext>(primary, 0);
  }

  ast::ExprPtr BuildPostfix(TqlParser::PostfixContext* ctx) {
    // primary (LBRACKET expression RBRACKET | DOT identifier)*
    ast::ExprPtr e = BuildPrimary(Child<TqlParser::PrimaryContext>(ctx, 0));
    size_t i = 1;
    // The `.identifier`s right after a name are parts of the name.
    if (e->kind == ast::ExprKind::kName) {
      for (; i + 1 < ctx->children.size() && TokenTypeAt(ctx, i) == TqlParser::DOT; i += 2) {
        auto* part = Child<TqlParser::IdentifierContext>(ctx, i + 1);
        e->name.parts.push_back(IdentifierText(part));
        e->name.range.end = offsets_->RangeOf(part).end;
        e->range.end = e->name.range.end;
      }
    }
    while (i + 1 < ctx->children.size()) {
      std::vector<ast::ExprPtr> args;
      args.push_back(std::move(e));
      bool member = false;
      SourceRange end;
      if (TokenTypeAt(ctx, i) == TqlParser::LBRACKET) {
        auto* index = Child<TqlParser::ExpressionContext>(ctx, i + 1);
        args.push_back(BuildExpr(index));
        end = offsets_->RangeOf(TokenAt(ctx, i + 2));
        i += 3;
      } else {
        auto* key = Child<TqlParser::IdentifierContext>(ctx, i + 1);
        end = offsets_->RangeOf(key);
        args.push_back(ast::MakeLiteral(end, {TypeId::kString, 0, 0, IdentifierText(key)}));
        member = true;
        i += 2;
      }
      const SourceRange range{args[0]->range.begin, end.end};
      e = Node(ast::ExprKind::kIndex, ast::Op::kNone, range, std::move(args));
      e->member = member;
    }
    return e;
  }

  ast::ExprPtr BuildPrimary(TqlParser::PrimaryContext* ctx) {
    const SourceRange range = offsets_->RangeOf(ctx);
    const size_t first = ctx->getStart()->getType();
    if (IsLiteralToken(first)) {
      return ast::MakeLiteral(range, BuildLiteral(Child<TqlParser::LiteralContext>(ctx, 0)));
    }
    if (first == TqlParser::PARAMETER) {
      auto e = Node(ast::ExprKind::kParameter, ast::Op::kNone, range, {});
      e->name.range = range;
      e->name.parts.push_back(ctx->getStart()->getText().substr(1));
      return e;
    }
    if (first == TqlParser::LPAREN) {
      return BuildExpr(Child<TqlParser::ExpressionContext>(ctx, 1));
    }
    if (ctx->children.size() >= 3) {
      // identifier LPAREN expressionList? RPAREN
      std::vector<ast::ExprPtr> args;
      if (ctx->children.size() == 4) {
        auto* list = Child<TqlParser::ExpressionListContext>(ctx, 2);
        for (size_t i = 0; i < list->children.size(); i += 2) {
          args.push_back(BuildExpr(Child<TqlParser::ExpressionContext>(list, i)));
        }
      }
      auto e = Node(ast::ExprKind::kCall, ast::Op::kNone, range, std::move(args));
      e->name = NameOf(Child<TqlParser::IdentifierContext>(ctx, 0));
      return e;
    }
    auto e = Node(ast::ExprKind::kName, ast::Op::kNone, range, {});
    e->name = NameOf(Child<TqlParser::IdentifierContext>(ctx, 0));
    return e;
  }

  // --- literals

  std::optional<int64_t> ParseInteger(Token* token, bool negated) {
    std::string digits;
    for (char c : token->getText()) {
      if (c != '_') digits += c;
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    const uint64_t limit = negated ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    if (ec != std::errc() || p != digits.data() + digits.size() || v > limit) {
      Report(offsets_->RangeOf(token), "integer literal is out of range",
             {"integers are 64-bit: from -9223372036854775808 to 9223372036854775807"});
      return std::nullopt;
    }
    return negated ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  }

  ast::Literal BuildLiteral(TqlParser::LiteralContext* ctx) {
    Token* t = ctx->getStart();
    const std::string text = t->getText();
    ast::Literal l;
    switch (t->getType()) {
      case TqlParser::INTEGER:
        l.type = TypeId::kInt;
        l.int_value = ParseInteger(t, false).value_or(0);
        break;
      case TqlParser::FLOAT: {
        std::string digits;
        for (char c : text) {
          if (c != '_') digits += c;
        }
        l.type = TypeId::kFloat;
        l.float_value = std::strtod(digits.c_str(), nullptr);
        if (!std::isfinite(l.float_value)) {
          Report(offsets_->RangeOf(t), "float literal is out of range",
                 {"floats are 64-bit: at most about 1.8e308"});
          l.float_value = 0;
        }
        break;
      }
      case TqlParser::DURATION: {
        l.type = TypeId::kDuration;
        bool exact = true;
        auto v = ParseDuration(text, &exact);
        if (v && !exact) {
          Report(offsets_->RangeOf(t), "duration is not a whole number of nanoseconds",
                 {"the smallest unit is 1ns"});
        }
        if (!v) {
          Report(offsets_->RangeOf(t), "duration literal is out of range",
                 {"durations are 64-bit nanoseconds: at most about 106751d"});
        }
        l.int_value = v.value_or(0);
        break;
      }
      case TqlParser::BAD_DURATION:
        ReportBadDuration(t, text);
        break;
      case TqlParser::STRING:
        l.type = TypeId::kString;
        l.string_value = Unquote(t);
        break;
      case TqlParser::DATETIME: {
        const size_t open = text.find('(');
        std::string inner = text.substr(open + 1, text.size() - open - 2);
        while (!inner.empty() && (inner.back() == ' ' || inner.back() == '\t')) inner.pop_back();
        size_t start = inner.find_first_not_of(" \t");
        inner = start == std::string::npos ? "" : inner.substr(start);
        auto v = ParseTimestamp(inner);
        l.type = TypeId::kTimestamp;
        if (!v) {
          Report(offsets_->RangeOf(t), fmt::format("invalid datetime '{}'", inner),
                 {"write RFC 3339, e.g. datetime(2026-11-24T10:00:00Z) or datetime(2026-11-24)"});
        }
        l.int_value = v.value_or(0);
        break;
      }
      case TqlParser::TRUE_LITERAL:
        l.type = TypeId::kBool;
        l.int_value = 1;
        break;
      case TqlParser::FALSE_LITERAL:
        l.type = TypeId::kBool;
        break;
      default:
        l.type = TypeId::kNull;
        break;
    }
    return l;
  }

  void ReportBadDuration(Token* t, const std::string& text) {
    const size_t unit_start = text.find_first_not_of("0123456789._");
    const std::string unit = text.substr(unit_start);
    if (unit == "e" || unit == "E") {
      Report(offsets_->RangeOf(t), "expected digits after the exponent", {"write 1e3 or 1.5e-3"});
      return;
    }
    std::string message = fmt::format("unknown duration unit '{}'", unit);
    std::optional<std::string> suggestion;
    for (const auto& s : kUnitSpellings) {
      if (unit == s.written) suggestion = s.unit;
    }
    if (!suggestion) suggestion = ClosestName(unit, {"d", "h", "m", "s", "ms", "us", "ns"});
    if (suggestion) message += fmt::format("; did you mean '{}'?", *suggestion);
    Report(offsets_->RangeOf(t), message,
           {"the units are d, h, m, s, ms, us, ns (e.g. 250ms, 1.5s)"});
  }

  // The value of a string token: quotes removed, escapes decoded (bad escapes reported).
  std::string Unquote(Token* token) {
    const std::string text = token->getText();
    const SourceRange range = offsets_->RangeOf(token);
    std::string out;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      if (text[i] != '\\') {
        out += text[i];
        continue;
      }
      const char e = text[++i];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\'':
          out += '\'';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case '0':
          out += '\0';
          break;
        case 'u': {
          if (!DecodeUnicodeEscape(text, &i, &out)) {
            Report({range.begin + static_cast<uint32_t>(i) - 1,
                    range.begin + static_cast<uint32_t>(i) + 1},
                   "invalid \\u escape", {"write \\u followed by four hex digits, e.g. \\u00e9"});
          }
          break;
        }
        default: {
          // `i` counts bytes of the token text, which starts at range.begin.
          const auto at = range.begin + static_cast<uint32_t>(i) - 1;
          Report({at, at + 2}, fmt::format("unknown escape sequence '\\{}'", e),
                 {"the escapes are \\\" \\' \\\\ \\n \\r \\t \\b \\f \\0 \\uXXXX"});
          out += e;
        }
      }
    }
    return out;
  }

  // REQUIRES: text[*i] == 'u'. Decodes \uXXXX (and a surrogate pair) as UTF-8.
  static bool DecodeUnicodeEscape(const std::string& text, size_t* i, std::string* out) {
    auto hex4 = [&text](size_t at, uint32_t* v) {
      if (at + 4 > text.size()) return false;
      *v = 0;
      for (size_t k = at; k < at + 4; ++k) {
        const char c = text[k];
        const int d = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
        if (d < 0) return false;
        *v = *v * 16 + static_cast<uint32_t>(d);
      }
      return true;
    };
    uint32_t cp;
    if (!hex4(*i + 1, &cp)) return false;
    *i += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low;
      if (*i + 2 < text.size() && text[*i + 1] == '\\' && text[*i + 2] == 'u' &&
          hex4(*i + 3, &low) && low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        *i += 6;
      } else {
        return false;
      }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return false;
    }
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return true;
  }

  const OffsetMap* offsets_;
  std::vector<Diagnostic>* diagnostics_;
  bool reported_height_ = false;
};

}  // namespace

ParseResult ParseQuery(std::string_view text) {
  ParseResult result;
  if (text.size() > kMaxQueryBytes) {
    result.diagnostics.push_back(Error(
        {},
        fmt::format("the query is {} bytes long; the limit is {}", text.size(), kMaxQueryBytes)));
    return result;
  }
  if (const size_t bad = FindInvalidUtf8(text); bad != kValidUtf8) {
    result.diagnostics.push_back(Error({static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1)},
                                       "the query is not valid UTF-8"));
    return result;
  }
  // One lexer and parser per thread, reused: building them (and their ATN simulators) costs
  // as much as parsing a short query. Parse trees are freed after each query.
  struct Machinery {
    antlr4::ANTLRInputStream input;
    TqlLexer lexer{&input};
    antlr4::CommonTokenStream tokens{&lexer};
    TqlParser parser{&tokens};
    Machinery() {
      lexer.removeErrorListeners();  // every character makes a token; ERROR_CHAR is reported
      parser.removeErrorListeners();
    }
  };
  thread_local Machinery m;
  struct FreeTrees {
    Machinery& m;
    ~FreeTrees() {
      m.parser.removeErrorListeners();
      m.parser.getTreeTracker().reset();
    }
  } free_trees{m};
  try {
    const OffsetMap offsets(text);
    m.input.load(std::string(text));
    m.lexer.setInputStream(&m.input);
    m.tokens.setTokenSource(&m.lexer);
    m.tokens.fill();
    antlr4::CommonTokenStream& tokens = m.tokens;
    SplitBangWords(tokens.getTokens());
    CheckTokens(tokens.getTokens(), offsets, &result.diagnostics);
    for (Token* t : tokens.getTokens()) {
      if (t->getChannel() != Token::HIDDEN_CHANNEL) continue;
      result.has_comments = true;
      const SourceRange r = offsets.RangeOf(t);
      std::string comment(text.substr(r.begin, r.end - r.begin));
      while (!comment.empty() && (comment.back() == '\r' || comment.back() == ' '))
        comment.pop_back();
      result.comments.push_back({r, std::move(comment)});
    }
    if (!result.diagnostics.empty()) return result;
    TqlParser& parser = m.parser;
    parser.setTokenStream(&tokens);
    // Two-stage parsing: the fast SLL prediction mode succeeds for almost every query; only
    // when it fails is the query parsed again in full LL mode, with error reporting.
    TqlParser::QueryContext* tree = nullptr;
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    try {
      tree = parser.query();
    } catch (const antlr4::ParseCancellationException&) {
      tree = nullptr;
    }
    SyntaxErrorListener listener(&offsets, &tokens, &result.diagnostics);
    if (tree == nullptr) {
      tokens.seek(0);
      parser.reset();
      parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
      parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
          antlr4::atn::PredictionMode::LL);
      parser.addErrorListener(&listener);
      tree = parser.query();
    }
    if (listener.errors() > 0) return result;
    ast::Query query = AstBuilder(&offsets, &result.diagnostics).BuildQuery(tree);
    if (!HasErrors(result.diagnostics)) result.query = std::move(query);
  } catch (const std::exception& e) {
    result.diagnostics.push_back(Error({}, fmt::format("internal parser error: {}", e.what())));
    result.query.reset();
  }
  return result;
}

}  // namespace tql
