//! Random fused updates (filters, one key or none, aggregates) over the columns of
//! random_predicates.h, and the summarize that runs one: on the interpreter, or through a
//! compiled kernel. Shared by the JIT's tests and its differential fuzzer.
#pragma once

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/aggregate.h"
#include "runtime/kernel_compiler.h"
#include "runtime/pipeline.h"
#include "tests/random_predicates.h"
#include "tests/test_util.h"

namespace tql::test {

// A fusion with the expressions it points into.
struct RandomFusion {
  std::vector<PExprPtr> exprs;
  AggregateFusion fusion;
  std::vector<TypeId> result_types;  // per aggregate

  // Appends an aggregate of `kind` over `arg` (null: none) whose result is of `type`.
  void Add(AggKind kind, PExprPtr arg, TypeId type) {
    const PExpr* a = nullptr;
    if (arg != nullptr) {
      exprs.push_back(std::move(arg));
      a = exprs.back().get();
    }
    fusion.aggregates.push_back({kind, a});
    result_types.push_back(type);
  }

  std::string ToString() const {
    const SchemaPtr schema = TestSchema();
    std::string s = "where";
    for (const PExpr* c : fusion.conjuncts) s += " [" + c->ToString(*schema) + "]";
    s += " by " + (fusion.key ? fusion.key->ToString(*schema) : std::string("()"));
    for (size_t a = 0; a < fusion.aggregates.size(); ++a) {
      const auto& agg = fusion.aggregates[a];
      s += " agg" + std::to_string(static_cast<int>(agg.kind)) + "(" +
           (agg.arg ? agg.arg->ToString(*schema) : std::string()) + ")";
    }
    return s;
  }
};

inline RandomFusion MakeRandomFusion(std::mt19937_64& rng, Generator& gen) {
  RandomFusion f;
  auto own = [&](PExprPtr e) {
    f.exprs.push_back(std::move(e));
    return f.exprs.back().get();
  };
  const int conjuncts = static_cast<int>(rng() % 3);
  for (int c = 0; c < conjuncts; ++c) {
    f.fusion.conjuncts.push_back(own(gen.Bool(1 + static_cast<int>(rng() % 3))));
  }
  auto bin = [&](PExprPtr x, Value size) {
    const TypeId type = x->type;
    auto e = Node(PKind::kCall, type, {});
    e->function_name = "bin";
    e->args.push_back(std::move(x));
    e->args.push_back(Constant(std::move(size)));
    return e;
  };
  switch (rng() % 7) {
    case 0:
      break;  // one group
    case 6:
      // A string key: dictionary-encoded in most batches (codes to groups), plain in some
      // (the kernel declines those; the interpreter takes them, into the same groups).
      f.fusion.key = own(Column(6, TypeId::kString));
      break;
    case 1:
      f.fusion.key = own(Column(0, TypeId::kInt));
      break;
    case 2:
      f.fusion.key = own(Column(1, TypeId::kDuration));
      break;
    case 3:
      f.fusion.key = own(bin(Column(1, TypeId::kDuration), Value::Duration(2000000000)));
      break;
    case 4:
      // Extreme integers: bins below the range of int64 are the null key.
      f.fusion.key =
          own(bin(Column(0, TypeId::kInt), Value::Int(1 + static_cast<int64_t>(rng() % 7))));
      break;
    default:
      f.fusion.key = own(gen.Int(2));
      break;
  }
  const int aggregates = 1 + static_cast<int>(rng() % 4);
  for (int a = 0; a < aggregates; ++a) {
    switch (rng() % 9) {
      case 7:
        f.Add(AggKind::kPercentile, gen.Float(1), TypeId::kFloat);
        break;
      case 8:
        f.Add(AggKind::kPercentile, gen.Int(1), TypeId::kInt);
        break;
      case 0:
        f.Add(AggKind::kCount, nullptr, TypeId::kInt);
        break;
      case 1: {
        const int which = static_cast<int>(rng() % 3);
        PExprPtr x = which == 0 ? gen.Int(1) : which == 1 ? gen.Float(1) : gen.Bool(1);
        f.Add(AggKind::kCount, std::move(x), TypeId::kInt);
        break;
      }
      case 2:
        f.Add(AggKind::kCountIf, gen.Bool(1), TypeId::kInt);
        break;
      case 3:
        f.Add(AggKind::kSum, gen.Int(2), TypeId::kInt);
        break;
      case 4:
        f.Add(AggKind::kSum, gen.Float(2), TypeId::kFloat);
        break;
      case 5:
        f.Add(AggKind::kAvg, gen.Int(2), TypeId::kFloat);
        break;
      default:
        f.Add(AggKind::kAvg, gen.Float(2), TypeId::kFloat);
        break;
    }
  }
  return f;
}

// Collects what reaches it as text, one line per row.
class TextSink final : public BatchConsumer {
 public:
  Status Consume(Chunk& chunk) override {
    const Batch& b = chunk.batch;
    Status status = Status::Ok();
    chunk.sel.ForEach([&](int64_t r) {
      std::string line;
      for (int c = 0; c < b.num_columns(); ++c) {
        // One NaN: its sign depends on the order of the operands that made it.
        const Vector& v = b.column(c);
        const bool nan = v.type() == TypeId::kFloat && v.IsValid(r) && std::isnan(v.GetFloat(r));
        line += (nan ? std::string("nan") : CellText(v, r)) + "|";
      }
      lines.push_back(std::move(line));
    });
    return status;
  }
  Status Finish() override { return Status::Ok(); }
  std::vector<std::string> lines;
};

// The summarize of `f` over `batches` (each with its selection), as text: the groups in the
// order they were first seen, the key then each aggregate. With `kernel`, the fused update
// (the interpreter where the kernel declines a batch); without, filters then the update on
// the interpreter. With `kernel_from` > 0, the operator runs the fused filters on the
// interpreter until that batch, where the kernel becomes ready (as a background compile).
inline Result<std::vector<std::string>> RunFusion(
    const RandomFusion& f, const std::vector<std::pair<Batch, Selection>>& batches,
    std::shared_ptr<const CompiledAggregate> kernel, size_t kernel_from = 0) {
  std::vector<Field> fields;
  std::vector<const PExpr*> keys;
  if (f.fusion.key != nullptr) {
    keys.push_back(f.fusion.key);
    fields.push_back({"key", f.fusion.key->type});
  }
  std::vector<AggregateSpec> specs;
  for (size_t a = 0; a < f.fusion.aggregates.size(); ++a) {
    AggregateSpec spec;
    spec.kind = f.fusion.aggregates[a].kind;
    spec.fraction = 0.9;
    if (f.fusion.aggregates[a].arg != nullptr) spec.args.push_back(f.fusion.aggregates[a].arg);
    spec.type = f.result_types[a];
    spec.name = "a" + std::to_string(a);
    fields.push_back({spec.name, spec.type});
    specs.push_back(std::move(spec));
  }
  auto post = std::make_shared<Schema>(fields);
  std::vector<PExprPtr> outputs;
  std::vector<const PExpr*> output_ptrs;
  for (size_t i = 0; i < fields.size(); ++i) {
    outputs.push_back(Column(static_cast<int>(i), fields[i].type));
    output_ptrs.push_back(outputs.back().get());
  }
  const EvalContext ctx;
  TextSink sink;
  AggregateOperator op(keys, std::move(specs), post, output_ptrs, post, &ctx, &sink);
  const bool fused = kernel != nullptr;
  auto pending = std::make_shared<PendingAggregate>();
  if (fused && kernel_from > 0) {
    pending->kernel = std::move(kernel);
    op.Fuse(f.fusion, nullptr, pending);
  } else if (fused) {
    op.Fuse(f.fusion, std::move(kernel), nullptr);
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    const auto& [batch, sel] = batches[i];
    if (i == kernel_from) pending->ready.store(true);
    Chunk chunk{batch, sel};
    if (!fused) {
      TQL_ASSIGN_OR_RETURN(chunk.sel, SelectAllTrue(f.fusion.conjuncts, batch, chunk.sel, ctx));
    }
    TQL_RETURN_IF_ERROR(op.Consume(chunk));
  }
  TQL_RETURN_IF_ERROR(op.Finish());
  return sink.lines;
}

// Random batches for a fusion: dense and sparse selections, empty batches, and now and then a
// batch whose int column is all null without values (a layout kernels decline).
inline std::vector<std::pair<Batch, Selection>> RandomBatches(std::mt19937_64& rng, int count) {
  std::vector<std::pair<Batch, Selection>> out;
  for (int i = 0; i < count; ++i) {
    const int64_t n = rng() % 5 == 0 ? 0 : static_cast<int64_t>(rng() % 700);
    Batch batch = RandomBatch(rng, n);
    if (rng() % 8 == 0) {
      std::vector<Vector> columns;
      for (int c = 0; c < batch.num_columns(); ++c) columns.push_back(batch.column(c));
      columns[0] = Vector::Nulls(TypeId::kInt, n);
      batch = Batch(batch.schema(), std::move(columns), n);
    }
    Selection sel = Selection::All(n);
    if (rng() % 3 == 0) {
      std::vector<int32_t> some;
      for (int64_t r = 0; r < n; ++r) {
        if (rng() % 3 != 0) some.push_back(static_cast<int32_t>(r));
      }
      sel = Selection::Of(std::move(some));
    }
    out.emplace_back(std::move(batch), std::move(sel));
  }
  return out;
}

}  // namespace tql::test
