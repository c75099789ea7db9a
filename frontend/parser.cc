#include "frontend/parser.h"

#include <antlr4-runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "TqlLexer.h"
#include "TqlParser.h"
#include "runtime/utf8.h"

namespace tql {

namespace {

using grammar::TqlLexer;
using grammar::TqlParser;

// What a token type means to a user, for "expected ..." messages.
std::string DescribeTokenType(size_t type) {
  switch (type) {
    case TqlParser::INTEGER:
      return "a number";
    case TqlParser::IDENT:
    case TqlParser::BACKTICK_IDENT:
      return "a name";
    case TqlParser::TAKE:
      return "'take'";
    case TqlParser::LIMIT:
      return "'limit'";
    case TqlParser::PIPE:
      return "'|'";
    case TqlParser::SEMI:
      return "';'";
    case TqlParser::DOT:
      return "'.'";
    case antlr4::Token::EOF:
      return "the end of the query";
    default:
      return "a token";
  }
}

std::string DescribeToken(const antlr4::Token* t) {
  if (t == nullptr || t->getType() == antlr4::Token::EOF) return "the end of the query";
  std::string text = t->getText();
  if (text.size() > 40) text = text.substr(0, 40) + "...";
  return fmt::format("'{}'", text);
}

// ANTLR indexes code points; diagnostics use byte offsets into the UTF-8 text.
class OffsetMap {
 public:
  explicit OffsetMap(std::string_view text) {
    for (uint32_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) byte_of_.push_back(i);
    }
    byte_of_.push_back(static_cast<uint32_t>(text.size()));
  }
  uint32_t Byte(size_t code_point) const {
    return byte_of_[std::min(code_point, byte_of_.size() - 1)];
  }
  SourceRange RangeOf(const antlr4::Token* t) const {
    if (t == nullptr) return {};
    const uint32_t begin = Byte(t->getStartIndex());
    if (t->getType() == antlr4::Token::EOF) return {begin, begin};
    return {begin, Byte(t->getStopIndex() + 1)};
  }

 private:
  std::vector<uint32_t> byte_of_;
};

// Collects syntax errors as diagnostics instead of printing them.
class DiagnosticErrorListener : public antlr4::BaseErrorListener {
 public:
  DiagnosticErrorListener(const OffsetMap* offsets, std::vector<Diagnostic>* out)
      : offsets_(offsets), out_(out) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t,
                   size_t char_position, const std::string&, std::exception_ptr) override {
    if (!out_->empty()) return;  // later errors are usually consequences of the first
    Diagnostic d;
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (parser == nullptr) {  // a lexer error: one character that starts no token
      d.range = {offsets_->Byte(char_position), offsets_->Byte(char_position + 1)};
      d.message = "unexpected character";
      out_->push_back(std::move(d));
      return;
    }
    d.range = offsets_->RangeOf(offending);
    const antlr4::misc::IntervalSet expected = parser->getExpectedTokens();
    std::vector<std::string> wanted;
    for (size_t type : expected.toList()) {
      std::string w = DescribeTokenType(type);
      if (std::find(wanted.begin(), wanted.end(), w) == wanted.end()) wanted.push_back(w);
    }
    std::string after;
    if (auto* prev = parser->getTokenStream()->LT(-1); prev != nullptr) {
      after = fmt::format(" after {}", DescribeToken(prev));
      // A missing token at the end points just past the last one, not at a later line.
      if (offending == nullptr || offending->getType() == antlr4::Token::EOF) {
        const uint32_t end = offsets_->RangeOf(prev).end;
        d.range = {end, end};
      }
    }
    if (wanted.empty()) {
      d.message = fmt::format("unexpected {}", DescribeToken(offending));
    } else {
      std::string list = wanted.front();
      for (size_t i = 1; i < wanted.size(); ++i) {
        list += (i + 1 == wanted.size() ? " or " : ", ") + wanted[i];
      }
      d.message = fmt::format("expected {}{}, found {}", list, after, DescribeToken(offending));
    }
    out_->push_back(std::move(d));
  }

 private:
  const OffsetMap* offsets_;
  std::vector<Diagnostic>* out_;
};

class AstBuilder {
 public:
  AstBuilder(const OffsetMap* offsets, std::vector<Diagnostic>* diagnostics)
      : offsets_(offsets), diagnostics_(diagnostics) {}

  ast::Query Build(TqlParser::QueryContext* ctx) {
    ast::Query q;
    q.range = RangeOfContext(ctx);
    auto* pipeline = ctx->pipeline();
    auto* name = pipeline->source()->name();
    q.source = NameText(name);
    q.source_range = RangeOfContext(name);
    for (auto* stage : pipeline->stage()) {
      if (auto* take = dynamic_cast<TqlParser::TakeStageContext*>(stage)) {
        ast::TakeStage s;
        s.range = RangeOfContext(take);
        s.count = ParseCount(take->INTEGER()->getSymbol());
        q.stages.emplace_back(s);
      }
    }
    return q;
  }

 private:
  SourceRange RangeOfContext(antlr4::ParserRuleContext* ctx) const {
    const uint32_t begin = offsets_->Byte(ctx->getStart()->getStartIndex());
    const auto* stop = ctx->getStop();
    const uint32_t end = stop ? offsets_->Byte(stop->getStopIndex() + 1) : begin;
    return {begin, std::max(begin, end)};
  }

  static std::string NameText(TqlParser::NameContext* name) {
    if (auto* quoted = name->BACKTICK_IDENT()) {
      std::string t = quoted->getText();
      return t.substr(1, t.size() - 2);
    }
    std::string out;
    for (auto* part : name->IDENT()) {
      if (!out.empty()) out += '.';
      out += part->getText();
    }
    return out;
  }

  int64_t ParseCount(antlr4::Token* token) {
    std::string digits;
    for (char c : token->getText()) {
      if (c != '_') digits += c;
    }
    int64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || p != digits.data() + digits.size()) {
      Diagnostic d;
      d.range = offsets_->RangeOf(token);
      d.message = "integer literal is out of range";
      d.hints.push_back("integers are 64-bit: at most 9223372036854775807");
      diagnostics_->push_back(std::move(d));
      return 0;
    }
    return v;
  }

  const OffsetMap* offsets_;
  std::vector<Diagnostic>* diagnostics_;
};

}  // namespace

ParseResult ParseQuery(std::string_view text) {
  ParseResult result;
  if (text.size() > kMaxQueryBytes) {
    Diagnostic d;
    d.message =
        fmt::format("the query is {} bytes long; the limit is {}", text.size(), kMaxQueryBytes);
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  if (const size_t bad = FindInvalidUtf8(text); bad != kValidUtf8) {
    Diagnostic d;
    d.range = {static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1)};
    d.message = "the query is not valid UTF-8";
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  try {
    const OffsetMap offsets(text);
    antlr4::ANTLRInputStream input(text.data(), text.size());
    TqlLexer lexer(&input);
    DiagnosticErrorListener listener(&offsets, &result.diagnostics);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&listener);
    antlr4::CommonTokenStream tokens(&lexer);
    TqlParser parser(&tokens);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    TqlParser::QueryContext* tree = parser.query();
    for (antlr4::Token* t : tokens.getTokens()) {
      if (t->getChannel() == antlr4::Token::HIDDEN_CHANNEL) result.has_comments = true;
    }
    if (!result.diagnostics.empty()) return result;
    ast::Query query = AstBuilder(&offsets, &result.diagnostics).Build(tree);
    if (!HasErrors(result.diagnostics)) result.query = std::move(query);
  } catch (const std::exception& e) {
    Diagnostic d;
    d.message = fmt::format("internal parser error: {}", e.what());
    result.diagnostics.push_back(std::move(d));
    result.query.reset();
  }
  return result;
}

}  // namespace tql
