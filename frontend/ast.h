//! The TQL abstract syntax tree. Every node carries the source range it was parsed from; the
//! binder fills in types. `FormatQuery` prints the canonical text of a query.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/diagnostics.h"
#include "runtime/types.h"

namespace tql::ast {

// A possibly dotted name as written: `http.status_code` is {"http", "status_code"}.
struct Name {
  SourceRange range;
  std::vector<std::string> parts;

  std::string Joined() const;  // "http.status_code"
};

enum class ExprKind {
  kLiteral,    // `value`
  kName,       // `name`
  kParameter,  // `$name`
  kCall,       // `function(args)`
  kUnary,      // `op args[0]`
  kBinary,     // `args[0] op args[1]`; and/or chains are n-ary: `args[0] op args[1] op ...`
  kIn,         // `args[0] in (args[1..])`, `negated` for `!in`
  kBetween,    // `args[0] between (args[1] .. args[2])`, `negated` for `!between`
  kIndex,      // `args[0][args[1]]`, or `args[0].key` when `member`
};

enum class Op {
  kNone,
  // unary
  kNot,
  kNegate,
  // logical (n-ary)
  kAnd,
  kOr,
  // comparison
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kMatches,
  kNotMatches,
  kContains,
  kNotContains,
  kContainsCs,
  kNotContainsCs,
  kHas,
  kNotHas,
  kHasCs,
  kNotHasCs,
  kStartsWith,
  kNotStartsWith,
  kStartsWithCs,
  kNotStartsWithCs,
  kEndsWith,
  kNotEndsWith,
  kEndsWithCs,
  kNotEndsWithCs,
  // arithmetic
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
};

// The operator's spelling in canonical text (`==`, `and`, `!contains`).
const char* OpText(Op op);

struct Literal {
  TypeId type = TypeId::kNull;  // kNull, kBool, kInt, kFloat, kString, kTimestamp, kDuration
  int64_t int_value = 0;        // bool (0/1), int, timestamp, duration
  double float_value = 0;
  std::string string_value;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  SourceRange range;
  Op op = Op::kNone;
  bool negated = false;
  Literal literal;  // kLiteral
  Name name;        // kName, kParameter (parts[0]), kCall (the function name)
  std::vector<ExprPtr> args;

  // Height of the tree below (1 for a leaf): the parser caps it so that nothing that walks an
  // expression recursively can run out of stack.
  int height = 1;

  // Filled in by the binder.
  TypeId type = TypeId::kNull;
  // kName: the column it reads and, for a path into a dynamic (or JSON text) column, the
  // keys below it; empty `column` for an unknown name (a typed null) or a trace-level field.
  std::string column;
  std::vector<std::string> path;
  bool implicit = false;  // kCall: a cast the binder inserted
  bool member = false;    // kIndex written `.key` (args[1] is the key as a string literal)
};

ExprPtr MakeLiteral(SourceRange range, Literal literal);
ExprPtr Clone(const Expr& e);

// An expression with an optional output name: `EXPR`, `EXPR as NAME`, `NAME = EXPR`.
struct NamedExpr {
  std::optional<Name> name;
  bool assigned = false;  // written `NAME = EXPR` (not `EXPR as NAME`)
  ExprPtr expr;
};

struct SortItem {
  ExprPtr expr;
  bool descending = false;
  std::optional<bool> nulls_first;  // absent: the default (nulls last)
};

// A value written as a literal integer or as a `$parameter`.
struct RowCount {
  SourceRange range;
  int64_t value = 0;
  std::optional<std::string> parameter;
};

enum class SpansetKind {
  kFilter,  // `{ expr }`, `{}` when expr is null
  kAnd,
  kOr,
  kChild,
  kDescendant,
  kParent,
  kAncestor,
  kSibling,  // > >> < << ~
};

struct Spanset;
using SpansetPtr = std::unique_ptr<Spanset>;

struct Spanset {
  SpansetKind kind = SpansetKind::kFilter;
  SourceRange range;
  bool negated = false;  // `!>`, `!>>`, `!<`, `!<<`, `!~`
  ExprPtr filter;        // kFilter
  SpansetPtr lhs, rhs;   // every other kind
};

enum class StageKind {
  kWhere,
  kSearch,
  kExtend,
  kProject,
  kProjectAway,
  kProjectRename,
  kSummarize,
  kSort,
  kTake,
  kTop,
  kDistinct,
  kCount,
  kMatch,
  kJoin,
  kUnion,
};

enum class JoinKind { kInner, kLeft, kSemi, kAnti };

struct Pipeline;

struct Stage {
  StageKind kind = StageKind::kWhere;
  SourceRange range;
  SourceRange keyword_range;  // the stage's keyword(s), for diagnostics

  ExprPtr predicate;   // where
  std::string needle;  // search
  SourceRange needle_range;
  bool match_case = false, regex = false;
  std::vector<Name> names;                     // search in (...), project-away, union sources
  std::vector<NamedExpr> items;                // extend, project, summarize aggregates, distinct
  std::vector<NamedExpr> keys;                 // summarize by
  std::vector<std::pair<Name, Name>> renames;  // project-rename NEW = OLD
  std::vector<SortItem> sort;                  // sort, top
  RowCount count;                              // take, top
  SpansetPtr spanset;                          // match
  JoinKind join_kind = JoinKind::kInner;
  bool join_kind_written = false;
  std::unique_ptr<Pipeline> subquery;  // join
  std::vector<ExprPtr> join_keys;      // join on
  std::optional<Name> with_source;     // union withsource=NAME
};

struct Pipeline {
  SourceRange range;
  // The source: one name, or a union of several.
  bool source_is_union = false;
  Name source;
  std::vector<Name> union_sources;
  std::optional<Name> union_with_source;
  std::vector<Stage> stages;
};

struct Let {
  SourceRange range;
  Name name;  // one part
  ExprPtr value;
};

struct Query {
  SourceRange range;
  std::vector<Let> lets;
  Pipeline pipeline;
};

// A `// line` or `/* block */` comment as written, with its place in the source.
struct Comment {
  SourceRange range;
  std::string text;
};

// Canonical text: the same query always prints the same way, whatever spacing, keyword case,
// aliases (`filter`, `limit`, `order by`, `&&`) and redundant parentheses it was written with.
// Stages go one per line, `| stage`; lets one per line before the source.
std::string FormatQuery(const Query& query);
// The canonical text with the comments of `source` kept: a comment on a line of its own goes on
// its own line before the let, source or stage it precedes (a blank line before it is kept);
// a comment after an element on the line where it ends stays at the end of its line. A comment
// inside an element (between its tokens) moves to the line before the element. The result ends
// with a line break and formats to itself.
std::string FormatQueryKeepingComments(const Query& query, std::string_view source,
                                       const std::vector<Comment>& comments);
std::string FormatPipeline(const Pipeline& pipeline);
std::string FormatStage(const Stage& stage);  // without the leading '|'
std::string FormatExpr(const Expr& expr);
std::string FormatSpanset(const Spanset& spanset);
// A name as it must be written: segments that are not plain identifiers, or are reserved
// words, in backticks.
std::string FormatName(const Name& name);
std::string FormatNamePart(const std::string& part);
// A literal as canonical text: `42`, `1.5`, `"a\"b"`, `1500ms`, `datetime(2026-...Z)`, `null`.
std::string FormatLiteral(const Literal& literal);

// Words that cannot be used as plain names (they must be written in backticks).
bool IsReservedWord(const std::string& word);

}  // namespace tql::ast
