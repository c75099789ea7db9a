#include "runtime/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>

namespace tql {

namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
// Traces of at most this many spans link parents by a linear search, larger ones by hashing.
constexpr int32_t kLinearLink = 16;

// The bytes that identify a linking value (valid while its batch lives); false for null.
bool LinkKey(const Vector& v, int64_t row, std::string_view* out) {
  if (v.type() == TypeId::kNull || v.IsNull(row)) return false;
  switch (v.type()) {
    case TypeId::kString:
      *out = v.GetString(row);
      return true;
    case TypeId::kDynamic:  // JSON text: an empty string or a null reads as empty
      *out = v.GetString(row);
      if (*out == "\"\"" || *out == "null") *out = {};
      return true;
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
      *out = {reinterpret_cast<const char*>(v.int64_values() + row), sizeof(int64_t)};
      return true;
    case TypeId::kFloat:
      *out = {reinterpret_cast<const char*>(v.float_values() + row), sizeof(double)};
      return true;
    case TypeId::kBool: {
      static constexpr char kBools[] = {0, 1};
      *out = {kBools + (v.GetBool(row) ? 1 : 0), 1};
      return true;
    }
    case TypeId::kNull:
      break;
  }
  return false;
}

// An open-addressing map from byte strings (owned by someone else) to uint32 values.
class KeyIndex {
 public:
  void Reset(size_t expected) {
    size_t capacity = 16;
    while (capacity < expected * 2) capacity <<= 1;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    used_ = 0;
  }
  // The value under `key`; inserts `value` when there is none.
  uint32_t FindOrInsert(std::string_view key, uint32_t value) {
    if ((used_ + 1) * 2 > slots_.size()) Grow();
    const uint64_t h = Hash(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == kEmpty) {
        s = {h, key.data(), static_cast<uint32_t>(key.size()), value};
        ++used_;
        return value;
      }
      if (s.hash == h && Equal(s, key)) return s.value;
    }
  }
  uint32_t Find(std::string_view key) const {
    const uint64_t h = Hash(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) return kEmpty;
      if (s.hash == h && Equal(s, key)) return s.value;
    }
  }
  size_t memory() const { return slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t size = 0;
    uint32_t value = kEmpty;
  };
  static uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  static bool Equal(const Slot& s, std::string_view key) {
    return s.size == key.size() && std::string_view(s.data, s.size) == key;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.value == kEmpty) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].value != kEmpty) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t used_ = 0;
};

// The index of the batch that holds input row `row`.
size_t BatchOf(const std::vector<int64_t>& batch_start, int64_t row) {
  return static_cast<size_t>(std::upper_bound(batch_start.begin(), batch_start.end(), row) -
                             batch_start.begin() - 1);
}

}  // namespace

Result<TraceForest> TraceForest::Build(const std::vector<Batch>& batches,
                                       const TraceColumns& columns, QueryControl* control,
                                       const std::vector<uint8_t>* candidates) {
  TraceForest f;
  std::vector<int64_t> batch_start{0};
  for (const Batch& b : batches) batch_start.push_back(batch_start.back() + b.num_rows());
  const int64_t n = batch_start.back();
  if (n >= static_cast<int64_t>(kEmpty)) {
    return Status(StatusCode::kLimitExceeded,
                  fmt::format("match holds at most {} spans; narrow its input", kEmpty - 1));
  }

  // Group: a trace index per row, in order of first appearance.
  f.trace_of_row_.resize(static_cast<size_t>(n));
  uint32_t num_traces = 0;
  {
    KeyIndex traces;
    traces.Reset(candidates != nullptr ? 1024 : static_cast<size_t>(n / 8));
    std::string_view key, last_key;
    if (candidates != nullptr) {
      // Only the traces that hold a candidate: numbered first, from the candidates' ids.
      int64_t row = 0;
      bool have_last = false;
      for (const Batch& b : batches) {
        const Vector* ids = columns.trace_id >= 0 ? &b.column(columns.trace_id) : nullptr;
        for (int64_t r = 0; r < b.num_rows(); ++r, ++row) {
          if (!(*candidates)[static_cast<size_t>(row)] || ids == nullptr ||
              !LinkKey(*ids, r, &key) || (have_last && key == last_key)) {
            continue;
          }
          if (traces.FindOrInsert(key, num_traces) == num_traces) ++num_traces;
          have_last = true;
          last_key = key;
        }
      }
    }
    int64_t row = 0;
    bool have_last = false;  // the previous row's trace: spans of a trace tend to come together
    uint32_t last = kEmpty;
    for (const Batch& b : batches) {
      if (control != nullptr) TQL_RETURN_IF_ERROR(control->Check());
      const Vector* ids = columns.trace_id >= 0 ? &b.column(columns.trace_id) : nullptr;
      for (int64_t r = 0; r < b.num_rows(); ++r, ++row) {
        uint32_t t = kEmpty;
        if (ids != nullptr && LinkKey(*ids, r, &key)) {
          if (have_last && key == last_key) {
            t = last;
          } else {
            t = candidates != nullptr ? traces.Find(key) : traces.FindOrInsert(key, num_traces);
            if (t == num_traces) ++num_traces;
            have_last = true;
            last = t;
            last_key = key;
          }
        } else if (candidates == nullptr || (*candidates)[static_cast<size_t>(row)]) {
          t = num_traces++;  // no trace_id: a trace of its own
        }
        f.trace_of_row_[static_cast<size_t>(row)] = t;
      }
    }
    // The grouping table at its largest, for as long as it lives.
    if (control != nullptr) {
      const auto bytes = static_cast<int64_t>(traces.memory());
      TQL_RETURN_IF_ERROR(control->Reserve(bytes, "the traces of a match"));
      control->Release(bytes);
    }
  }
  f.begin_.assign(static_cast<size_t>(num_traces) + 1, 0);
  for (uint32_t t : f.trace_of_row_) {
    if (t != kEmpty) ++f.begin_[t + 1];
  }
  for (size_t t = 1; t < f.begin_.size(); ++t) f.begin_[t] += f.begin_[t - 1];
  const int64_t kept = f.begin_.back();
  f.rows_.resize(static_cast<size_t>(kept));
  {
    std::vector<int64_t> cursor(f.begin_.begin(), f.begin_.end() - 1);
    for (int64_t row = 0; row < n; ++row) {
      const uint32_t t = f.trace_of_row_[static_cast<size_t>(row)];
      if (t == kEmpty) continue;
      f.rows_[static_cast<size_t>(cursor[t]++)] = static_cast<uint32_t>(row);
    }
  }
  f.parent_.assign(static_cast<size_t>(kept), -1);
  f.orphan_.assign(static_cast<size_t>(kept), 0);
  if (control != nullptr) {
    TQL_RETURN_IF_ERROR(control->Reserve(f.memory(), "the traces of a match"));
  }

  // Link and lay out each trace in preorder. Scratch, by offset in the trace (arrival order):
  KeyIndex spans;
  std::vector<std::string_view> ids;
  // The batch of an input row: the rows of a trace are usually in one batch or the next.
  size_t last_batch = 0;
  auto locate = [&](int64_t row) {
    if (row >= batch_start[last_batch] && row < batch_start[last_batch + 1]) return last_batch;
    last_batch = BatchOf(batch_start, row);
    return last_batch;
  };
  std::vector<int32_t> parent, child_begin, children, order, stack, position;
  std::vector<uint8_t> state;  // 0 unvisited, 1 on the current walk up, 2 placed
  std::vector<uint32_t> rows;
  std::vector<uint8_t> orphan;
  std::string_view key;
  for (uint32_t t = 0; t < num_traces; ++t) {
    if (control != nullptr && (t & 4095) == 0) TQL_RETURN_IF_ERROR(control->Check());
    const int64_t begin = f.begin_[t];
    const auto size = static_cast<int32_t>(f.begin_[t + 1] - begin);
    parent.assign(static_cast<size_t>(size), -1);
    orphan.assign(static_cast<size_t>(size), 0);
    if (size > 1 && columns.span_id >= 0 && columns.parent_id >= 0) {
      // The span ids of the trace; a small trace is searched in place, a large one hashed.
      ids.resize(static_cast<size_t>(size));
      const bool hashed = size > kLinearLink;
      if (hashed) spans.Reset(static_cast<size_t>(size));
      for (int32_t i = 0; i < size; ++i) {
        const int64_t row = f.rows_[static_cast<size_t>(begin + i)];
        const size_t bi = locate(row);
        std::string_view& id = ids[static_cast<size_t>(i)];
        if (!LinkKey(batches[bi].column(columns.span_id), row - batch_start[bi], &id)) id = {};
        if (hashed && !id.empty()) spans.FindOrInsert(id, static_cast<uint32_t>(i));
      }
      auto find = [&](std::string_view k) {
        if (hashed) return spans.Find(k);
        for (int32_t j = 0; j < size; ++j) {
          if (ids[static_cast<size_t>(j)] == k) return static_cast<uint32_t>(j);
        }
        return kEmpty;
      };
      for (int32_t i = 0; i < size; ++i) {
        const int64_t row = f.rows_[static_cast<size_t>(begin + i)];
        const size_t bi = locate(row);
        const int64_t r = row - batch_start[bi];
        if (!LinkKey(batches[bi].column(columns.parent_id), r, &key) || key.empty()) continue;
        const uint32_t p = find(key);
        if (p == kEmpty || static_cast<int32_t>(p) == i) {
          orphan[static_cast<size_t>(i)] = 1;  // the parent never arrived, or a cycle of one
        } else {
          parent[static_cast<size_t>(i)] = static_cast<int32_t>(p);
        }
      }
    } else if (size == 1 && columns.span_id >= 0 && columns.parent_id >= 0) {
      const int64_t row = f.rows_[static_cast<size_t>(begin)];
      const size_t bi = locate(row);
      // A lone span with a parent_id: its parent never arrived, or it names itself (a cycle).
      if (LinkKey(batches[bi].column(columns.parent_id), row - batch_start[bi], &key) &&
          !key.empty()) {
        orphan[0] = 1;
      }
    }
    if (size == 1) {  // a lone span: a root, or an orphan
      f.orphan_[static_cast<size_t>(begin)] = orphan[0];
      f.num_orphans_ += orphan[0];
      continue;
    }
    // Cut cycles: walk up from each span; a walk that meets itself has found a cycle, which
    // is cut at the span where the walk entered it.
    state.assign(static_cast<size_t>(size), 0);
    for (int32_t i = 0; i < size; ++i) {
      std::vector<int32_t>& walk = stack;
      walk.clear();
      int32_t v = i;
      while (v >= 0 && state[static_cast<size_t>(v)] == 0) {
        state[static_cast<size_t>(v)] = 1;
        walk.push_back(v);
        v = parent[static_cast<size_t>(v)];
      }
      if (v >= 0 && state[static_cast<size_t>(v)] == 1) {
        parent[static_cast<size_t>(v)] = -1;
        orphan[static_cast<size_t>(v)] = 1;
      }
      for (int32_t w : walk) state[static_cast<size_t>(w)] = 2;
    }
    // Children in arrival order, then a preorder walk from each root.
    child_begin.assign(static_cast<size_t>(size) + 1, 0);
    for (int32_t i = 0; i < size; ++i) {
      if (parent[static_cast<size_t>(i)] >= 0) ++child_begin[parent[static_cast<size_t>(i)] + 1];
    }
    for (int32_t i = 0; i < size; ++i) child_begin[i + 1] += child_begin[i];
    children.resize(static_cast<size_t>(size));
    {
      std::vector<int32_t>& fill = stack;
      fill.assign(child_begin.begin(), child_begin.end() - 1);
      for (int32_t i = 0; i < size; ++i) {
        const int32_t p = parent[static_cast<size_t>(i)];
        if (p >= 0) children[static_cast<size_t>(fill[p]++)] = i;
      }
    }
    order.clear();
    for (int32_t root = 0; root < size; ++root) {
      if (parent[static_cast<size_t>(root)] >= 0) continue;
      stack.assign(1, root);
      while (!stack.empty()) {
        const int32_t v = stack.back();
        stack.pop_back();
        order.push_back(v);
        for (int32_t c = child_begin[v + 1] - 1; c >= child_begin[v]; --c) {
          stack.push_back(children[static_cast<size_t>(c)]);
        }
      }
    }
    position.resize(static_cast<size_t>(size));
    for (int32_t k = 0; k < size; ++k) position[static_cast<size_t>(order[k])] = k;
    rows.assign(f.rows_.begin() + begin, f.rows_.begin() + begin + size);
    for (int32_t k = 0; k < size; ++k) {
      const int32_t v = order[static_cast<size_t>(k)];
      const auto at = static_cast<size_t>(begin + k);
      f.rows_[at] = rows[static_cast<size_t>(v)];
      const int32_t p = parent[static_cast<size_t>(v)];
      f.parent_[at] = p >= 0 ? position[static_cast<size_t>(p)] : -1;
      f.orphan_[at] = orphan[static_cast<size_t>(v)];
      f.num_orphans_ += orphan[static_cast<size_t>(v)];
    }
  }
  if (control != nullptr) control->Release(f.memory());
  return f;
}

int64_t TraceForest::memory() const {
  return static_cast<int64_t>(begin_.capacity() * sizeof(int64_t) +
                              rows_.capacity() * sizeof(uint32_t) +
                              parent_.capacity() * sizeof(int32_t) + orphan_.capacity() +
                              trace_of_row_.capacity() * sizeof(uint32_t));
}

const char* TraceFieldName(TraceField f) {
  switch (f) {
    case TraceField::kDuration:
      return "trace.duration";
    case TraceField::kRootName:
      return "trace.root.name";
    case TraceField::kRootService:
      return "trace.root.service";
    case TraceField::kSpanCount:
      return "trace.span_count";
  }
  return "?";
}

TypeId TraceFieldType(TraceField f) {
  switch (f) {
    case TraceField::kDuration:
      return TypeId::kDuration;
    case TraceField::kRootName:
    case TraceField::kRootService:
      return TypeId::kString;
    case TraceField::kSpanCount:
      return TypeId::kInt;
  }
  return TypeId::kNull;
}

namespace {

int Precedence(Spanset::Op op) {
  switch (op) {
    case Spanset::Op::kOr:
      return 1;
    case Spanset::Op::kAnd:
      return 2;
    case Spanset::Op::kFilter:
      return 4;
    default:
      return 3;
  }
}

const char* OpText(const Spanset& s) {
  switch (s.op) {
    case Spanset::Op::kAnd:
      return "&&";
    case Spanset::Op::kOr:
      return "||";
    case Spanset::Op::kChild:
      return s.negated ? "!>" : ">";
    case Spanset::Op::kDescendant:
      return s.negated ? "!>>" : ">>";
    case Spanset::Op::kParent:
      return s.negated ? "!<" : "<";
    case Spanset::Op::kAncestor:
      return s.negated ? "!<<" : "<<";
    case Spanset::Op::kSibling:
      return s.negated ? "!~" : "~";
    case Spanset::Op::kFilter:
      break;
  }
  return "?";
}

void AppendSpanset(const Spanset& s, const Schema& schema, int min_precedence, std::string* out) {
  if (s.op == Spanset::Op::kFilter) {
    *out += s.filter ? fmt::format("{{{}}}", s.filter->ToString(schema)) : "{}";
    return;
  }
  const int prec = Precedence(s.op);
  if (prec < min_precedence) *out += "(";
  AppendSpanset(*s.lhs, schema, prec, out);
  *out += fmt::format(" {} ", OpText(s));
  AppendSpanset(*s.rhs, schema, prec + 1, out);
  if (prec < min_precedence) *out += ")";
}

bool Any(const std::vector<uint8_t>& v) {
  return std::any_of(v.begin(), v.end(), [](uint8_t x) { return x != 0; });
}

int CountNodes(const Spanset& s) {
  return 1 + (s.lhs ? CountNodes(*s.lhs) : 0) + (s.rhs ? CountNodes(*s.rhs) : 0);
}

}  // namespace

std::string SpansetToString(const Spanset& s, const Schema& schema) {
  std::string out;
  AppendSpanset(s, schema, 1, &out);
  return out;
}

MatchOperator::MatchOperator(const Spanset* spanset, TraceColumns columns,
                             std::vector<TraceField> fields, SchemaPtr input_schema,
                             SchemaPtr match_schema, std::vector<Leaf> leaves,
                             QueryControl* control, BatchConsumer* next)
    : spanset_(spanset),
      columns_(columns),
      fields_(std::move(fields)),
      match_schema_(std::move(match_schema)),
      leaves_(std::move(leaves)),
      control_(control),
      next_(next),
      spans_(std::move(input_schema), control, "the spans of a match") {
  const auto nodes = static_cast<size_t>(CountNodes(*spanset_));
  buffers_.resize(nodes);
  counts_.resize(nodes);
}

Status MatchOperator::Finish() {
  TQL_RETURN_IF_ERROR(Run());
  return next_->Finish();
}

void MatchOperator::ComputeTraceValues(const std::vector<int64_t>& batch_start) {
  const std::vector<Batch>& batches = spans_.table().batches;
  const auto traces = static_cast<size_t>(forest_.num_traces());
  auto needs = [&](TraceField f) {
    return std::find(fields_.begin(), fields_.end(), f) != fields_.end();
  };
  if (needs(TraceField::kDuration) && columns_.timestamp >= 0) {
    trace_start_.assign(traces, std::numeric_limits<int64_t>::max());
    trace_end_.assign(traces, std::numeric_limits<int64_t>::min());
    int64_t row = 0;
    for (const Batch& b : batches) {
      const Vector& ts = b.column(columns_.timestamp);
      const Vector* dur = columns_.duration >= 0 ? &b.column(columns_.duration) : nullptr;
      for (int64_t r = 0; r < b.num_rows(); ++r, ++row) {
        if (ts.IsNull(r)) continue;
        const auto t = static_cast<size_t>(forest_.trace_of_row(row));
        const int64_t start = ts.GetInt64(r);
        int64_t end = start;
        if (dur != nullptr && dur->IsValid(r) &&
            __builtin_add_overflow(start, dur->GetInt64(r), &end)) {
          end = dur->GetInt64(r) > 0 ? std::numeric_limits<int64_t>::max() : start;
        }
        trace_start_[t] = std::min(trace_start_[t], start);
        trace_end_[t] = std::max(trace_end_[t], std::max(start, end));
      }
    }
  }
  const bool names = needs(TraceField::kRootName) && columns_.name >= 0;
  const bool services = needs(TraceField::kRootService) && columns_.service >= 0;
  if (!names && !services) return;
  // The root: the first span (in arrival order) without a parent_id.
  trace_root_.assign(traces, -1);
  for (size_t t = 0; t < traces; ++t) {
    for (int64_t pos = forest_.begin(static_cast<int64_t>(t));
         pos < forest_.end(static_cast<int64_t>(t)); ++pos) {
      if (forest_.parent(pos) < 0 && !forest_.orphan(pos)) {
        trace_root_[t] = pos;
        break;
      }
    }
  }
  // One dictionary entry per trace: the rows' codes are their trace numbers.
  // A trace without a root, or whose root has a null there, reads null (validity per trace).
  auto dictionary = [&](int column, std::vector<uint8_t>* valid) {
    std::vector<int32_t> offsets{0};
    std::string data;
    valid->assign(traces, 0);
    for (size_t t = 0; t < traces; ++t) {
      if (trace_root_[t] >= 0) {
        const int64_t row = forest_.row(trace_root_[t]);
        const size_t bi = BatchOf(batch_start, row);
        const Vector& v = batches[bi].column(column);
        const int64_t r = row - batch_start[bi];
        if (v.IsValid(r)) {
          data += v.GetString(r);
          (*valid)[t] = 1;
        }
      }
      offsets.push_back(static_cast<int32_t>(data.size()));
    }
    return std::make_shared<const Vector>(
        Vector::Strings(TypeId::kString, static_cast<int64_t>(traces), Buffer::CopyOf(offsets),
                        Buffer::CopyOf(data.data(), data.size()), nullptr, 0));
  };
  if (names) root_names_ = dictionary(columns_.name, &root_name_valid_);
  if (services) root_services_ = dictionary(columns_.service, &root_service_valid_);
}

std::vector<Vector> MatchOperator::FieldColumns(int64_t base, int64_t rows) const {
  std::vector<Vector> out;
  const size_t n = static_cast<size_t>(rows);
  for (TraceField f : fields_) {
    switch (f) {
      case TraceField::kDuration:
      case TraceField::kSpanCount: {
        if (f == TraceField::kDuration && trace_start_.empty()) {
          out.push_back(Vector::Nulls(TypeId::kDuration, rows));
          break;
        }
        auto values = Buffer::Allocate(n * sizeof(int64_t));
        auto validity = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(rows)));
        int64_t* v = values->mutable_as<int64_t>();
        int64_t nulls = 0;
        for (int64_t r = 0; r < rows; ++r) {
          const auto t = static_cast<size_t>(forest_.trace_of_row(base + r));
          if (f == TraceField::kSpanCount) {
            v[r] = forest_.end(static_cast<int64_t>(t)) - forest_.begin(static_cast<int64_t>(t));
          } else if (trace_start_[t] > trace_end_[t]) {
            ++nulls;
            continue;
          } else if (__builtin_sub_overflow(trace_end_[t], trace_start_[t], &v[r])) {
            v[r] = std::numeric_limits<int64_t>::max();  // wider than a duration can say
          }
          bits::Set(validity->mutable_data(), r);
        }
        out.push_back(Vector::Fixed(TraceFieldType(f), rows, std::move(values),
                                    nulls > 0 ? BufferPtr(std::move(validity)) : nullptr, nulls));
        break;
      }
      case TraceField::kRootName:
      case TraceField::kRootService: {
        const std::shared_ptr<const Vector>& dict =
            f == TraceField::kRootName ? root_names_ : root_services_;
        if (!dict) {
          out.push_back(Vector::Nulls(TypeId::kString, rows));
          break;
        }
        const std::vector<uint8_t>& valid =
            f == TraceField::kRootName ? root_name_valid_ : root_service_valid_;
        auto codes = Buffer::Allocate(n * sizeof(int32_t));
        auto validity = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(rows)));
        int32_t* c = codes->mutable_as<int32_t>();
        int64_t nulls = 0;
        for (int64_t r = 0; r < rows; ++r) {
          const auto t = static_cast<size_t>(forest_.trace_of_row(base + r));
          c[r] = static_cast<int32_t>(t);
          if (valid[t]) {
            bits::Set(validity->mutable_data(), r);
          } else {
            ++nulls;
          }
        }
        out.push_back(Vector::Dictionary(rows, std::move(codes),
                                         nulls > 0 ? BufferPtr(std::move(validity)) : nullptr, dict,
                                         nulls));
        break;
      }
    }
  }
  return out;
}

const std::vector<uint8_t>& MatchOperator::Eval(const Spanset& s, int64_t t, int* id) {
  std::vector<uint8_t>& out = buffers_[static_cast<size_t>((*id)++)];
  const int64_t begin = forest_.begin(t);
  const auto size = static_cast<size_t>(forest_.end(t) - begin);
  out.assign(size, 0);
  if (s.op == Spanset::Op::kFilter) {
    if (s.leaf < 0) {
      std::fill(out.begin(), out.end(), 1);
    } else {
      const std::vector<uint8_t>& marks = marks_[static_cast<size_t>(s.leaf)];
      for (size_t i = 0; i < size; ++i) {
        out[i] = marks[static_cast<size_t>(forest_.row(begin + static_cast<int64_t>(i)))];
      }
    }
    return out;
  }
  const int counts_id = *id - 1;
  const std::vector<uint8_t>& a = Eval(*s.lhs, t, id);
  const std::vector<uint8_t>& b = Eval(*s.rhs, t, id);
  auto parent = [&](size_t i) { return forest_.parent(begin + static_cast<int64_t>(i)); };
  // rel[i]: whether span i stands in the relation to a span of `a`.
  std::vector<uint8_t>& rel = out;
  switch (s.op) {
    case Spanset::Op::kFilter:
      break;
    case Spanset::Op::kAnd:
      if (Any(a) && Any(b)) {
        for (size_t i = 0; i < size; ++i) out[i] = a[i] | b[i];
      }
      return out;
    case Spanset::Op::kOr:
      for (size_t i = 0; i < size; ++i) out[i] = a[i] | b[i];
      return out;
    case Spanset::Op::kChild:  // the parent is in a
      for (size_t i = 0; i < size; ++i) {
        const int32_t p = parent(i);
        rel[i] = p >= 0 && a[static_cast<size_t>(p)];
      }
      break;
    case Spanset::Op::kDescendant:  // an ancestor is in a: parents come first
      for (size_t i = 0; i < size; ++i) {
        const int32_t p = parent(i);
        rel[i] = p >= 0 && (a[static_cast<size_t>(p)] | rel[static_cast<size_t>(p)]);
      }
      break;
    case Spanset::Op::kParent:  // a child is in a
      for (size_t i = 0; i < size; ++i) {
        const int32_t p = parent(i);
        if (p >= 0 && a[i]) rel[static_cast<size_t>(p)] = 1;
      }
      break;
    case Spanset::Op::kAncestor:  // a descendant is in a: children come after their parent
      for (size_t i = size; i-- > 0;) {
        const int32_t p = parent(i);
        if (p >= 0 && (a[i] | rel[i])) rel[static_cast<size_t>(p)] = 1;
      }
      break;
    case Spanset::Op::kSibling: {  // another child of the same parent is in a
      std::vector<int32_t>& count = counts_[static_cast<size_t>(counts_id)];
      count.assign(size, 0);
      for (size_t i = 0; i < size; ++i) {
        const int32_t p = parent(i);
        if (p >= 0 && a[i]) ++count[static_cast<size_t>(p)];
      }
      for (size_t i = 0; i < size; ++i) {
        const int32_t p = parent(i);
        rel[i] = p >= 0 && count[static_cast<size_t>(p)] - (a[i] ? 1 : 0) > 0;
      }
      break;
    }
  }
  for (size_t i = 0; i < size; ++i) out[i] = b[i] && (rel[i] != 0) != s.negated;
  return out;
}

Status MatchOperator::EvaluateLeaves(const std::vector<int64_t>& batch_start) {
  const std::vector<Batch>& batches = spans_.table().batches;
  const auto n = static_cast<size_t>(batch_start.back());
  marks_.assign(leaves_.size(), std::vector<uint8_t>(n, 0));
  if (leaves_.empty()) return Status::Ok();
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    if (control_ != nullptr) TQL_RETURN_IF_ERROR(control_->Check());
    const Batch& b = batches[bi];
    std::vector<Vector> columns = b.columns();
    for (Vector& v : FieldColumns(batch_start[bi], b.num_rows())) columns.push_back(std::move(v));
    const Batch extended(match_schema_, std::move(columns), b.num_rows());
    for (size_t l = 0; l < leaves_.size(); ++l) {
      leaves_[l].marks->Start(batch_start[bi], &marks_[l]);
      Chunk chunk{extended, Selection::All(b.num_rows())};
      TQL_RETURN_IF_ERROR(leaves_[l].root->Consume(chunk));
    }
  }
  for (const Leaf& leaf : leaves_) TQL_RETURN_IF_ERROR(leaf.root->Finish());
  return Status::Ok();
}

bool MatchOperator::Candidates(const Spanset& s, std::vector<uint8_t>* out) const {
  switch (s.op) {
    case Spanset::Op::kFilter: {
      if (s.leaf < 0) return false;  // {}: every span
      const std::vector<uint8_t>& m = marks_[static_cast<size_t>(s.leaf)];
      for (size_t i = 0; i < m.size(); ++i) (*out)[i] |= m[i];
      return true;
    }
    case Spanset::Op::kAnd:
    case Spanset::Op::kOr: {
      const bool left = Candidates(*s.lhs, out);
      const bool right = Candidates(*s.rhs, out);
      return left && right;
    }
    default:  // a structural operator selects spans of its right side
      return Candidates(*s.rhs, out);
  }
}

Status MatchOperator::Run() {
  const std::vector<Batch>& batches = spans_.table().batches;
  std::vector<int64_t> batch_start{0};
  for (const Batch& b : batches) batch_start.push_back(batch_start.back() + b.num_rows());
  const int64_t n = batch_start.back();
  // Marks per leaf and row, and the selected rows.
  const int64_t marks_bytes = n * static_cast<int64_t>(leaves_.size() + 2);
  if (control_ != nullptr) {
    TQL_RETURN_IF_ERROR(control_->Reserve(marks_bytes, "the traces of a match"));
  }
  if (fields_.empty()) {
    // No trace field: the leaves first, then only the traces that hold a span the spanset
    // could select (a structural operator selects from its right side) are built.
    TQL_RETURN_IF_ERROR(EvaluateLeaves(batch_start));
    std::vector<uint8_t> candidates(static_cast<size_t>(n), 0);
    const bool some = Candidates(*spanset_, &candidates);
    TQL_ASSIGN_OR_RETURN(
        forest_, TraceForest::Build(batches, columns_, control_, some ? &candidates : nullptr));
  } else {
    TQL_ASSIGN_OR_RETURN(forest_, TraceForest::Build(batches, columns_, control_));
  }
  const int64_t held = forest_.memory();
  if (control_ != nullptr) TQL_RETURN_IF_ERROR(control_->Reserve(held, "the traces of a match"));
  ComputeTraceValues(batch_start);
  auto dictionary_bytes = [](const std::shared_ptr<const Vector>& d) -> int64_t {
    if (!d) return 0;
    return static_cast<int64_t>(d->values_buffer()->size() +
                                (d->data_buffer() ? d->data_buffer()->size() : 0));
  };
  const int64_t values =
      static_cast<int64_t>(
          (trace_start_.capacity() + trace_end_.capacity() + trace_root_.capacity()) *
              sizeof(int64_t) +
          root_name_valid_.capacity() + root_service_valid_.capacity()) +
      dictionary_bytes(root_names_) + dictionary_bytes(root_services_);
  if (control_ != nullptr) {
    TQL_RETURN_IF_ERROR(control_->Reserve(values, "the traces of a match"));
  }
  // With trace fields, the leaves read them: evaluated once the traces are known.
  if (!fields_.empty()) TQL_RETURN_IF_ERROR(EvaluateLeaves(batch_start));

  // The spanset in each trace; the selected spans, in arrival order.
  std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
  for (int64_t t = 0; t < forest_.num_traces(); ++t) {
    if (control_ != nullptr && (t & 4095) == 0) TQL_RETURN_IF_ERROR(control_->Check());
    int id = 0;
    const std::vector<uint8_t>& selected = Eval(*spanset_, t, &id);
    const int64_t begin = forest_.begin(t);
    for (size_t i = 0; i < selected.size(); ++i) {
      if (selected[i]) keep[static_cast<size_t>(forest_.row(begin + static_cast<int64_t>(i)))] = 1;
    }
  }
  marks_.clear();
  for (size_t bi = 0; bi < batches.size() && !next_->Satisfied(); ++bi) {
    const Batch& b = batches[bi];
    std::vector<int32_t> rows;
    const uint8_t* k = keep.data() + batch_start[bi];
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      if (k[r]) rows.push_back(static_cast<int32_t>(r));
    }
    if (rows.empty()) continue;
    Chunk chunk{b, static_cast<int64_t>(rows.size()) == b.num_rows()
                       ? Selection::All(b.num_rows())
                       : Selection::Of(std::move(rows))};
    TQL_RETURN_IF_ERROR(next_->Consume(chunk));
  }
  if (control_ != nullptr) control_->Release(marks_bytes + held + values);
  return Status::Ok();
}

}  // namespace tql
