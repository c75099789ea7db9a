//! Physical expressions of the interpreter: a typed tree built by the planner from a bound
//! query, evaluated a batch at a time over the rows of a selection vector.
//!
//! Every node's children already have the types its kernel needs (the planner inserts the
//! casts), so kernels switch on storage only. Results are either a vector as long as the batch,
//! defined at the selected rows (other rows are null), or a constant.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "runtime/batch.h"
#include "runtime/regex.h"
#include "runtime/status.h"
#include "runtime/value.h"

namespace tql {

// Rows of a batch that are still alive, in increasing order; `dense` means all rows
// 0..count-1 without an index array.
class Selection {
 public:
  static Selection All(int64_t n) {
    Selection s;
    s.dense_ = true;
    s.count_ = n;
    return s;
  }
  static Selection Of(std::vector<int32_t> rows) {
    Selection s;
    s.count_ = static_cast<int64_t>(rows.size());
    s.rows_ = std::move(rows);
    return s;
  }
  bool dense() const { return dense_; }
  int64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The i-th selected row.
  int64_t row(int64_t i) const { return dense_ ? i : rows_[static_cast<size_t>(i)]; }
  const std::vector<int32_t>& rows() const { return rows_; }

  template <typename F>
  void ForEach(F&& f) const {
    if (dense_) {
      for (int64_t i = 0; i < count_; ++i) f(i);
    } else {
      for (int32_t r : rows_) f(static_cast<int64_t>(r));
    }
  }

 private:
  bool dense_ = false;
  int64_t count_ = 0;
  std::vector<int32_t> rows_;
};

// An evaluated expression: a vector (batch-long) or a constant.
struct Datum {
  bool is_constant = false;
  Vector vector;
  Value constant;
  TypeId type() const { return is_constant ? constant.type : vector.type(); }
  static Datum Of(Vector v) {
    Datum d;
    d.vector = std::move(v);
    return d;
  }
  static Datum Constant(Value v) {
    Datum d;
    d.is_constant = true;
    d.constant = std::move(v);
    return d;
  }
  // The value at `row` (the constant for every row).
  void Read(int64_t row, Value* out) const {
    if (is_constant) {
      *out = constant;
    } else {
      ReadValue(vector, row, out);
    }
  }
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
// The operator with its operands swapped (`a < b` is `b > a`).
CompareOp FlipCompare(CompareOp op);
// `==`, `!=`, `<`, ...
const char* CompareOpText(CompareOp op);
enum class ArithOp : uint8_t { kAdd, kSub, kMul, kDiv, kMod };
enum class TextOp : uint8_t { kContains, kHas, kStartsWith, kEndsWith };

struct EvalContext;
struct PExpr;
using PExprPtr = std::unique_ptr<PExpr>;

// A scalar function, evaluated row by row: `args` hold the arguments' values at one row.
using ScalarFunction = Value (*)(const Value* args, int num_args, const EvalContext& ctx,
                                 const PExpr& call);

// Per-dictionary memo of a string predicate: one bit per dictionary entry.
struct DictionaryMemo;
std::shared_ptr<DictionaryMemo> NewDictionaryMemo();

// A hash set of constants for `in` lists.
struct ValueSet {
  TypeId type = TypeId::kNull;
  std::unordered_set<int64_t> ints;
  std::unordered_set<double> floats;
  std::unordered_set<std::string> strings;
  bool has_nan = false;
  bool has_null = false;  // the list holds a null: `x in (1, null)` is null when x is not 1
  bool Contains(const Value& v) const;
};

enum class PKind : uint8_t {
  kColumn,    // column `column` of the batch
  kConstant,  // `constant`
  kCast,      // args[0] converted to `type`
  kPath,      // the JSON value at `path` inside args[0] (string or dynamic) -> dynamic
  kIndex,     // args[0][args[1]] -> dynamic
  kArith,     // args[0] op args[1], both of the kernel type `operand_type`
  kNegate,    // -args[0]
  kCompare,   // args[0] op args[1], same type
  kText,      // args[0] text_op args[1] (a string constant), `case_sensitive`, `negated`
  kRegex,     // args[0] =~ `regex` (`negated` for !~)
  kIn,        // args[0] in `set` (`negated` for !in); list items that are not constants are
              // args[1..] compared one by one
  kAnd,       // n-ary, three-valued
  kOr,        // n-ary, three-valued
  kNot,
  kIsNull,    // isnull(args[0]) (`negated`: isnotnull)
  kIf,        // iif / case: args = c1, v1, c2, v2, ..., else
  kCoalesce,  // first non-null argument
  kSearch,    // any of args (string/dynamic) contains `needle` (or matches `regex`)
  kCall,      // `function(args...)` row by row
};

struct PExpr {
  PKind kind = PKind::kConstant;
  TypeId type = TypeId::kNull;  // result type
  std::vector<PExprPtr> args;

  int column = -1;  // kColumn
  Value constant;   // kConstant
  CompareOp compare_op = CompareOp::kEq;
  ArithOp arith_op = ArithOp::kAdd;
  TextOp text_op = TextOp::kContains;
  bool case_sensitive = false;
  bool negated = false;
  std::vector<std::string> path;        // kPath
  std::shared_ptr<const Regex> regex;   // kRegex, kSearch with regex, regex functions
  std::string needle;                   // kText (lower-cased when !case_sensitive), kSearch
  std::shared_ptr<const ValueSet> set;  // kIn
  ScalarFunction function = nullptr;    // kCall
  std::string function_name;            // kCall: for explain and errors
  // kText/kRegex/kCompare on a dictionary column: results per dictionary entry, shared by
  // every batch that uses the same dictionary.
  std::shared_ptr<DictionaryMemo> memo;

  std::string parameter;  // kConstant: the `$name` it was bound from (for explain)

  // The expression as text, for explain: columns named from the schema of its input.
  std::string ToString(const Schema& input) const;
};

class QueryControl;

struct EvalContext {
  int64_t now = 0;           // now(): fixed for the whole query
  int64_t memory_limit = 0;  // bytes the query's operators may hold (0: no limit)
  // Cancellation, limits and the memory operators hold (null: none).
  QueryControl* control = nullptr;
};

// Evaluates `e` at the selected rows of `batch`.
Result<Datum> Evaluate(const PExpr& e, const Batch& batch, const Selection& sel,
                       const EvalContext& ctx);

// The selected rows where the bool expression `e` is true (false and null drop the row).
Result<Selection> SelectTrue(const PExpr& e, const Batch& batch, const Selection& sel,
                             const EvalContext& ctx);

// The selected rows where every one of `conjuncts` is true, applied in order (each to the rows
// the ones before kept).
Result<Selection> SelectAllTrue(const std::vector<const PExpr*>& conjuncts, const Batch& batch,
                                Selection sel, const EvalContext& ctx);

// A constant expression's value (REQUIRES: `e` reads no column).
Result<Value> EvaluateConstant(const PExpr& e, const EvalContext& ctx);

// True when `e` reads no column (and so can be folded).
bool IsConstantExpr(const PExpr& e);

// Gathers the selected rows of `v` into a new dense vector (dictionary codes stay encoded).
Vector Gather(const Vector& v, const Selection& sel);
// A deep copy.
PExprPtr CloneExpr(const PExpr& e);
// Calls `f(column)` for every column the expression reads.
void ForEachColumn(const PExpr& e, const std::function<void(int)>& f);
// Rewrites the column indexes the expression reads.
void RemapColumns(PExpr* e, const std::vector<int>& remap);
// `e` over the inputs of a projection: a copy in which each column i is a copy of
// `columns[i]` (the projection's expression for its output column i).
PExprPtr SubstituteColumns(const PExpr& e, const std::vector<PExprPtr>& columns);

// A constant as a vector of `length` rows.
Vector ConstantVector(const Value& v, TypeId type, int64_t length);

// Helpers for kernels and functions.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view lowered_needle);
bool HasToken(std::string_view haystack, std::string_view needle, bool case_sensitive);
// The text operator `op` (before negation); `needle` lower-cased unless `case_sensitive`.
bool TextMatches(TextOp op, bool case_sensitive, std::string_view text, std::string_view needle);
std::string AsciiLower(std::string_view s);
std::string Utf8Lower(std::string_view s);
std::string Utf8Upper(std::string_view s);

}  // namespace tql
