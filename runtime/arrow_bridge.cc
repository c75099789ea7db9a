#include "runtime/arrow_bridge.h"

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <set>

#include "runtime/time_format.h"

namespace tql {

// ---------------------------------------------------------------------------------------------
// Export

namespace {

const uint8_t kEmptyBytes[8] = {};

struct ExportedArray {
  std::vector<BufferPtr> keep;  // buffers the consumer may read
  std::vector<const void*> buffers;
  std::vector<ArrowArray*> children;
  ArrowArray* dictionary = nullptr;
};

// Releases (unless the consumer moved it out: release is then null) and frees a child
// structure that an exported array or schema allocated.
template <typename T>
void ReleaseOwned(T* child) {
  if (child == nullptr) return;
  if (child->release != nullptr) child->release(child);
  delete child;
}

void ReleaseArray(ArrowArray* array) {
  if (array == nullptr || array->release == nullptr) return;
  auto* state = static_cast<ExportedArray*>(array->private_data);
  for (ArrowArray* child : state->children) ReleaseOwned(child);
  ReleaseOwned(state->dictionary);
  delete state;
  array->release = nullptr;
}

void FinishArray(ArrowArray* out, ExportedArray* state, int64_t length, int64_t null_count) {
  out->length = length;
  out->null_count = null_count;
  out->offset = 0;
  out->n_buffers = static_cast<int64_t>(state->buffers.size());
  out->buffers = state->buffers.empty() ? nullptr : state->buffers.data();
  out->n_children = static_cast<int64_t>(state->children.size());
  out->children = state->children.empty() ? nullptr : state->children.data();
  out->dictionary = state->dictionary;
  out->release = &ReleaseArray;
  out->private_data = state;
}

void ExportVector(const Vector& v, ArrowArray* out) {
  auto* state = new ExportedArray();
  auto add = [state](const BufferPtr& b) {
    state->keep.push_back(b);
    state->buffers.push_back(b ? static_cast<const void*>(b->data()) : nullptr);
  };
  if (v.type() != TypeId::kNull) add(v.validity_buffer());
  switch (v.type()) {
    case TypeId::kNull:
      break;
    case TypeId::kString:
    case TypeId::kDynamic:
      if (v.is_dictionary()) {
        add(v.values_buffer());
        state->dictionary = new ArrowArray();
        ExportVector(v.dictionary(), state->dictionary);
      } else {
        add(v.values_buffer());
        add(v.data_buffer());
        if (state->buffers.back() == nullptr) state->buffers.back() = kEmptyBytes;
      }
      break;
    default:
      add(v.values_buffer());
      break;
  }
  FinishArray(out, state, v.length(), v.null_count());
}

struct ExportedSchema {
  std::string format, name, metadata;
  std::vector<ArrowSchema*> children;
  ArrowSchema* dictionary = nullptr;
};

void ReleaseSchema(ArrowSchema* schema) {
  if (schema == nullptr || schema->release == nullptr) return;
  auto* state = static_cast<ExportedSchema*>(schema->private_data);
  for (ArrowSchema* child : state->children) ReleaseOwned(child);
  ReleaseOwned(state->dictionary);
  delete state;
  schema->release = nullptr;
}

void AppendInt32(std::string* out, int32_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

std::string EncodeMetadata(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  AppendInt32(&out, static_cast<int32_t>(kv.size()));
  for (const auto& [k, val] : kv) {
    AppendInt32(&out, static_cast<int32_t>(k.size()));
    out += k;
    AppendInt32(&out, static_cast<int32_t>(val.size()));
    out += val;
  }
  return out;
}

void FillSchema(ArrowSchema* out, ExportedSchema* state, int64_t flags) {
  out->format = state->format.c_str();
  out->name = state->name.c_str();
  out->metadata = state->metadata.empty() ? nullptr : state->metadata.data();
  out->flags = flags;
  out->n_children = static_cast<int64_t>(state->children.size());
  out->children = state->children.empty() ? nullptr : state->children.data();
  out->dictionary = state->dictionary;
  out->release = &ReleaseSchema;
  out->private_data = state;
}

const char* ArrowFormatFor(TypeId type) {
  switch (type) {
    case TypeId::kNull:
      return "n";
    case TypeId::kBool:
      return "b";
    case TypeId::kInt:
      return "l";
    case TypeId::kFloat:
      return "g";
    case TypeId::kString:
    case TypeId::kDynamic:
      return "u";
    case TypeId::kTimestamp:
      return "tsn:UTC";
    case TypeId::kDuration:
      return "tDn";
  }
  return "n";
}

// A column exported as dictionary-encoded when its vectors are; the schema cannot know per
// batch, so exported schemas describe string columns as plain utf8 unless told otherwise.
void ExportField(const Field& field, bool dictionary, ArrowSchema* out) {
  auto* state = new ExportedSchema();
  state->name = field.name;
  if (field.type == TypeId::kDynamic) {
    state->metadata =
        EncodeMetadata({{"ARROW:extension:name", "arrow.json"}, {"ARROW:extension:metadata", ""}});
  }
  if (dictionary) {
    state->format = "i";
    state->dictionary = new ArrowSchema();
    auto* dict_state = new ExportedSchema();
    dict_state->format = "u";
    FillSchema(state->dictionary, dict_state, ARROW_FLAG_NULLABLE);
  } else {
    state->format = ArrowFormatFor(field.type);
  }
  FillSchema(out, state, ARROW_FLAG_NULLABLE);
}

Status ExportSchemaImpl(const Schema& schema, const std::vector<bool>& dictionary,
                        ArrowSchema* out) {
  auto* state = new ExportedSchema();
  state->format = "+s";
  for (int i = 0; i < schema.num_fields(); ++i) {
    auto* child = new ArrowSchema();
    ExportField(schema.field(i), dictionary[static_cast<size_t>(i)], child);
    state->children.push_back(child);
  }
  FillSchema(out, state, 0);
  return Status::Ok();
}

std::vector<bool> DictionaryColumns(const Batch& batch) {
  std::vector<bool> dictionary;
  for (const Vector& v : batch.columns()) dictionary.push_back(v.is_dictionary());
  return dictionary;
}

// Columns dictionary-encoded in every batch stay encoded in a stream; the others are plain.
std::vector<bool> DictionaryColumns(const Table& table) {
  std::vector<bool> dictionary(static_cast<size_t>(table.schema->num_fields()),
                               !table.batches.empty());
  for (const Batch& b : table.batches) {
    for (int c = 0; c < b.num_columns(); ++c) {
      if (!b.column(c).is_dictionary()) dictionary[static_cast<size_t>(c)] = false;
    }
  }
  return dictionary;
}

// Exports `batch` with each column dictionary-encoded exactly where `dictionary` says, so
// that every batch matches the exported schema.
void ExportBatchAs(const Batch& batch, const std::vector<bool>& dictionary, ArrowArray* out) {
  auto* state = new ExportedArray();
  state->buffers.push_back(nullptr);  // a struct's validity: every row is present
  for (int c = 0; c < batch.num_columns(); ++c) {
    const Vector& v = batch.column(c);
    auto* child = new ArrowArray();
    const bool keep = dictionary[static_cast<size_t>(c)] || !v.is_dictionary();
    ExportVector(keep ? v : v.Decoded(), child);
    state->children.push_back(child);
  }
  FinishArray(out, state, batch.num_rows(), 0);
}

}  // namespace

Status ExportSchema(const Schema& schema, ArrowSchema* out) {
  return ExportSchemaImpl(schema, std::vector<bool>(static_cast<size_t>(schema.num_fields())), out);
}

Status ExportBatchSchema(const Batch& batch, ArrowSchema* out) {
  return ExportSchemaImpl(*batch.schema(), DictionaryColumns(batch), out);
}

Status ExportBatch(const Batch& batch, ArrowArray* out) {
  ExportBatchAs(batch, DictionaryColumns(batch), out);
  return Status::Ok();
}

namespace {

struct StreamState {
  Table table;
  std::vector<bool> dictionary;  // per column: exported dictionary-encoded
  size_t next = 0;
  std::string error;
};

int StreamGetSchema(ArrowArrayStream* stream, ArrowSchema* out) {
  auto* state = static_cast<StreamState*>(stream->private_data);
  Status s = ExportSchemaImpl(*state->table.schema, state->dictionary, out);
  if (!s.ok()) {
    state->error = s.message();
    return EINVAL;
  }
  return 0;
}

int StreamGetNext(ArrowArrayStream* stream, ArrowArray* out) {
  auto* state = static_cast<StreamState*>(stream->private_data);
  if (state->next >= state->table.batches.size()) {
    std::memset(out, 0, sizeof(*out));  // release == nullptr marks the end
    return 0;
  }
  ExportBatchAs(state->table.batches[state->next++], state->dictionary, out);
  return 0;
}

const char* StreamGetLastError(ArrowArrayStream* stream) {
  auto* state = static_cast<StreamState*>(stream->private_data);
  return state->error.empty() ? nullptr : state->error.c_str();
}

void StreamRelease(ArrowArrayStream* stream) {
  if (stream->release == nullptr) return;
  delete static_cast<StreamState*>(stream->private_data);
  stream->release = nullptr;
}

}  // namespace

Status ExportTableStream(Table table, ArrowArrayStream* out) {
  if (!table.schema) return Status::InvalidInput("cannot export a table without a schema");
  auto* state = new StreamState();
  state->dictionary = DictionaryColumns(table);
  state->table = std::move(table);
  out->get_schema = &StreamGetSchema;
  out->get_next = &StreamGetNext;
  out->get_last_error = &StreamGetLastError;
  out->release = &StreamRelease;
  out->private_data = state;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Import

struct ArrowImporter::Column {
  std::string name;
  TypeId type = TypeId::kNull;
  std::vector<int> path;    // child indexes from the top-level struct
  std::string format;       // the leaf's format (the index format when dictionary-encoded)
  std::string dict_format;  // format of the dictionary's values, empty when not encoded
  int64_t scale = 1;        // factor from the stored unit to nanoseconds
};

namespace {

// Human-readable Arrow type for error messages.
std::string DescribeFormat(std::string_view f) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"z", "binary"},
      {"Z", "large_binary"},
      {"vz", "binary_view"},
      {"vu", "utf8_view"},
      {"e", "float16"},
      {"+l", "list"},
      {"+L", "large_list"},
      {"+vl", "list_view"},
      {"+m", "map"},
      {"+ud", "dense_union"},
      {"+us", "sparse_union"},
      {"+r", "run_end_encoded"},
      {"tts", "time32[s]"},
      {"ttm", "time32[ms]"},
      {"ttu", "time64[us]"},
      {"ttn", "time64[ns]"},
      {"tiM", "interval[months]"},
      {"tiD", "interval[day_time]"},
      {"tin", "interval[month_day_nano]"}};
  for (const auto& [k, name] : kNames) {
    if (f == k) return fmt::format("{} ('{}')", name, f);
  }
  if (f.starts_with("d:")) return fmt::format("decimal ('{}')", f);
  if (f.starts_with("w:")) return fmt::format("fixed_size_binary ('{}')", f);
  if (f.starts_with("+w:")) return fmt::format("fixed_size_list ('{}')", f);
  return fmt::format("'{}'", f);
}

bool IsIntegerFormat(std::string_view f) {
  return f.size() == 1 && std::strchr("cCsSiIlL", f[0]) != nullptr;
}

// Extension name from Arrow's binary metadata encoding, or empty.
std::string ExtensionName(const char* metadata) {
  if (metadata == nullptr) return {};
  auto read32 = [](const char*& p) {
    int32_t v;
    std::memcpy(&v, p, sizeof(v));
    p += sizeof(v);
    return v;
  };
  const char* p = metadata;
  const int32_t n = read32(p);
  for (int32_t i = 0; i < n && i < 1024; ++i) {
    const int32_t klen = read32(p);
    if (klen < 0) return {};
    std::string_view key(p, static_cast<size_t>(klen));
    p += klen;
    const int32_t vlen = read32(p);
    if (vlen < 0) return {};
    std::string_view value(p, static_cast<size_t>(vlen));
    p += vlen;
    if (key == "ARROW:extension:name") return std::string(value);
  }
  return {};
}

Status ClassifyLeaf(const ArrowSchema& s, ArrowImporter::Column* col) {
  const std::string_view f = s.format ? s.format : "";
  const bool json = ExtensionName(s.metadata) == "arrow.json";
  if (s.dictionary != nullptr) {
    const std::string_view df = s.dictionary->format ? s.dictionary->format : "";
    if (!IsIntegerFormat(f)) {
      return Status::Unsupported("column '{}': dictionary index type {} is not an integer",
                                 col->name, DescribeFormat(f));
    }
    if ((df != "u" && df != "U") || json) {
      return Status::Unsupported(
          "column '{}': dictionary-encoded {} is not supported (only utf8 dictionaries)", col->name,
          DescribeFormat(df));
    }
    col->type = TypeId::kString;
    col->format = f;
    col->dict_format = df;
    return Status::Ok();
  }
  col->format = f;
  if (f == "n") {
    col->type = TypeId::kNull;
  } else if (f == "b") {
    col->type = TypeId::kBool;
  } else if (IsIntegerFormat(f)) {
    col->type = TypeId::kInt;
  } else if (f == "f" || f == "g") {
    col->type = TypeId::kFloat;
  } else if (f == "u" || f == "U") {
    col->type = json ? TypeId::kDynamic : TypeId::kString;
  } else if (f.size() >= 4 && f.starts_with("ts") && f[3] == ':') {
    col->type = TypeId::kTimestamp;
  } else if (f.size() == 3 && f.starts_with("tD")) {
    col->type = TypeId::kDuration;
  } else if (f == "tdD" || f == "tdm") {
    col->type = TypeId::kTimestamp;
    col->scale = f == "tdD" ? kNanosPerDay : kNanosPerMilli;
    return Status::Ok();
  } else {
    return Status::Unsupported("column '{}' has Arrow type {}, which tql cannot read", col->name,
                               DescribeFormat(f));
  }
  if (col->type == TypeId::kTimestamp || col->type == TypeId::kDuration) {
    switch (f[2]) {
      case 's':
        col->scale = 1'000'000'000;
        break;
      case 'm':
        col->scale = 1'000'000;
        break;
      case 'u':
        col->scale = 1'000;
        break;
      case 'n':
        col->scale = 1;
        break;
      default:
        return Status::Unsupported("column '{}' has Arrow type {}, which tql cannot read",
                                   col->name, DescribeFormat(f));
    }
  }
  return Status::Ok();
}

Status CollectColumns(const ArrowSchema& s, const std::string& prefix, std::vector<int>* path,
                      std::vector<ArrowImporter::Column>* out, int depth) {
  if (depth > 64) return Status::Unsupported("Arrow schema nests structs more than 64 deep");
  for (int64_t i = 0; i < s.n_children; ++i) {
    const ArrowSchema* child = s.children[i];
    if (child == nullptr || child->format == nullptr) {
      return Status::InvalidInput("Arrow schema child {} of '{}' is missing", i, prefix);
    }
    std::string name = child->name ? child->name : "";
    if (name.empty()) name = fmt::format("column{}", i);
    if (!prefix.empty()) name = prefix + "." + name;
    path->push_back(static_cast<int>(i));
    if (std::string_view(child->format) == "+s") {
      TQL_RETURN_IF_ERROR(CollectColumns(*child, name, path, out, depth + 1));
    } else {
      ArrowImporter::Column col;
      col.name = name;
      col.path = *path;
      TQL_RETURN_IF_ERROR(ClassifyLeaf(*child, &col));
      out->push_back(std::move(col));
    }
    path->pop_back();
  }
  return Status::Ok();
}

}  // namespace

Result<ArrowImporter> ArrowImporter::Make(const ArrowSchema& schema) {
  if (schema.release == nullptr) return Status::InvalidInput("Arrow schema was already released");
  if (schema.format == nullptr || std::string_view(schema.format) != "+s") {
    return Status::InvalidInput("expected an Arrow struct schema ('+s') for a batch, got {}",
                                DescribeFormat(schema.format ? schema.format : ""));
  }
  auto columns = std::make_shared<std::vector<Column>>();
  std::vector<int> path;
  TQL_RETURN_IF_ERROR(CollectColumns(schema, "", &path, columns.get(), 0));
  std::vector<Field> fields;
  std::set<std::string> seen;
  for (const Column& c : *columns) {
    if (!seen.insert(c.name).second) {
      return Status::InvalidInput("Arrow schema has two columns named '{}'", c.name);
    }
    fields.push_back({c.name, c.type});
  }
  ArrowImporter importer;
  importer.schema_ = std::make_shared<Schema>(std::move(fields));
  importer.columns_ = std::move(columns);
  return importer;
}

namespace {

using Owner = std::shared_ptr<const void>;

struct ImportedArray {
  ArrowArray array;
  ~ImportedArray() {
    if (array.release != nullptr) array.release(&array);
  }
};

// Where a leaf's rows are: the array, the row offset into it, and the ancestors' validity.
struct Leaf {
  const ArrowArray* array;
  int64_t offset;  // absolute row offset into the leaf's buffers
  std::vector<std::pair<const uint8_t*, int64_t>> parent_validity;  // (bitmap, bit offset)
};

Status CheckArray(const ArrowArray* a, int64_t n_buffers, const std::string& name) {
  if (a == nullptr) return Status::InvalidInput("column '{}': Arrow array is missing", name);
  if (a->length < 0 || a->offset < 0) {
    return Status::InvalidInput("column '{}': negative Arrow length or offset", name);
  }
  if (a->n_buffers != n_buffers) {
    return Status::InvalidInput("column '{}': Arrow array has {} buffers, its type needs {}", name,
                                a->n_buffers, n_buffers);
  }
  if (n_buffers > 0 && a->buffers == nullptr) {
    return Status::InvalidInput("column '{}': Arrow array has no buffer list", name);
  }
  return Status::Ok();
}

// The leaf's validity over rows [0, length), merged with the ancestors' struct validity.
BufferPtr ImportValidity(const Leaf& leaf, int64_t length, const Owner& owner) {
  const ArrowArray* a = leaf.array;
  const uint8_t* bits =
      a->n_buffers > 0 && a->null_count != 0 ? static_cast<const uint8_t*>(a->buffers[0]) : nullptr;
  BufferPtr result;
  if (bits != nullptr) {
    if (leaf.offset % 8 == 0) {
      result =
          Buffer::Wrap(bits + leaf.offset / 8, static_cast<size_t>(bits::BytesFor(length)), owner);
    } else {
      result = bits::CopyRange(bits, leaf.offset, length);
    }
  }
  for (const auto& [pbits, poff] : leaf.parent_validity) {
    auto merged = result ? Buffer::CopyOf(result->data(), result->size()) : [length] {
      auto b = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(length)));
      std::memset(b->mutable_data(), 0xff, b->size());
      return b;
    }();
    for (int64_t i = 0; i < length; ++i) {
      if (!bits::Get(pbits, poff + i)) bits::Clear(merged->mutable_data(), i);
    }
    result = merged;
  }
  return result;
}

template <typename T>
Result<BufferPtr> WidenToInt64(const void* src, int64_t offset, int64_t length, int64_t scale,
                               const std::string& name) {
  auto out = Buffer::Allocate(static_cast<size_t>(length) * 8);
  const T* in = static_cast<const T*>(src) + offset;
  int64_t* dst = out->mutable_as<int64_t>();
  for (int64_t i = 0; i < length; ++i) {
    if constexpr (std::is_same_v<T, uint64_t>) {
      if (in[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::InvalidInput("column '{}' row {}: uint64 value {} does not fit in int", name,
                                    i, in[i]);
      }
    }
    if (__builtin_mul_overflow(static_cast<int64_t>(in[i]), scale, &dst[i])) {
      // Nulls may hold garbage; a null row's overflow is harmless and set to 0.
      dst[i] = 0;
    }
  }
  return BufferPtr(out);
}

Result<BufferPtr> ImportInt64Values(const ArrowImporter::Column& col, const void* src,
                                    int64_t offset, int64_t length, const Owner& owner) {
  const std::string& f = col.format;
  if ((f == "l" || f.starts_with("ts") || f.starts_with("tD") || f == "tdm") && col.scale == 1) {
    return Buffer::Wrap(static_cast<const int64_t*>(src) + offset, static_cast<size_t>(length) * 8,
                        owner);
  }
  switch (f[0]) {
    case 'c':
      return WidenToInt64<int8_t>(src, offset, length, col.scale, col.name);
    case 'C':
      return WidenToInt64<uint8_t>(src, offset, length, col.scale, col.name);
    case 's':
      return WidenToInt64<int16_t>(src, offset, length, col.scale, col.name);
    case 'S':
      return WidenToInt64<uint16_t>(src, offset, length, col.scale, col.name);
    case 'i':
      return WidenToInt64<int32_t>(src, offset, length, col.scale, col.name);
    case 'I':
      return WidenToInt64<uint32_t>(src, offset, length, col.scale, col.name);
    case 'L':
      return WidenToInt64<uint64_t>(src, offset, length, col.scale, col.name);
    default:
      break;
  }
  if (f == "tdD") return WidenToInt64<int32_t>(src, offset, length, col.scale, col.name);
  return WidenToInt64<int64_t>(src, offset, length, col.scale, col.name);
}

// Checks offsets and UTF-8 of string rows [offset, offset + length) and imports them.
template <typename OffsetT>
Result<Vector> ImportStrings(const ArrowImporter::Column& col, TypeId type, const ArrowArray* a,
                             int64_t offset, int64_t length, BufferPtr validity,
                             const Owner& owner) {
  const OffsetT* offs = static_cast<const OffsetT*>(a->buffers[1]);
  const char* data = static_cast<const char*>(a->buffers[2]);
  if (offs == nullptr) {
    if (length == 0) return Vector::Nulls(type, 0);
    return Status::InvalidInput("column '{}': Arrow string array has no offsets buffer", col.name);
  }
  offs += offset;
  if (offs[0] < 0) return Status::InvalidInput("column '{}': negative string offset", col.name);
  for (int64_t i = 0; i < length; ++i) {
    if (offs[i + 1] < offs[i]) {
      return Status::InvalidInput("column '{}' row {}: string offsets decrease", col.name, i);
    }
  }
  const int64_t begin = static_cast<int64_t>(offs[0]);
  const int64_t end = static_cast<int64_t>(offs[length]);
  if (end > begin && data == nullptr) {
    return Status::InvalidInput("column '{}': Arrow string array has no data buffer", col.name);
  }
  if (end > begin && !simdjson::validate_utf8(data + begin, static_cast<size_t>(end - begin))) {
    for (int64_t i = 0; i < length; ++i) {
      if (!simdjson::validate_utf8(data + offs[i], static_cast<size_t>(offs[i + 1] - offs[i]))) {
        return Status::InvalidInput("column '{}' row {}: invalid UTF-8", col.name, i);
      }
    }
  }
  if constexpr (sizeof(OffsetT) == 4) {
    return Vector::Strings(
        type, length, Buffer::Wrap(offs, static_cast<size_t>(length + 1) * 4, owner),
        Buffer::Wrap(data ? data : "", static_cast<size_t>(end), owner), std::move(validity));
  } else {
    if (end - begin > std::numeric_limits<int32_t>::max()) {
      return Status::Unsupported("column '{}': more than 2 GiB of string data in one batch",
                                 col.name);
    }
    auto rebased = Buffer::Allocate(static_cast<size_t>(length + 1) * 4);
    int32_t* dst = rebased->mutable_as<int32_t>();
    for (int64_t i = 0; i <= length; ++i) dst[i] = static_cast<int32_t>(offs[i] - begin);
    return Vector::Strings(
        type, length, rebased,
        Buffer::Wrap(data ? data + begin : "", static_cast<size_t>(end - begin), owner),
        std::move(validity));
  }
}

Result<Vector> ImportPlainStrings(const ArrowImporter::Column& col, TypeId type,
                                  const std::string& format, const ArrowArray* a, int64_t offset,
                                  int64_t length, BufferPtr validity, const Owner& owner) {
  TQL_RETURN_IF_ERROR(CheckArray(a, 3, col.name));
  if (format == "u") {
    return ImportStrings<int32_t>(col, type, a, offset, length, std::move(validity), owner);
  }
  return ImportStrings<int64_t>(col, type, a, offset, length, std::move(validity), owner);
}

Result<Vector> ImportLeaf(const ArrowImporter::Column& col, const Leaf& leaf, int64_t length,
                          const Owner& owner) {
  const ArrowArray* a = leaf.array;
  if (a->length < leaf.offset - a->offset + length) {
    return Status::InvalidInput("column '{}': Arrow child array is shorter than its parent",
                                col.name);
  }
  if (col.type == TypeId::kNull) {
    TQL_RETURN_IF_ERROR(CheckArray(a, 0, col.name));
    return Vector::Nulls(TypeId::kNull, length);
  }
  if (!col.dict_format.empty()) {
    TQL_RETURN_IF_ERROR(CheckArray(a, 2, col.name));
    const ArrowArray* d = a->dictionary;
    if (d == nullptr) {
      return Status::InvalidInput("column '{}': dictionary-encoded array has no dictionary",
                                  col.name);
    }
    TQL_ASSIGN_OR_RETURN(
        Vector dict,
        ImportPlainStrings(col, TypeId::kString, col.dict_format, d, d->offset, d->length,
                           ImportValidity({d, d->offset, {}}, d->length, owner), owner));
    BufferPtr validity = ImportValidity(leaf, length, owner);
    if (a->buffers[1] == nullptr && length > 0) {
      return Status::InvalidInput("column '{}': dictionary array has no index buffer", col.name);
    }
    ArrowImporter::Column index_col = col;
    index_col.scale = 1;
    BufferPtr codes;
    if (col.format == "i") {
      codes = Buffer::Wrap(static_cast<const int32_t*>(a->buffers[1]) + leaf.offset,
                           static_cast<size_t>(length) * 4, owner);
    } else {
      TQL_ASSIGN_OR_RETURN(BufferPtr wide,
                           ImportInt64Values(index_col, a->buffers[1], leaf.offset, length, owner));
      auto narrow = Buffer::Allocate(static_cast<size_t>(length) * 4);
      for (int64_t i = 0; i < length; ++i) {
        const int64_t c = wide->as<int64_t>()[i];
        narrow->mutable_as<int32_t>()[i] =
            c < 0 || c > std::numeric_limits<int32_t>::max() ? -1 : static_cast<int32_t>(c);
      }
      codes = narrow;
    }
    std::shared_ptr<Buffer> fixed_validity;  // set when null dictionary entries add nulls
    const int32_t* c = codes->as<int32_t>();
    for (int64_t i = 0; i < length; ++i) {
      const bool valid = validity == nullptr || bits::Get(validity->data(), i);
      if (!valid) continue;
      if (c[i] < 0 || c[i] >= dict.length()) {
        return Status::InvalidInput("column '{}' row {}: dictionary index {} out of range [0, {})",
                                    col.name, i, c[i], dict.length());
      }
      if (dict.IsNull(c[i])) {
        if (!fixed_validity) {
          fixed_validity = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(length)));
          if (validity) {
            std::memcpy(fixed_validity->mutable_data(), validity->data(), fixed_validity->size());
          } else {
            std::memset(fixed_validity->mutable_data(), 0xff, fixed_validity->size());
          }
        }
        bits::Clear(fixed_validity->mutable_data(), i);
      }
    }
    if (fixed_validity) validity = fixed_validity;
    return Vector::Dictionary(length, codes, validity,
                              std::make_shared<const Vector>(std::move(dict)));
  }
  const int64_t n_buffers = IsStringBacked(col.type) ? 3 : 2;
  TQL_RETURN_IF_ERROR(CheckArray(a, n_buffers, col.name));
  BufferPtr validity = ImportValidity(leaf, length, owner);
  if (IsStringBacked(col.type)) {
    return ImportPlainStrings(col, col.type, col.format, a, leaf.offset, length,
                              std::move(validity), owner);
  }
  if (a->buffers[1] == nullptr) {
    if (length == 0) return Vector::Nulls(col.type, 0);
    return Status::InvalidInput("column '{}': Arrow array has no values buffer", col.name);
  }
  if (col.type == TypeId::kBool) {
    const auto* vbits = static_cast<const uint8_t*>(a->buffers[1]);
    BufferPtr values = leaf.offset % 8 == 0
                           ? Buffer::Wrap(vbits + leaf.offset / 8,
                                          static_cast<size_t>(bits::BytesFor(length)), owner)
                           : BufferPtr(bits::CopyRange(vbits, leaf.offset, length));
    return Vector::Fixed(TypeId::kBool, length, values, std::move(validity));
  }
  if (col.type == TypeId::kFloat) {
    if (col.format == "g") {
      return Vector::Fixed(TypeId::kFloat, length,
                           Buffer::Wrap(static_cast<const double*>(a->buffers[1]) + leaf.offset,
                                        static_cast<size_t>(length) * 8, owner),
                           std::move(validity));
    }
    auto out = Buffer::Allocate(static_cast<size_t>(length) * 8);
    const float* in = static_cast<const float*>(a->buffers[1]) + leaf.offset;
    for (int64_t i = 0; i < length; ++i) out->mutable_as<double>()[i] = in[i];
    return Vector::Fixed(TypeId::kFloat, length, out, std::move(validity));
  }
  TQL_ASSIGN_OR_RETURN(BufferPtr values,
                       ImportInt64Values(col, a->buffers[1], leaf.offset, length, owner));
  return Vector::Fixed(col.type, length, values, std::move(validity));
}

}  // namespace

Result<Batch> ArrowImporter::Import(ArrowArray* array) const {
  if (array == nullptr || array->release == nullptr) {
    return Status::InvalidInput("Arrow array is null or was already released");
  }
  // Move the array into a shared owner; the producer's release runs when the last user goes.
  auto holder = std::make_shared<ImportedArray>();
  holder->array = *array;
  array->release = nullptr;
  const ArrowArray& top = holder->array;
  if (top.length < 0 || top.offset < 0) {
    return Status::InvalidInput("Arrow batch has a negative length or offset");
  }
  std::vector<Vector> vectors;
  vectors.reserve(columns_->size());
  for (const Column& col : *columns_) {
    Leaf leaf{&top, top.offset, {}};
    const ArrowArray* node = &top;
    for (size_t depth = 0; depth < col.path.size(); ++depth) {
      const int idx = col.path[depth];
      if (node->n_children <= idx || node->children == nullptr || node->children[idx] == nullptr) {
        return Status::InvalidInput("column '{}': Arrow batch is missing child {}", col.name, idx);
      }
      if (depth > 0 && node->null_count != 0 && node->n_buffers >= 1 && node->buffers != nullptr &&
          node->buffers[0] != nullptr) {
        leaf.parent_validity.emplace_back(static_cast<const uint8_t*>(node->buffers[0]),
                                          leaf.offset);
      }
      const ArrowArray* child = node->children[idx];
      if (child->length < 0 || child->offset < 0) {
        return Status::InvalidInput("column '{}': negative Arrow length or offset", col.name);
      }
      leaf.offset += child->offset;  // a struct's offset applies to its children
      node = child;
    }
    leaf.array = node;
    TQL_ASSIGN_OR_RETURN(Vector v, ImportLeaf(col, leaf, top.length, holder));
    vectors.push_back(std::move(v));
  }
  return Batch::Make(schema_, std::move(vectors), top.length);
}

Result<Table> ImportStream(ArrowArrayStream* stream) {
  if (stream == nullptr || stream->release == nullptr) {
    return Status::InvalidInput("Arrow stream is null or was already released");
  }
  struct Releaser {
    ArrowArrayStream* s;
    ~Releaser() {
      if (s->release != nullptr) s->release(s);
    }
  } releaser{stream};
  auto last_error = [stream]() -> std::string {
    const char* e = stream->get_last_error ? stream->get_last_error(stream) : nullptr;
    return e ? e : "no message";
  };
  ArrowSchema schema{};
  if (stream->get_schema(stream, &schema) != 0) {
    return Status::InvalidInput("Arrow stream could not produce a schema: {}", last_error());
  }
  Result<ArrowImporter> importer = ArrowImporter::Make(schema);
  if (schema.release != nullptr) schema.release(&schema);
  if (!importer.ok()) return importer.status();
  Table table;
  table.schema = importer->schema();
  for (;;) {
    ArrowArray array{};
    if (stream->get_next(stream, &array) != 0) {
      return Status::InvalidInput("Arrow stream failed: {}", last_error());
    }
    if (array.release == nullptr) break;
    TQL_ASSIGN_OR_RETURN(Batch batch, importer->Import(&array));
    table.batches.push_back(std::move(batch));
  }
  return table;
}

}  // namespace tql
