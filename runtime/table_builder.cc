#include "runtime/table_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/time_format.h"

namespace tql {

void AppendJsonString(std::string* out, std::string_view s) {
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
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (c < 0x20) {
          *out += fmt::format("\\u{:04x}", c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

namespace {

// One incoming value; `type` says which member holds it.
struct Value {
  TypeId type = TypeId::kNull;
  int64_t i = 0;
  double f = 0;
  std::string_view s = {};
};

// The type a column takes when a value of type `in` joins values of type `cur`.
TypeId Join(TypeId cur, TypeId in) {
  if (cur == in || in == TypeId::kNull) return cur;
  if (cur == TypeId::kNull) return in;
  auto is = [&](TypeId a, TypeId b) { return (cur == a && in == b) || (cur == b && in == a); };
  if (is(TypeId::kInt, TypeId::kFloat)) return TypeId::kFloat;
  // Integers count nanoseconds, so they mix with durations and timestamps.
  if (is(TypeId::kInt, TypeId::kDuration)) return TypeId::kDuration;
  if (is(TypeId::kInt, TypeId::kTimestamp)) return TypeId::kTimestamp;
  return TypeId::kDynamic;
}

void AppendJsonFloat(std::string* out, double v) {
  if (!std::isfinite(v)) {
    *out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(*out), "{}", v);
}

}  // namespace

class TableBuilder::ColumnBuilder {
 public:
  explicit ColumnBuilder(std::string n) : name(std::move(n)) {}

  std::string name;
  TypeId type = TypeId::kNull;
  int64_t length = 0;
  int64_t last_set_row = -1;
  int64_t non_null = 0;
  std::vector<uint8_t> valid;  // one byte per row: simple to append to and to pop
  std::vector<int64_t> ints;   // bool (0/1), int, timestamp, duration
  std::vector<double> floats;
  std::string data;           // string and dynamic bytes
  std::vector<int64_t> ends;  // end offset of each row's bytes in `data`
  // Dictionary of distinct string values while there are few enough of them.
  bool dictionary_alive = true;
  std::deque<std::string> dictionary_values;  // deque: stable addresses for the index's keys
  std::unordered_map<std::string_view, int32_t> dictionary_index;
  std::vector<int32_t> codes;

  void PadTo(int64_t row) {
    while (length < row) AppendNull();
  }

  // Prepares to store the value of `row`, dropping an earlier value of the same row.
  void Begin(int64_t row) {
    if (last_set_row == row) {
      PopLast();
    } else {
      PadTo(row);
    }
    last_set_row = row;
  }

  void AppendNull() {
    valid.push_back(0);
    AppendStorageDefault();
    ++length;
  }

  void Append(const Value& v, const TableBuilderOptions& options) {
    const TypeId joined = Join(type, v.type);
    if (joined != type) ConvertTo(joined);
    if (v.type == TypeId::kNull) {
      AppendNull();
      return;
    }
    switch (type) {
      case TypeId::kBool:
      case TypeId::kInt:
      case TypeId::kTimestamp:
      case TypeId::kDuration:
        ints.push_back(v.i);
        break;
      case TypeId::kFloat:
        floats.push_back(v.type == TypeId::kFloat ? v.f : static_cast<double>(v.i));
        break;
      case TypeId::kString:
        data.append(v.s);
        ends.push_back(static_cast<int64_t>(data.size()));
        AddToDictionary(v.s, options);
        break;
      case TypeId::kDynamic:
        AppendJson(v);
        ends.push_back(static_cast<int64_t>(data.size()));
        break;
      case TypeId::kNull:
        break;
    }
    valid.push_back(1);
    ++non_null;
    ++length;
  }

  // Rewrites every stored value as `to`. REQUIRES: Join(type, x) == to for some x.
  void ConvertTo(TypeId to) {
    if (type == TypeId::kNull) {
      type = to;
      for (int64_t i = 0; i < length; ++i) AppendStorageDefault();
      return;
    }
    if (to == TypeId::kFloat) {  // from int
      floats.assign(ints.begin(), ints.end());
      ints.clear();
    } else if (to == TypeId::kDynamic) {
      ConvertToDynamic();
    }
    type = to;
  }

  void PopLast() {
    --length;
    if (valid.back()) --non_null;
    valid.pop_back();
    switch (type) {
      case TypeId::kBool:
      case TypeId::kInt:
      case TypeId::kTimestamp:
      case TypeId::kDuration:
        ints.pop_back();
        break;
      case TypeId::kFloat:
        floats.pop_back();
        break;
      case TypeId::kString:
      case TypeId::kDynamic:
        ends.pop_back();
        data.resize(ends.empty() ? 0 : static_cast<size_t>(ends.back()));
        if (type == TypeId::kString && dictionary_alive) codes.pop_back();
        break;
      case TypeId::kNull:
        break;
    }
  }

  bool UseDictionary(const TableBuilderOptions& options) const {
    return type == TypeId::kString && dictionary_alive && non_null > 0 &&
           static_cast<int64_t>(dictionary_values.size()) * options.dictionary_min_repeats <=
               non_null;
  }

 private:
  void AppendStorageDefault() {
    switch (type) {
      case TypeId::kBool:
      case TypeId::kInt:
      case TypeId::kTimestamp:
      case TypeId::kDuration:
        ints.push_back(0);
        break;
      case TypeId::kFloat:
        floats.push_back(0);
        break;
      case TypeId::kString:
      case TypeId::kDynamic:
        ends.push_back(static_cast<int64_t>(data.size()));
        if (type == TypeId::kString && dictionary_alive) codes.push_back(0);
        break;
      case TypeId::kNull:
        break;
    }
  }

  void AddToDictionary(std::string_view s, const TableBuilderOptions& options) {
    if (!dictionary_alive) return;
    auto it = dictionary_index.find(s);
    if (it != dictionary_index.end()) {
      codes.push_back(it->second);
      return;
    }
    const auto size = static_cast<int64_t>(dictionary_values.size());
    const bool too_many = size >= options.max_dictionary_size;
    const bool too_sparse =
        size >= options.dictionary_probe_size && size * options.dictionary_min_repeats > non_null;
    if (too_many || too_sparse) {
      dictionary_alive = false;
      dictionary_index = {};
      dictionary_values = {};
      codes = {};
      return;
    }
    const auto code = static_cast<int32_t>(dictionary_values.size());
    dictionary_values.emplace_back(s);
    dictionary_index.emplace(dictionary_values.back(), code);
    codes.push_back(code);
  }

  void AppendJson(const Value& v) {
    switch (v.type) {
      case TypeId::kBool:
        data += v.i ? "true" : "false";
        break;
      case TypeId::kInt:
      case TypeId::kDuration:
        fmt::format_to(std::back_inserter(data), "{}", v.i);
        break;
      case TypeId::kTimestamp:
        AppendJsonString(&data, FormatTimestamp(v.i));
        break;
      case TypeId::kFloat:
        AppendJsonFloat(&data, v.f);
        break;
      case TypeId::kString:
        AppendJsonString(&data, v.s);
        break;
      case TypeId::kDynamic:
        data.append(v.s);
        break;
      case TypeId::kNull:
        data += "null";
        break;
    }
  }

  void ConvertToDynamic() {
    std::string old_data = std::move(data);
    std::vector<int64_t> old_ends = std::move(ends);
    data.clear();
    ends.clear();
    int64_t start = 0;
    for (int64_t i = 0; i < length; ++i) {
      Value v{.type = type};
      if (type == TypeId::kFloat) {
        v.f = floats[static_cast<size_t>(i)];
      } else if (IsStringBacked(type)) {
        const int64_t end = old_ends[static_cast<size_t>(i)];
        v.s = std::string_view(old_data).substr(static_cast<size_t>(start),
                                                static_cast<size_t>(end - start));
        start = end;
      } else {
        v.i = ints[static_cast<size_t>(i)];
      }
      if (valid[static_cast<size_t>(i)]) AppendJson(v);
      ends.push_back(static_cast<int64_t>(data.size()));
    }
    ints = {};
    floats = {};
    dictionary_alive = false;
    dictionary_index = {};
    dictionary_values = {};
    codes = {};
  }
};

TableBuilder::TableBuilder(TableBuilderOptions options) : options_(std::move(options)) {}
TableBuilder::~TableBuilder() = default;

int TableBuilder::Column(std::string_view name) {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  const int id = static_cast<int>(columns_.size());
  columns_.push_back(std::make_unique<ColumnBuilder>(std::string(name)));
  index_.emplace(std::string(name), id);
  return id;
}

TableBuilder::ColumnBuilder& TableBuilder::Prepare(int column) {
  ColumnBuilder& c = *columns_[static_cast<size_t>(column)];
  c.Begin(num_rows_);
  return c;
}

void TableBuilder::SetNull(int column) {
  Prepare(column).AppendNull();
}
void TableBuilder::SetBool(int column, bool value) {
  Prepare(column).Append({.type = TypeId::kBool, .i = value ? 1 : 0}, options_);
}
void TableBuilder::SetInt(int column, int64_t value) {
  Prepare(column).Append({.type = TypeId::kInt, .i = value}, options_);
}
void TableBuilder::SetFloat(int column, double value) {
  Prepare(column).Append({.type = TypeId::kFloat, .f = value}, options_);
}
void TableBuilder::SetString(int column, std::string_view value) {
  Prepare(column).Append({.type = TypeId::kString, .s = value}, options_);
}
void TableBuilder::SetDynamic(int column, std::string_view json) {
  Prepare(column).Append({.type = TypeId::kDynamic, .s = json}, options_);
}
void TableBuilder::SetTimestamp(int column, int64_t nanos) {
  Prepare(column).Append({.type = TypeId::kTimestamp, .i = nanos}, options_);
}
void TableBuilder::SetDuration(int column, int64_t nanos) {
  Prepare(column).Append({.type = TypeId::kDuration, .i = nanos}, options_);
}

namespace {

using ColumnBuilder = TableBuilder::ColumnBuilder;

// Epoch integers in a timestamp column: the unit is told apart by magnitude.
int64_t EpochToNanos(int64_t v) {
  const int64_t a = v < 0 ? -v : v;
  if (a < 100'000'000'000LL) return v * kNanosPerSecond;         // seconds (until year 5138)
  if (a < 100'000'000'000'000LL) return v * kNanosPerMilli;      // milliseconds
  if (a < 100'000'000'000'000'000LL) return v * kNanosPerMicro;  // microseconds
  return v;                                                      // nanoseconds
}

std::string_view RowText(const ColumnBuilder& c, size_t i) {
  const int64_t start = i == 0 ? 0 : c.ends[i - 1];
  return std::string_view(c.data).substr(static_cast<size_t>(start),
                                         static_cast<size_t>(c.ends[i] - start));
}

// Retypes a string column when every valid value parses with `parse`.
template <typename Parse>
void RetypeStrings(ColumnBuilder* c, TypeId to, Parse parse) {
  std::vector<int64_t> out(static_cast<size_t>(c->length), 0);
  for (size_t i = 0; i < out.size(); ++i) {
    if (!c->valid[i]) continue;
    std::optional<int64_t> v = parse(RowText(*c, i));
    if (!v) return;
    out[i] = *v;
  }
  c->ints = std::move(out);
  c->data = {};
  c->ends = {};
  c->codes = {};
  c->dictionary_alive = false;
  c->type = to;
}

void ApplyConventions(ColumnBuilder* c, const TableBuilderOptions& options) {
  auto named = [c](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), c->name) != names.end();
  };
  if (named(options.timestamp_columns)) {
    if (c->type == TypeId::kString) {
      RetypeStrings(c, TypeId::kTimestamp, ParseTimestamp);
    } else if (c->type == TypeId::kInt) {
      for (int64_t& v : c->ints) v = EpochToNanos(v);
      c->type = TypeId::kTimestamp;
    }
  } else if (named(options.duration_columns)) {
    if (c->type == TypeId::kString) {
      RetypeStrings(c, TypeId::kDuration, [](std::string_view t) { return ParseDuration(t); });
    } else if (c->type == TypeId::kInt) {
      c->type = TypeId::kDuration;
    }
  }
}

BufferPtr PackValidity(const ColumnBuilder& c, int64_t start, int64_t n, int64_t* null_count) {
  auto bitmap = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
  int64_t valid = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (c.valid[static_cast<size_t>(start + i)]) {
      bits::Set(bitmap->mutable_data(), i);
      ++valid;
    }
  }
  *null_count = n - valid;
  return *null_count == 0 ? nullptr : BufferPtr(bitmap);
}

Result<Vector> BuildSlice(const ColumnBuilder& c, int64_t start, int64_t n,
                          const std::shared_ptr<const Vector>& dictionary) {
  int64_t null_count = 0;
  BufferPtr validity = PackValidity(c, start, n, &null_count);
  const auto s = static_cast<size_t>(start);
  switch (c.type) {
    case TypeId::kNull:
      return Vector::Nulls(TypeId::kNull, n);
    case TypeId::kBool: {
      auto values = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
      for (int64_t i = 0; i < n; ++i) {
        if (c.ints[s + static_cast<size_t>(i)]) bits::Set(values->mutable_data(), i);
      }
      return Vector::Fixed(c.type, n, values, validity, null_count);
    }
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
      return Vector::Fixed(c.type, n, Buffer::CopyOf(c.ints.data() + s, static_cast<size_t>(n) * 8),
                           validity, null_count);
    case TypeId::kFloat:
      return Vector::Fixed(c.type, n,
                           Buffer::CopyOf(c.floats.data() + s, static_cast<size_t>(n) * 8),
                           validity, null_count);
    case TypeId::kString:
    case TypeId::kDynamic: {
      if (dictionary) {
        return Vector::Dictionary(n, Buffer::CopyOf(c.codes.data() + s, static_cast<size_t>(n) * 4),
                                  validity, dictionary, null_count);
      }
      const int64_t base = start == 0 ? 0 : c.ends[s - 1];
      const int64_t end = n == 0 ? base : c.ends[s + static_cast<size_t>(n) - 1];
      if (end - base > std::numeric_limits<int32_t>::max()) {
        return Status::Unsupported("column '{}': more than 2 GiB of text in one batch", c.name);
      }
      auto offsets = Buffer::Allocate(static_cast<size_t>(n + 1) * 4);
      int32_t* o = offsets->mutable_as<int32_t>();
      o[0] = 0;
      for (int64_t i = 0; i < n; ++i) {
        o[i + 1] = static_cast<int32_t>(c.ends[s + static_cast<size_t>(i)] - base);
      }
      return Vector::Strings(c.type, n, offsets,
                             Buffer::CopyOf(c.data.data() + base, static_cast<size_t>(end - base)),
                             validity, null_count);
    }
  }
  return Status::Internal("unknown column type");
}

std::shared_ptr<const Vector> BuildDictionary(const ColumnBuilder& c) {
  const auto n = static_cast<int64_t>(c.dictionary_values.size());
  auto offsets = Buffer::Allocate(static_cast<size_t>(n + 1) * 4);
  std::string bytes;
  int32_t* o = offsets->mutable_as<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    bytes += c.dictionary_values[static_cast<size_t>(i)];
    o[i + 1] = static_cast<int32_t>(bytes.size());
  }
  return std::make_shared<const Vector>(Vector::Strings(
      TypeId::kString, n, offsets, Buffer::CopyOf(bytes.data(), bytes.size()), nullptr, 0));
}

}  // namespace

Result<Table> TableBuilder::Finish() {
  std::vector<Field> fields;
  std::vector<std::shared_ptr<const Vector>> dictionaries;
  for (auto& c : columns_) {
    c->PadTo(num_rows_);
    ApplyConventions(c.get(), options_);
    fields.push_back({c->name, c->type});
    dictionaries.push_back(c->UseDictionary(options_) ? BuildDictionary(*c) : nullptr);
  }
  Table table;
  table.schema = std::make_shared<Schema>(std::move(fields));
  const int64_t step = std::max<int64_t>(8, options_.rows_per_batch / 8 * 8);
  for (int64_t start = 0; start < num_rows_; start += step) {
    const int64_t n = std::min(step, num_rows_ - start);
    std::vector<Vector> vectors;
    vectors.reserve(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) {
      TQL_ASSIGN_OR_RETURN(Vector v, BuildSlice(*columns_[i], start, n, dictionaries[i]));
      v.set_stats(ComputeStats(v, IsIdentifierColumn(columns_[i]->name)));
      vectors.push_back(std::move(v));
    }
    table.batches.emplace_back(table.schema, std::move(vectors), n);
  }
  columns_.clear();
  index_.clear();
  num_rows_ = 0;
  return table;
}

}  // namespace tql
