#include "planner/executor.h"

#include <functional>
#include <thread>
#include <vector>

#include "runtime/aggregate.h"
#include "runtime/operators.h"
#include "runtime/trace.h"

namespace tql {

namespace {

// Forwards chunks but not Finish: the inputs of a union share one consumer, finished once.
class UnionInput final : public BatchConsumer {
 public:
  explicit UnionInput(BatchConsumer* next) : next_(next) {}
  Status Consume(Chunk& chunk) override { return next_->Consume(chunk); }
  Status Finish() override { return Status::Ok(); }
  bool Satisfied() const override { return next_->Satisfied(); }

 private:
  BatchConsumer* next_;
};

class Executor {
 public:
  Executor(const SourceTables& sources, ScanStats* stats, const ExecOptions& options)
      : sources_(sources), stats_(stats) {
    ctx_.now = options.now;
    ctx_.memory_limit = options.memory_limit;
    ctx_.control = options.control;
    streams_ = options.streams;
    compiler_ = options.compiler;
    adaptive_ = options.adaptive;
  }

  // Partial aggregation: the summarize at `split` keeps its state (ExecutePartial), or takes
  // its groups from `partials` instead of its input (MergePartials).
  void SetSplit(const PlanNode* split, const std::vector<std::string_view>* partials) {
    split_ = split;
    partials_ = partials;
  }
  AggregateOperator* split_operator() const { return split_operator_; }

  // Push mode: the scan of `source` does not read; its chain of operators waits in
  // push_root() for batches (PushExecution).
  void SetPushSource(const std::string& source) { push_source_ = source; }
  BatchConsumer* push_root() const { return push_root_; }
  // `node`'s output is `table` instead of what its inputs compute (a snapshot of a push).
  void SetOverride(const PlanNode* node, const Table* table) {
    override_node_ = node;
    override_table_ = table;
  }

  // Runs `node` and everything below it, pushing its output into `out`.
  Status Run(const PlanNode& node, BatchConsumer* out) {
    if (&node == override_node_) {
      std::vector<int> all(static_cast<size_t>(override_table_->schema->num_fields()));
      for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
      return RunScan("the pushed rows", *override_table_, all, {}, out, stats_, ctx_.control);
    }
    switch (node.kind) {
      case PlanNode::Kind::kScan:
        return Scan(node, node.filter ? Filter(*node.filter, out) : out);
      case PlanNode::Kind::kFilter:
        return Run(*node.input(), Filter(*node.predicate, out));
      case PlanNode::Kind::kProject: {
        std::vector<const PExpr*> exprs;
        for (const PExprPtr& e : node.exprs) exprs.push_back(e.get());
        auto op = std::make_unique<ProjectOperator>(exprs, node.output_schema, &ctx_, out);
        if (compiler_ != nullptr && adaptive_) {
          op->UseKernel(nullptr, compiler_->CompileProjectionAsync(exprs));
        } else if (compiler_ != nullptr) {
          op->UseKernel(compiler_->CompileProjection(exprs), nullptr);
        }
        return Run(*node.input(), Own(std::move(op)));
      }
      case PlanNode::Kind::kSort:
      case PlanNode::Kind::kTopK: {
        std::vector<SortKey> keys;
        for (const PlanSortKey& k : node.keys) {
          keys.push_back({k.expr.get(), k.descending, k.nulls_first});
        }
        const int64_t limit = node.kind == PlanNode::Kind::kTopK ? node.limit : -1;
        return Run(*node.input(), Own(std::make_unique<SortOperator>(
                                      std::move(keys), limit, node.output_schema, &ctx_, out)));
      }
      case PlanNode::Kind::kLimit:
        return Run(*node.input(), Own(std::make_unique<LimitOperator>(node.limit, out)));
      case PlanNode::Kind::kDistinct:
        return Run(*node.input(), Own(std::make_unique<DistinctOperator>(ctx_.control, out)));
      case PlanNode::Kind::kCount: {
        auto op = std::make_unique<CountOperator>(node.output_schema, out);
        AggregateFusion fusion;
        std::shared_ptr<const CompiledAggregate> kernel;
        std::shared_ptr<PendingAggregate> pending;
        if (const PlanNode* scan = CompileFused(node, &fusion, &kernel, &pending)) {
          op->Fuse(std::move(fusion.conjuncts), std::move(kernel), std::move(pending), &ctx_);
          return Scan(*scan, Own(std::move(op)));
        }
        return Run(*node.input(), Own(std::move(op)));
      }
      case PlanNode::Kind::kUnion: {
        UnionInput* shared = static_cast<UnionInput*>(Own(std::make_unique<UnionInput>(out)));
        for (const auto& input : node.inputs) {
          if (out->Satisfied()) break;
          TQL_RETURN_IF_ERROR(Run(*input, shared));
        }
        return out->Finish();
      }
      case PlanNode::Kind::kAggregate: {
        std::vector<const PExpr*> keys, outputs;
        for (const PExprPtr& k : node.group_keys) keys.push_back(k.get());
        for (const PExprPtr& e : node.exprs) outputs.push_back(e.get());
        std::vector<AggregateSpec> specs;
        for (const PlanAggregate& a : node.aggregates) {
          AggregateSpec spec;
          spec.kind = a.kind;
          spec.fraction = a.fraction;
          spec.type = a.type;
          spec.max_items = a.max_items;
          spec.bucket = a.bucket;
          spec.name = a.function;
          for (const PExprPtr& x : a.args) spec.args.push_back(x.get());
          specs.push_back(std::move(spec));
        }
        const bool split = &node == split_;
        auto op = std::make_unique<AggregateOperator>(
            std::move(keys), std::move(specs), node.post_schema, std::move(outputs),
            node.output_schema, &ctx_, out, split && partials_ == nullptr);
        AggregateOperator* agg = op.get();
        Own(std::move(op));
        // Filters straight above a scan, then this update: one kernel, when it compiles (also
        // for a shard's partial state; merging partials has no input to fuse).
        if (!split || partials_ == nullptr) {
          AggregateFusion fusion;
          std::shared_ptr<const CompiledAggregate> kernel;
          std::shared_ptr<PendingAggregate> pending;
          if (const PlanNode* scan = CompileFused(node, &fusion, &kernel, &pending)) {
            agg->Fuse(fusion, std::move(kernel), std::move(pending));
            if (split) split_operator_ = agg;
            return Scan(*scan, agg);
          }
        }
        if (!split) return Run(*node.input(), agg);
        split_operator_ = agg;
        if (partials_ == nullptr) return Run(*node.input(), agg);
        for (std::string_view p : *partials_) TQL_RETURN_IF_ERROR(agg->MergePartial(p));
        return agg->Finish();
      }
      case PlanNode::Kind::kJoin: {
        // The right side runs first, into the hash table; then the left streams through.
        CollectSink right(node.inputs[1]->output_schema, ctx_.control, "the right side of a join");
        TQL_RETURN_IF_ERROR(Run(*node.inputs[1], &right));
        std::vector<JoinOperator::Key> keys;
        for (const PlanNode::JoinKey& k : node.join_keys) {
          keys.push_back({k.left, k.right, k.as_float});
        }
        if (node.join_kind == PlanNode::JoinKind::kInner) {
          return Run(*node.input(), Own(std::make_unique<SmallerSideJoin>(
                                        std::move(keys), node.inputs[0]->output_schema,
                                        node.output_schema, right.TakeTable(), ctx_.control, out)));
        }
        auto op = std::make_unique<JoinOperator>(static_cast<JoinOperator::Kind>(node.join_kind),
                                                 std::move(keys), node.inputs[0]->output_schema,
                                                 node.output_schema, ctx_.control, out);
        TQL_RETURN_IF_ERROR(op->Build(right.TakeTable()));
        return Run(*node.input(), Own(std::move(op)));
      }
      case PlanNode::Kind::kMatch: {
        // Each leaf's predicate is a filter chain (compiled like any other) over the spans with
        // the trace fields beside them, ending in the leaf's marks.
        std::vector<MatchOperator::Leaf> leaves(static_cast<size_t>(node.num_leaves));
        std::function<void(const Spanset&)> add = [&](const Spanset& s) {
          if (s.filter) {
            auto* marks = static_cast<RowMarks*>(Own(std::make_unique<RowMarks>()));
            leaves[static_cast<size_t>(s.leaf)] = {Filter(*s.filter, marks), marks};
          }
          if (s.lhs) add(*s.lhs);
          if (s.rhs) add(*s.rhs);
        };
        add(*node.spanset);
        auto op = std::make_unique<MatchOperator>(
            node.spanset.get(), node.trace_columns, node.trace_fields, node.input()->output_schema,
            node.match_schema, std::move(leaves), ctx_.control, out);
        return Run(*node.input(), Own(std::move(op)));
      }
    }
    return Status::Internal("this plan node cannot run in this version");
  }

 private:
  // A filter: with a compiled kernel for the conjuncts the compiler takes, when there is one.
  BatchConsumer* Filter(const PExpr& predicate, BatchConsumer* out) {
    if (compiler_ != nullptr && adaptive_) {
      return Own(std::make_unique<FilterOperator>(
          &predicate, compiler_->CompileFilterAsync(predicate), &ctx_, out));
    }
    if (compiler_ != nullptr) {
      std::vector<const PExpr*> residual;
      std::shared_ptr<const CompiledFilter> kernel = compiler_->CompileFilter(predicate, &residual);
      if (kernel) {
        return Own(
            std::make_unique<FilterOperator>(std::move(kernel), std::move(residual), &ctx_, out));
      }
    }
    return Own(std::make_unique<FilterOperator>(&predicate, &ctx_, out));
  }

  // Runs the scan `node` into `root` (its filter, if any, already in `root`).
  Status Scan(const PlanNode& node, BatchConsumer* root) {
    if (!push_source_.empty() && node.source == push_source_) {
      push_root_ = root;
      return Status::Ok();
    }
    if (auto it = sources_.find(node.source); it != sources_.end()) {
      return RunScan(node.source, it->second, node.columns, node.scan_predicates, root, stats_,
                     ctx_.control);
    }
    if (streams_ != nullptr) {
      if (auto it = streams_->find(node.source); it != streams_->end()) {
        ScanRequest request{node.source, node.source_schema, node.columns, node.scan_predicates};
        return RunStreamScan(*it->second, request, root, stats_, ctx_.control);
      }
    }
    return Status::InvalidInput("source '{}' has no data registered", node.source);
  }

  // With a compiler: the fusion of `node` (FusionOf) and its kernel (compiling in the
  // background with the adaptive engine); the scan to run into the fused operator, or null
  // when `node` runs apart from its input. Without a compiler nothing is rewritten.
  const PlanNode* CompileFused(const PlanNode& node, AggregateFusion* fusion,
                               std::shared_ptr<const CompiledAggregate>* kernel,
                               std::shared_ptr<PendingAggregate>* pending) {
    if (compiler_ == nullptr) return nullptr;
    const PlanNode* scan = FusionOf(node, fusion, &owned_exprs_, override_node_);
    if (scan == nullptr) return nullptr;
    if (adaptive_) {
      *pending = compiler_->CompileAggregateAsync(*fusion);
      return *pending != nullptr ? scan : nullptr;
    }
    *kernel = compiler_->CompileAggregate(*fusion);
    return *kernel != nullptr ? scan : nullptr;
  }

  BatchConsumer* Own(std::unique_ptr<BatchConsumer> op) {
    operators_.push_back(std::move(op));
    return operators_.back().get();
  }

  const SourceTables& sources_;
  const StreamSources* streams_ = nullptr;
  ScanStats* stats_;
  EvalContext ctx_;
  KernelCompiler* compiler_ = nullptr;
  bool adaptive_ = false;
  const PlanNode* split_ = nullptr;
  const std::vector<std::string_view>* partials_ = nullptr;
  AggregateOperator* split_operator_ = nullptr;
  std::string push_source_;
  BatchConsumer* push_root_ = nullptr;
  const PlanNode* override_node_ = nullptr;
  const Table* override_table_ = nullptr;
  std::vector<std::unique_ptr<BatchConsumer>> operators_;
  // Expressions the executor made (a fusion's, rewritten through projections).
  std::vector<PExprPtr> owned_exprs_;
};

}  // namespace

const PlanNode* FusionOf(const PlanNode& node, AggregateFusion* fusion,
                         std::vector<PExprPtr>* owned, const PlanNode* opaque) {
  if (node.kind == PlanNode::Kind::kAggregate) {
    if (node.group_keys.size() > 1) return nullptr;
    for (const PlanAggregate& a : node.aggregates) {
      if (a.args.size() > 1) return nullptr;
    }
  } else if (node.kind != PlanNode::Kind::kCount) {
    return nullptr;
  }
  // The fusion's expressions over the output of the stage being walked, from the node down
  // to the scan: each filter adds its conjuncts; each projection rewrites the expressions
  // above it over its own input (its output columns become its expressions).
  AggregateFusion f;
  std::vector<std::vector<const PExpr*>> levels;  // the conjuncts of each filter, top down
  if (node.kind == PlanNode::Kind::kCount) {
    f.aggregates.push_back({AggKind::kCount, nullptr});
  } else {
    if (!node.group_keys.empty()) f.key = node.group_keys[0].get();
    for (const PlanAggregate& a : node.aggregates) {
      f.aggregates.push_back({a.kind, a.args.empty() ? nullptr : a.args[0].get()});
    }
  }
  std::vector<PExprPtr> made;
  const PlanNode* n = node.input();
  for (; n != opaque; n = n->input()) {
    if (n->kind == PlanNode::Kind::kFilter) {
      levels.push_back(Conjuncts(*n->predicate));
      continue;
    }
    if (n->kind != PlanNode::Kind::kProject) break;
    auto through = [&](const PExpr*& e) {
      if (e == nullptr) return;
      made.push_back(SubstituteColumns(*e, n->exprs));
      e = made.back().get();
    };
    through(f.key);
    for (AggregateFusion::Aggregate& a : f.aggregates) through(a.arg);
    for (std::vector<const PExpr*>& level : levels) {
      for (const PExpr*& c : level) through(c);
    }
  }
  if (n == opaque || n->kind != PlanNode::Kind::kScan) return nullptr;
  if (n->filter) levels.push_back(Conjuncts(*n->filter));
  // A count without filters is a sum of batch sizes already.
  if (node.kind == PlanNode::Kind::kCount && levels.empty()) return nullptr;
  for (auto level = levels.rbegin(); level != levels.rend(); ++level) {
    for (const PExpr* c : *level) f.conjuncts.push_back(c);
  }
  *fusion = std::move(f);
  for (PExprPtr& e : made) owned->push_back(std::move(e));
  return n;
}

namespace {

// Discards what reaches it: the output of a partial run is the summarize's state.
class NullSink final : public BatchConsumer {
 public:
  Status Consume(Chunk&) override { return Status::Ok(); }
  Status Finish() override { return Status::Ok(); }
};

// True when `node` and everything below it work row by row.
bool RowByRow(const PlanNode& node, const PlanNode** offender) {
  switch (node.kind) {
    case PlanNode::Kind::kScan:
      return true;
    case PlanNode::Kind::kFilter:
    case PlanNode::Kind::kProject:
    case PlanNode::Kind::kUnion:
      for (const auto& input : node.inputs) {
        if (!RowByRow(*input, offender)) return false;
      }
      return true;
    default:
      *offender = &node;
      return false;
  }
}

const char* StageName(PlanNode::Kind kind) {
  switch (kind) {
    case PlanNode::Kind::kSort:
      return "sort";
    case PlanNode::Kind::kTopK:
      return "top";
    case PlanNode::Kind::kLimit:
      return "take";
    case PlanNode::Kind::kDistinct:
      return "distinct";
    case PlanNode::Kind::kCount:
      return "count";
    case PlanNode::Kind::kMatch:
      return "match";
    case PlanNode::Kind::kJoin:
      return "join";
    default:
      return "this stage";
  }
}

// The summarize a partial run splits at: the first one over the input rows.
Result<const PlanNode*> SplitPoint(const PlanNode& plan) {
  const PlanNode* split = nullptr;
  for (const PlanNode* n = &plan; n != nullptr && n->kind != PlanNode::Kind::kUnion;
       n = n->input()) {
    if (n->kind == PlanNode::Kind::kAggregate) split = n;
  }
  if (split == nullptr) {
    return Status::QueryError(
        "a partial run needs a summarize: the shards aggregate, and the merge combines their "
        "states");
  }
  // The stages after the split run once, at the merge, where no source has rows: a join
  // there would find its right side empty.
  for (const PlanNode* n = &plan; n != split; n = n->input()) {
    if (n->kind == PlanNode::Kind::kJoin) {
      return Status::QueryError(
          "a partial run merges the states of its first summarize and then runs the stages after "
          "it without the sources, so a join after that summarize has no rows to join with; "
          "join before the summarize on each shard, or join the merged result");
    }
  }
  const PlanNode* offender = nullptr;
  if (!RowByRow(*split->input(), &offender)) {
    return Status::QueryError(
        "a partial run splits the query at its first summarize, and {} before it cannot run on "
        "each shard apart; move it after the summarize",
        StageName(offender->kind));
  }
  return split;
}

}  // namespace

Result<std::string> ExecutePartial(const PlanNode& plan, const SourceTables& shard,
                                   ScanStats* stats, const ExecOptions& options) {
  TQL_ASSIGN_OR_RETURN(const PlanNode* split, SplitPoint(plan));
  Executor executor(shard, stats, options);
  executor.SetSplit(split, nullptr);
  NullSink sink;
  TQL_RETURN_IF_ERROR(executor.Run(*split, &sink));
  return executor.split_operator()->SerializePartial();
}

Result<Table> MergePartials(const PlanNode& plan, const std::vector<std::string_view>& partials,
                            const ExecOptions& options) {
  TQL_ASSIGN_OR_RETURN(const PlanNode* split, SplitPoint(plan));
  const SourceTables none;
  ScanStats stats;
  Executor executor(none, &stats, options);
  executor.SetSplit(split, &partials);
  CollectSink sink(plan.output_schema, options.control);
  TQL_RETURN_IF_ERROR(executor.Run(plan, &sink));
  return sink.TakeTable();
}

Result<Table> ExecutePlan(const PlanNode& plan, const SourceTables& sources, ScanStats* stats,
                          const ExecOptions& options) {
  CollectSink sink(plan.output_schema, options.control);
  Executor executor(sources, stats, options);
  TQL_RETURN_IF_ERROR(executor.Run(plan, &sink));
  return sink.TakeTable();
}

namespace {

// True when every scan below `node` reads a resident table (streams cannot be sharded).
bool ReadsOnlyTables(const PlanNode& node, const SourceTables& sources) {
  for (const PlanNode* scan : ScanNodes(node)) {
    if (!sources.contains(scan->source)) return false;
  }
  return true;
}

}  // namespace

Result<Table> ExecuteParallel(const PlanNode& plan, const SourceTables& sources, int threads,
                              ScanStats* stats, const ExecOptions& options) {
  Result<const PlanNode*> split = SplitPoint(plan);
  int64_t batches = 0;
  for (const auto& [name, table] : sources) {
    batches = std::max<int64_t>(batches, static_cast<int64_t>(table.batches.size()));
  }
  threads = static_cast<int>(std::min<int64_t>(threads, batches));
  if (threads <= 1 || !split.ok() || !ReadsOnlyTables(**split, sources)) {
    return ExecutePlan(plan, sources, stats, options);
  }
  // Shard i takes batches i, i + threads, ... of every source: each shard sees a mix of the
  // data, so the shards finish at about the same time.
  std::vector<SourceTables> shards(static_cast<size_t>(threads));
  for (const auto& [name, table] : sources) {
    for (SourceTables& shard : shards) shard[name].schema = table.schema;
    for (size_t b = 0; b < table.batches.size(); ++b) {
      shards[b % shards.size()][name].batches.push_back(table.batches[b]);
    }
  }
  std::vector<Result<std::string>> partials(shards.size(), Status::Internal("not run"));
  std::vector<ScanStats> shard_stats(shards.size());
  {
    std::vector<std::thread> workers;
    for (size_t i = 0; i < shards.size(); ++i) {
      workers.emplace_back(
          [&, i] { partials[i] = ExecutePartial(plan, shards[i], &shard_stats[i], options); });
    }
    for (std::thread& w : workers) w.join();
  }
  std::vector<std::string_view> states;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (!partials[i].ok()) return partials[i].status();
    states.push_back(*partials[i]);
    stats->batches_read += shard_stats[i].batches_read;
    stats->rows_read += shard_stats[i].rows_read;
    stats->batches_skipped += shard_stats[i].batches_skipped;
  }
  return MergePartials(plan, states, options);
}

struct PushExecution::Impl {
  const PlanNode* plan = nullptr;
  ExecOptions options;
  SourceTables none;
  ScanStats stats;
  std::unique_ptr<Executor> executor;
  const PlanNode* scan = nullptr;
  std::unique_ptr<ScanFeeder> feeder;
  // Split at a summarize: its state. Otherwise the rows after the row-by-row prefix.
  AggregateOperator* aggregate = nullptr;
  Status no_split;  // why the plan does not split at a summarize (when it does not)
  NullSink null_sink;
  const PlanNode* prefix = nullptr;
  std::unique_ptr<CollectSink> rows;
  bool finished = false;
  int64_t batches = 0;
};

PushExecution::PushExecution(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PushExecution::~PushExecution() = default;

Result<std::unique_ptr<PushExecution>> PushExecution::Start(const PlanNode& plan,
                                                            const ExecOptions& options) {
  const std::vector<const PlanNode*> scans = ScanNodes(plan);
  if (scans.size() != 1) {
    return Status::InvalidArgument(
        "a query fed batch by batch must read exactly one source, once; this one reads {}",
        scans.size());
  }
  auto impl = std::make_unique<Impl>();
  impl->plan = &plan;
  impl->options = options;
  impl->scan = scans[0];
  impl->executor = std::make_unique<Executor>(impl->none, &impl->stats, impl->options);
  impl->executor->SetPushSource(impl->scan->source);
  Result<const PlanNode*> split = SplitPoint(plan);
  if (split.ok()) {
    impl->executor->SetSplit(*split, nullptr);
    TQL_RETURN_IF_ERROR(impl->executor->Run(**split, &impl->null_sink));
    impl->aggregate = impl->executor->split_operator();
  } else {
    impl->no_split = split.status();
    // The highest node whose subtree works row by row: everything above runs per snapshot.
    const PlanNode* node = &plan;
    const PlanNode* offender = nullptr;
    while (!RowByRow(*node, &offender)) node = node->input();
    impl->prefix = node;
    impl->rows = std::make_unique<CollectSink>(node->output_schema, options.control);
    TQL_RETURN_IF_ERROR(impl->executor->Run(*node, impl->rows.get()));
  }
  if (impl->executor->push_root() == nullptr) {
    return Status::Internal("the pushed source's scan was not built");
  }
  impl->feeder = std::make_unique<ScanFeeder>(
      impl->scan->scan_predicates, impl->executor->push_root(), &impl->stats, options.control);
  return std::unique_ptr<PushExecution>(new PushExecution(std::move(impl)));
}

const std::string& PushExecution::source() const {
  return impl_->scan->source;
}
const SchemaPtr& PushExecution::source_schema() const {
  return impl_->scan->source_schema;
}
const ScanStats& PushExecution::stats() const {
  return impl_->stats;
}

Status PushExecution::Push(const Batch& batch) {
  Impl& m = *impl_;
  if (m.finished) {
    return Status::InvalidArgument("the execution is finished; no batch may follow Finish");
  }
  TQL_ASSIGN_OR_RETURN(Batch projected,
                       ProjectSourceBatch(m.scan->source, *m.scan->source_schema, m.scan->columns,
                                          m.scan->output_schema, batch, ++m.batches));
  return m.feeder->Push(std::move(projected));
}

Result<Table> PushExecution::Snapshot() {
  Impl& m = *impl_;
  if (m.aggregate != nullptr) {
    const std::string state = m.aggregate->SerializePartial();
    return MergePartials(*m.plan, {state}, m.options);
  }
  ScanStats stats;
  Executor executor(m.none, &stats, m.options);
  executor.SetOverride(m.prefix, &m.rows->table());
  CollectSink sink(m.plan->output_schema, m.options.control);
  TQL_RETURN_IF_ERROR(executor.Run(*m.plan, &sink));
  return sink.TakeTable();
}

Result<Table> PushExecution::Finish() {
  Impl& m = *impl_;
  if (m.finished) return Status::InvalidArgument("the execution is already finished");
  m.finished = true;
  TQL_RETURN_IF_ERROR(m.feeder->root()->Finish());
  return Snapshot();
}

Result<std::string> PushExecution::ExportState() const {
  if (impl_->aggregate == nullptr) return impl_->no_split;
  return impl_->aggregate->SerializePartial();
}

}  // namespace tql
