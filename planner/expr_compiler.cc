#include "planner/expr_compiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "frontend/function_registry.h"
#include "runtime/functions.h"

namespace tql {

using ast::ExprKind;
using ast::Op;

PExprPtr CastTo(PExprPtr e, TypeId type) {
  if (e->type == type) return e;
  // A path into JSON reads its value as the wanted type directly (one parse, not two).
  if (e->kind == PKind::kPath && e->type == TypeId::kDynamic && type != TypeId::kNull) {
    e->type = type;
    return e;
  }
  auto c = std::make_unique<PExpr>();
  c->kind = PKind::kCast;
  c->type = type;
  c->args.push_back(std::move(e));
  return c;
}

namespace {

PExprPtr Constant(Value v, TypeId type) {
  auto c = std::make_unique<PExpr>();
  c->kind = PKind::kConstant;
  c->type = type;
  c->constant = v.type == type || v.null ? std::move(v) : CastValue(v, type);
  c->constant.type = type;
  return c;
}

PExprPtr Node(PKind kind, TypeId type) {
  auto n = std::make_unique<PExpr>();
  n->kind = kind;
  n->type = type;
  return n;
}

std::shared_ptr<const tql::Regex> CompileRegex(const std::string& pattern) {
  Result<std::shared_ptr<const tql::Regex>> re = tql::Regex::Make(pattern);
  return re.ok() ? std::move(re).value() : nullptr;
}

bool IsNumeric(TypeId t) {
  return t == TypeId::kInt || t == TypeId::kFloat;
}

// The type two operands of a comparison are converted to.
TypeId CompareType(TypeId a, TypeId b) {
  if (a == b) return a == TypeId::kDynamic ? TypeId::kString : a;
  if (a == TypeId::kDynamic || b == TypeId::kDynamic) {
    const TypeId other = a == TypeId::kDynamic ? b : a;
    if (IsNumeric(other)) return TypeId::kFloat;
    return other;
  }
  // int64 storage on both sides: the timestamp or duration names the type (no conversion).
  if (IsInt64Backed(a) && IsInt64Backed(b)) return a == TypeId::kInt ? b : a;
  if (IsNumeric(a) && IsNumeric(b)) return TypeId::kFloat;
  if ((a == TypeId::kFloat && IsInt64Backed(b)) || (b == TypeId::kFloat && IsInt64Backed(a))) {
    return TypeId::kFloat;
  }
  return a;
}

class Compiler {
 public:
  explicit Compiler(const CompileContext& ctx) : ctx_(ctx) {}

  // The range of the innermost expression that failed.
  std::optional<SourceRange> error_range;

  Result<PExprPtr> Compile(const ast::Expr& e) {
    Result<PExprPtr> r = CompileNode(e);
    if (!r.ok() && !error_range) error_range = e.range;
    return r;
  }

 private:
  Result<PExprPtr> CompileNode(const ast::Expr& e) {
    switch (e.kind) {
      case ExprKind::kLiteral:
        return Literal(e);
      case ExprKind::kParameter: {
        const std::string& name = e.name.parts[0];
        auto it =
            ctx_.parameters ? ctx_.parameters->find(name) : decltype(ctx_.parameters->end()){};
        if (ctx_.parameters == nullptr || it == ctx_.parameters->end()) {
          return Status::InvalidInput("${} has no value; bind it (tql run --param {}=VALUE)", name,
                                      name);
        }
        PExprPtr c = Constant(it->second, e.type);
        c->parameter = name;
        return c;
      }
      case ExprKind::kName:
        return Name(e);
      case ExprKind::kCall:
        return Call(e);
      case ExprKind::kUnary: {
        TQL_ASSIGN_OR_RETURN(PExprPtr a, Compile(*e.args[0]));
        if (e.op == Op::kNot) {
          auto n = Node(PKind::kNot, TypeId::kBool);
          n->args.push_back(CastTo(std::move(a), TypeId::kBool));
          return n;
        }
        const TypeId t =
            e.type == TypeId::kNull || e.type == TypeId::kDynamic ? TypeId::kFloat : e.type;
        if (a->type == TypeId::kNull) return Constant(Value::Null(t), t);
        auto n = Node(PKind::kNegate, t);
        n->args.push_back(CastTo(std::move(a), t));
        return n;
      }
      case ExprKind::kBinary:
        return Binary(e);
      case ExprKind::kIn:
        return In(e);
      case ExprKind::kBetween: {
        TQL_ASSIGN_OR_RETURN(PExprPtr x, Compile(*e.args[0]));
        TQL_ASSIGN_OR_RETURN(PExprPtr lo, Compile(*e.args[1]));
        TQL_ASSIGN_OR_RETURN(PExprPtr hi, Compile(*e.args[2]));
        auto both = Node(PKind::kAnd, TypeId::kBool);
        PExprPtr x2 = CloneExpr(*x);
        both->args.push_back(Compare(CompareOp::kGe, std::move(x), std::move(lo)));
        both->args.push_back(Compare(CompareOp::kLe, std::move(x2), std::move(hi)));
        if (!e.negated) return both;
        auto n = Node(PKind::kNot, TypeId::kBool);
        n->args.push_back(std::move(both));
        return n;
      }
      case ExprKind::kIndex: {
        TQL_ASSIGN_OR_RETURN(PExprPtr base, Compile(*e.args[0]));
        TQL_ASSIGN_OR_RETURN(PExprPtr index, Compile(*e.args[1]));
        if (base->type == TypeId::kNull)
          return Constant(Value::Null(TypeId::kDynamic), TypeId::kDynamic);
        // `x.key` on a path is a longer path.
        if (e.member && base->kind == PKind::kPath && base->type == TypeId::kDynamic &&
            index->kind == PKind::kConstant && !index->constant.null) {
          base->path.push_back(index->constant.s);
          return base;
        }
        auto n = Node(PKind::kIndex, TypeId::kDynamic);
        n->args.push_back(std::move(base));
        if (index->type == TypeId::kDynamic) index = CastTo(std::move(index), TypeId::kString);
        n->args.push_back(std::move(index));
        return n;
      }
    }
    return Status::Internal("unknown expression");
  }

  Result<PExprPtr> Literal(const ast::Expr& e) {
    const ast::Literal& l = e.literal;
    Value v;
    switch (l.type) {
      case TypeId::kNull:
        v = Value::Null();
        break;
      case TypeId::kBool:
        v = Value::Bool(l.int_value != 0);
        break;
      case TypeId::kInt:
        v = Value::Int(l.int_value);
        break;
      case TypeId::kFloat:
        v = Value::Float(l.float_value);
        break;
      case TypeId::kString:
        v = Value::String(l.string_value);
        break;
      case TypeId::kTimestamp:
        v = Value::Timestamp(l.int_value);
        break;
      case TypeId::kDuration:
        v = Value::Duration(l.int_value);
        break;
      case TypeId::kDynamic:
        v = Value::Dynamic(l.string_value);
        break;
    }
    return Constant(std::move(v), l.type);
  }

  Result<PExprPtr> Name(const ast::Expr& e) {
    if (e.column.empty()) return Constant(Value::Null(e.type), e.type);
    const int index = ctx_.input->IndexOf(e.column);
    if (index < 0) return Status::Internal("column '{}' is not in the plan's input", e.column);
    auto c = Node(PKind::kColumn, ctx_.input->field(index).type);
    c->column = index;
    if (e.path.empty()) return c;
    auto p = Node(PKind::kPath, TypeId::kDynamic);
    p->path = e.path;
    p->args.push_back(std::move(c));
    return p;
  }

  PExprPtr Compare(CompareOp op, PExprPtr a, PExprPtr b) {
    if (a->type == TypeId::kNull || b->type == TypeId::kNull) {
      return Constant(Value::Null(TypeId::kBool), TypeId::kBool);
    }
    // The column (or expression) first and the constant second: the kernels' fast paths and
    // the statistics of the scan look for that shape.
    if (a->kind == PKind::kConstant && b->kind != PKind::kConstant) {
      std::swap(a, b);
      op = FlipCompare(op);
    }
    const TypeId t = CompareType(a->type, b->type);
    auto n = Node(PKind::kCompare, TypeId::kBool);
    n->compare_op = op;
    n->args.push_back(CastTo(std::move(a), t));
    n->args.push_back(CastTo(std::move(b), t));
    return n;
  }

  Result<PExprPtr> Binary(const ast::Expr& e) {
    if (e.op == Op::kAnd || e.op == Op::kOr) {
      auto n = Node(e.op == Op::kAnd ? PKind::kAnd : PKind::kOr, TypeId::kBool);
      for (const ast::ExprPtr& a : e.args) {
        TQL_ASSIGN_OR_RETURN(PExprPtr c, Compile(*a));
        // Flatten nested chains of the same connective.
        if (c->kind == n->kind) {
          for (PExprPtr& x : c->args) n->args.push_back(std::move(x));
        } else {
          n->args.push_back(CastTo(std::move(c), TypeId::kBool));
        }
      }
      return n;
    }
    TQL_ASSIGN_OR_RETURN(PExprPtr a, Compile(*e.args[0]));
    TQL_ASSIGN_OR_RETURN(PExprPtr b, Compile(*e.args[1]));
    switch (e.op) {
      case Op::kEq:
        return Compare(CompareOp::kEq, std::move(a), std::move(b));
      case Op::kNe:
        return Compare(CompareOp::kNe, std::move(a), std::move(b));
      case Op::kLt:
        return Compare(CompareOp::kLt, std::move(a), std::move(b));
      case Op::kLe:
        return Compare(CompareOp::kLe, std::move(a), std::move(b));
      case Op::kGt:
        return Compare(CompareOp::kGt, std::move(a), std::move(b));
      case Op::kGe:
        return Compare(CompareOp::kGe, std::move(a), std::move(b));
      case Op::kMatches:
      case Op::kNotMatches:
        return Regex(std::move(a), std::move(b), e.op == Op::kNotMatches);
      case Op::kAdd:
        return Arith(ArithOp::kAdd, e.type, std::move(a), std::move(b));
      case Op::kSub:
        return Arith(ArithOp::kSub, e.type, std::move(a), std::move(b));
      case Op::kMul:
        return Arith(ArithOp::kMul, e.type, std::move(a), std::move(b));
      case Op::kDiv:
        return Arith(ArithOp::kDiv, e.type, std::move(a), std::move(b));
      case Op::kMod:
        return Arith(ArithOp::kMod, e.type, std::move(a), std::move(b));
      default:
        return Text(e.op, std::move(a), std::move(b));
    }
  }

  Result<PExprPtr> Arith(ArithOp op, TypeId result, PExprPtr a, PExprPtr b) {
    if (result == TypeId::kNull) result = op == ArithOp::kDiv ? TypeId::kFloat : TypeId::kNull;
    if (a->type == TypeId::kNull || b->type == TypeId::kNull || result == TypeId::kNull) {
      return Constant(Value::Null(result), result);
    }
    // A dynamic operand beside a timestamp or duration counts nanoseconds: read it as a
    // duration, so the integer kernel keeps all 64 bits.
    if (IsInt64Backed(result) && result != TypeId::kInt && op != ArithOp::kDiv) {
      if (a->type == TypeId::kDynamic && IsInt64Backed(b->type))
        a = CastTo(std::move(a), TypeId::kDuration);
      if (b->type == TypeId::kDynamic && IsInt64Backed(a->type))
        b = CastTo(std::move(b), TypeId::kDuration);
    }
    // Integer kernels for int64 storage; float for anything else (dynamic operands too).
    const bool int_kernel = IsInt64Backed(a->type) && IsInt64Backed(b->type) &&
                            op != ArithOp::kDiv && IsInt64Backed(result);
    auto n = Node(PKind::kArith, int_kernel || op == ArithOp::kDiv ? result : TypeId::kFloat);
    n->arith_op = op;
    if (int_kernel) {
      n->args.push_back(std::move(a));
      n->args.push_back(std::move(b));
      return n;
    }
    // A float kernel: int64 operands are converted by the kernel, anything else (a dynamic
    // value) becomes a float first.
    auto to_number = [](PExprPtr x) {
      return IsInt64Backed(x->type) || x->type == TypeId::kFloat
                 ? std::move(x)
                 : CastTo(std::move(x), TypeId::kFloat);
    };
    n->args.push_back(to_number(std::move(a)));
    n->args.push_back(to_number(std::move(b)));
    if (op == ArithOp::kDiv) n->type = TypeId::kFloat;
    return CastTo(std::move(n), result);
  }

  Result<PExprPtr> Regex(PExprPtr a, PExprPtr pattern, bool negated) {
    if (a->type == TypeId::kNull) return Constant(Value::Null(TypeId::kBool), TypeId::kBool);
    a = CastTo(std::move(a), TypeId::kString);
    if (pattern->kind == PKind::kConstant) {
      if (pattern->constant.null) return Constant(Value::Null(TypeId::kBool), TypeId::kBool);
      const std::string text = ValueToText(pattern->constant);
      auto re = CompileRegex(text);
      if (!re) return Status::InvalidInput("invalid regular expression: {}", text);
      auto n = Node(PKind::kRegex, TypeId::kBool);
      n->regex = std::move(re);
      n->negated = negated;
      n->args.push_back(std::move(a));
      return n;
    }
    auto n = Node(PKind::kCall, TypeId::kBool);
    n->function_name = negated ? "$not_matches" : "$matches";
    n->function = negated ? NotMatchesRow : MatchesRow;
    n->args.push_back(std::move(a));
    n->args.push_back(CastTo(std::move(pattern), TypeId::kString));
    return n;
  }

  static Value MatchRow(const Value* args, bool negated) {
    if (args[0].null || args[1].null) return Value::Null(TypeId::kBool);
    const tql::Regex* re = CachedRegex(args[1].s);
    if (re == nullptr) return Value::Null(TypeId::kBool);
    return Value::Bool(re->PartialMatch(args[0].s) != negated);
  }
  static Value MatchesRow(const Value* args, int, const EvalContext&, const PExpr&) {
    return MatchRow(args, false);
  }
  static Value NotMatchesRow(const Value* args, int, const EvalContext&, const PExpr&) {
    return MatchRow(args, true);
  }

  static Value TextRow(const Value* args, int, const EvalContext&, const PExpr& call) {
    if (args[0].null || args[1].null) return Value::Null(TypeId::kBool);
    const std::string needle = call.case_sensitive ? args[1].s : Utf8Lower(args[1].s);
    return Value::Bool(TextMatches(call.text_op, call.case_sensitive, args[0].s, needle) !=
                       call.negated);
  }

  Result<PExprPtr> Text(Op op, PExprPtr a, PExprPtr b) {
    TextOp t = TextOp::kContains;
    bool cs = false, neg = false;
    switch (op) {
      case Op::kContains:
        t = TextOp::kContains;
        break;
      case Op::kNotContains:
        t = TextOp::kContains;
        neg = true;
        break;
      case Op::kContainsCs:
        t = TextOp::kContains;
        cs = true;
        break;
      case Op::kNotContainsCs:
        t = TextOp::kContains;
        cs = true;
        neg = true;
        break;
      case Op::kHas:
        t = TextOp::kHas;
        break;
      case Op::kNotHas:
        t = TextOp::kHas;
        neg = true;
        break;
      case Op::kHasCs:
        t = TextOp::kHas;
        cs = true;
        break;
      case Op::kNotHasCs:
        t = TextOp::kHas;
        cs = true;
        neg = true;
        break;
      case Op::kStartsWith:
        t = TextOp::kStartsWith;
        break;
      case Op::kNotStartsWith:
        t = TextOp::kStartsWith;
        neg = true;
        break;
      case Op::kStartsWithCs:
        t = TextOp::kStartsWith;
        cs = true;
        break;
      case Op::kNotStartsWithCs:
        t = TextOp::kStartsWith;
        cs = true;
        neg = true;
        break;
      case Op::kEndsWith:
        t = TextOp::kEndsWith;
        break;
      case Op::kNotEndsWith:
        t = TextOp::kEndsWith;
        neg = true;
        break;
      case Op::kEndsWithCs:
        t = TextOp::kEndsWith;
        cs = true;
        break;
      case Op::kNotEndsWithCs:
        t = TextOp::kEndsWith;
        cs = true;
        neg = true;
        break;
      default:
        return Status::Internal("unknown operator");
    }
    if (a->type == TypeId::kNull || b->type == TypeId::kNull) {
      return Constant(Value::Null(TypeId::kBool), TypeId::kBool);
    }
    a = CastTo(std::move(a), TypeId::kString);
    b = CastTo(std::move(b), TypeId::kString);
    if (b->kind == PKind::kConstant) {
      if (b->constant.null) return Constant(Value::Null(TypeId::kBool), TypeId::kBool);
      auto n = Node(PKind::kText, TypeId::kBool);
      n->text_op = t;
      n->case_sensitive = cs;
      n->negated = neg;
      n->needle = cs ? b->constant.s : Utf8Lower(b->constant.s);
      n->args.push_back(std::move(a));
      return n;
    }
    auto n = Node(PKind::kCall, TypeId::kBool);
    n->function = TextRow;
    n->function_name = "$text";
    n->text_op = t;
    n->case_sensitive = cs;
    n->negated = neg;
    n->args.push_back(std::move(a));
    n->args.push_back(std::move(b));
    return n;
  }

  Result<PExprPtr> In(const ast::Expr& e) {
    TQL_ASSIGN_OR_RETURN(PExprPtr x, Compile(*e.args[0]));
    std::vector<PExprPtr> items;
    for (size_t i = 1; i < e.args.size(); ++i) {
      TQL_ASSIGN_OR_RETURN(PExprPtr item, Compile(*e.args[i]));
      items.push_back(std::move(item));
    }
    if (x->type == TypeId::kNull) return Constant(Value::Null(TypeId::kBool), TypeId::kBool);
    if (x->type == TypeId::kDynamic) {
      // Each item meets the dynamic value as `==` would (converted per item at run time).
      auto n = Node(PKind::kIn, TypeId::kBool);
      n->negated = e.negated;
      n->args.push_back(std::move(x));
      for (PExprPtr& item : items) n->args.push_back(std::move(item));
      return n;
    }
    // The items' common type with x decides the comparison type.
    TypeId t = x->type;
    for (const PExprPtr& item : items) {
      if (item->type != TypeId::kNull) t = CompareType(t, item->type);
    }
    if (t == TypeId::kDynamic) t = TypeId::kString;
    auto n = Node(PKind::kIn, TypeId::kBool);
    n->negated = e.negated;
    n->args.push_back(CastTo(std::move(x), t));
    for (PExprPtr& item : items) {
      n->args.push_back(item->type == TypeId::kNull ? Constant(Value::Null(t), t)
                                                    : CastTo(std::move(item), t));
    }
    return n;
  }

  Result<PExprPtr> Call(const ast::Expr& e) {
    std::string name = e.name.Joined();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const FunctionInfo* info = FindFunction(name);
    if (info != nullptr && info->kind == FunctionKind::kAggregate) {
      return Status::InvalidInput("aggregate '{}' can only be used in summarize", name);
    }
    if (name == "exists" || name == "isnull" || name == "isnotnull") {
      TQL_ASSIGN_OR_RETURN(PExprPtr a, Compile(*e.args[0]));
      auto n = Node(PKind::kIsNull, TypeId::kBool);
      n->negated = name != "isnull";
      n->args.push_back(std::move(a));
      return n;
    }
    std::vector<PExprPtr> args;
    for (const ast::ExprPtr& a : e.args) {
      TQL_ASSIGN_OR_RETURN(PExprPtr c, Compile(*a));
      args.push_back(std::move(c));
    }
    const TypeId t = e.type;
    if (name == "tostring" || name == "toint" || name == "tolong" || name == "tofloat" ||
        name == "todouble" || name == "tobool" || name == "todatetime" || name == "toduration") {
      if (args[0]->type == TypeId::kNull) return Constant(Value::Null(t), t);
      auto c = Node(PKind::kCast, t);
      c->args.push_back(std::move(args[0]));
      return c;
    }
    if (name == "iif" || name == "case") {
      auto n = Node(PKind::kIf, t);
      for (size_t i = 0; i < args.size(); ++i) {
        const bool condition = i + 1 < args.size() && i % 2 == 0;
        n->args.push_back(condition ? CastTo(std::move(args[i]), TypeId::kBool)
                                    : std::move(args[i]));
      }
      return n;
    }
    if (name == "coalesce") {
      auto n = Node(PKind::kCoalesce, t);
      n->args = std::move(args);
      return n;
    }
    if (name == "now") return Constant(Value::Timestamp(ctx_.now), TypeId::kTimestamp);
    ScalarFunction f = FindScalarFunction(name);
    if (f == nullptr) return Status::Internal("function '{}' has no implementation", name);
    // Math of a dynamic value (typed dynamic by the binder) computes on floats.
    const bool numeric = name == "abs" || name == "round" || name == "floor" || name == "ceil" ||
                         name == "bin" || name == "min_of" || name == "max_of";
    if (numeric && t == TypeId::kDynamic) {
      auto n = Node(PKind::kCall, TypeId::kFloat);
      n->function = f;
      n->function_name = name;
      for (PExprPtr& a : args) {
        n->args.push_back(a->type == TypeId::kDynamic ? CastTo(std::move(a), TypeId::kFloat)
                                                      : std::move(a));
      }
      return CastTo(std::move(n), t);
    }
    auto n = Node(PKind::kCall, t);
    n->function = f;
    n->function_name = name;
    // A constant pattern is compiled once.
    const int pattern = name == "extract" ? 0 : name == "replace_regex" ? 1 : -1;
    if (pattern >= 0 && args[static_cast<size_t>(pattern)]->kind == PKind::kConstant &&
        !args[static_cast<size_t>(pattern)]->constant.null) {
      const std::string text = ValueToText(args[static_cast<size_t>(pattern)]->constant);
      n->regex = CompileRegex(text);
      if (!n->regex) return Status::InvalidInput("invalid regular expression: {}", text);
    }
    n->args = std::move(args);
    return n;
  }

  const CompileContext& ctx_;
};

}  // namespace

Result<PExprPtr> CompileExpr(const ast::Expr& e, const CompileContext& ctx,
                             SourceRange* error_range) {
  Compiler c(ctx);
  Result<PExprPtr> r = c.Compile(e);
  if (!r.ok() && error_range != nullptr && c.error_range) *error_range = *c.error_range;
  return r;
}

namespace {

// -1: not a bool constant; else 0 false, 1 true, 2 null.
int BoolConstant(const PExpr& e) {
  if (e.kind != PKind::kConstant || e.type != TypeId::kBool) return -1;
  return e.constant.null ? 2 : static_cast<int>(e.constant.i != 0);
}

// `true and x` is x, `false and x` is false; `false or x` is x, `true or x` is true. Nulls
// stay: `null and x` depends on x.
bool SimplifyConnective(PExprPtr* slot) {
  PExpr& e = **slot;
  if (e.kind != PKind::kAnd && e.kind != PKind::kOr) return false;
  const int identity = e.kind == PKind::kAnd ? 1 : 0;
  const int absorbing = 1 - identity;
  std::vector<PExprPtr> kept;
  bool changed = false;
  for (PExprPtr& a : e.args) {
    const int b = BoolConstant(*a);
    if (b == absorbing) {
      *slot = std::move(a);
      return true;
    }
    if (b == identity) {
      changed = true;
      continue;
    }
    kept.push_back(std::move(a));
  }
  if (kept.empty()) {
    auto c = std::make_unique<PExpr>();
    c->kind = PKind::kConstant;
    c->type = TypeId::kBool;
    c->constant = Value::Bool(identity == 1);
    *slot = std::move(c);
    return true;
  }
  if (kept.size() == 1) {
    *slot = std::move(kept[0]);
    return true;
  }
  e.args = std::move(kept);
  return changed;
}

}  // namespace

int FoldConstants(PExprPtr* slot, const EvalContext& ctx) {
  int folded = 0;
  for (PExprPtr& a : (*slot)->args) folded += FoldConstants(&a, ctx);
  if (SimplifyConnective(slot)) ++folded;
  PExpr& e = **slot;
  if (e.kind == PKind::kConstant || !IsConstantExpr(e)) return folded;
  Result<Value> v = EvaluateConstant(e, ctx);
  if (!v.ok()) return folded;
  auto c = std::make_unique<PExpr>();
  c->kind = PKind::kConstant;
  c->type = e.type;
  c->constant = std::move(v).value();
  c->constant.type = e.type;
  *slot = std::move(c);
  return folded + 1;
}

}  // namespace tql
