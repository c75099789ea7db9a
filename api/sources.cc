#include "api/sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace tql::api {

namespace {

tql_compare_op ToOp(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return TQL_OP_EQ;
    case CompareOp::kNe:
      return TQL_OP_NE;
    case CompareOp::kLt:
      return TQL_OP_LT;
    case CompareOp::kLe:
      return TQL_OP_LE;
    case CompareOp::kGt:
      return TQL_OP_GT;
    case CompareOp::kGe:
      return TQL_OP_GE;
  }
  return TQL_OP_EQ;
}

tql_type ToType(TypeId type) {
  switch (type) {
    case TypeId::kNull:
      return TQL_TYPE_NULL;
    case TypeId::kBool:
      return TQL_TYPE_BOOL;
    case TypeId::kInt:
      return TQL_TYPE_INT;
    case TypeId::kFloat:
      return TQL_TYPE_FLOAT;
    case TypeId::kString:
      return TQL_TYPE_STRING;
    case TypeId::kTimestamp:
      return TQL_TYPE_TIMESTAMP;
    case TypeId::kDuration:
      return TQL_TYPE_DURATION;
    case TypeId::kDynamic:
      return TQL_TYPE_DYNAMIC;
  }
  return TQL_TYPE_NULL;
}

// The message of a producer's failure: its get_last_error text when it gives one.
std::string ProducerError(ArrowArrayStream* stream, int code) {
  const char* text = stream->get_last_error != nullptr ? stream->get_last_error(stream) : nullptr;
  if (text != nullptr && *text != '\0') return text;
  return fmt::format("error code {} ({})", code, std::strerror(code));
}

// `status` with the source's name in front of its message.
Status InSource(const std::string& source, const Status& status) {
  return Status(status.code(), fmt::format("source '{}': {}", source, status.message()));
}

Result<ArrowImporter> MakeImporter(const std::string& source, const ArrowSchema& schema) {
  Result<ArrowImporter> importer = ArrowImporter::Make(schema);
  if (!importer.ok()) return InSource(source, importer.status());
  return importer;
}

// The importer of a stream's schema (read with get_schema, then released).
Result<ArrowImporter> StreamImporter(const std::string& source, ArrowArrayStream* stream) {
  ArrowSchema schema{};
  const int rc = stream->get_schema(stream, &schema);
  if (rc != 0) {
    return Status::InvalidInput("source '{}': the stream's get_schema failed: {}", source,
                                ProducerError(stream, rc));
  }
  Result<ArrowImporter> importer = MakeImporter(source, schema);
  if (schema.release != nullptr) schema.release(&schema);
  return importer;
}

// For each of `want`, the column of `got` with its name (the last one when names repeat),
// which must have its type. `what` names `got` in errors ("stream", "batch"); `missing`
// follows "has no column 'x'".
Result<std::vector<int>> ColumnsByName(const std::string& source, const Schema& got,
                                       const std::vector<Field>& want, const char* what,
                                       const char* missing) {
  std::vector<int> mapping;
  for (const Field& w : want) {
    int found = -1;
    for (int i = 0; i < got.num_fields(); ++i) {
      if (got.field(i).name == w.name) found = i;
    }
    if (found < 0) {
      return Status::InvalidInput("source '{}': the {} has no column '{}'{}", source, what, w.name,
                                  missing);
    }
    if (got.field(found).type != w.type) {
      return Status::InvalidInput(
          "source '{}': the {}'s column '{}' holds {}, the source "
          "declares {}",
          source, what, w.name, TypeName(got.field(found).type), TypeName(w.type));
    }
    mapping.push_back(found);
  }
  return mapping;
}

// An Arrow stream's batches as the columns of one scan: `mapping[i]` is the column of the
// stream's schema that holds the scan's i-th column.
class ArrowBatchStream final : public BatchStream {
 public:
  ArrowBatchStream(const ScanRequest& request, std::shared_ptr<ArrowArrayStream> stream,
                   std::shared_ptr<const ArrowImporter> importer, std::vector<int> mapping)
      : source_(request.source),
        stream_(std::move(stream)),
        importer_(std::move(importer)),
        mapping_(std::move(mapping)) {
    std::vector<Field> fields;
    for (int c : request.columns) fields.push_back(request.schema->field(c));
    schema_ = std::make_shared<Schema>(std::move(fields));
  }

  Result<std::optional<Batch>> Next() override {
    ArrowArray array{};
    const int rc = stream_->get_next(stream_.get(), &array);
    if (rc != 0) {
      return Status::InvalidInput("source '{}': the producer failed: {}", source_,
                                  ProducerError(stream_.get(), rc));
    }
    if (array.release == nullptr) return std::optional<Batch>();  // the end
    Result<Batch> batch = importer_->Import(&array);
    if (!batch.ok()) return InSource(source_, batch.status());
    std::vector<Vector> columns;
    columns.reserve(mapping_.size());
    for (int c : mapping_) columns.push_back(batch->column(c));
    return std::optional<Batch>(Batch(schema_, std::move(columns), batch->num_rows()));
  }

 private:
  std::string source_;
  std::shared_ptr<ArrowArrayStream> stream_;
  std::shared_ptr<const ArrowImporter> importer_;
  std::vector<int> mapping_;
  SchemaPtr schema_;  // the scan's columns
};

std::shared_ptr<ArrowArrayStream> OwnStream(ArrowArrayStream stream) {
  return std::shared_ptr<ArrowArrayStream>(new ArrowArrayStream(stream), [](ArrowArrayStream* s) {
    if (s->release != nullptr) s->release(s);
    delete s;
  });
}

// A stream registered with tql_catalog_add_arrow_stream: read by the first scan only.
class OnceStreamSource final : public StreamSource {
 public:
  OnceStreamSource(std::string name, std::shared_ptr<ArrowArrayStream> stream,
                   std::shared_ptr<const ArrowImporter> importer)
      : name_(std::move(name)), stream_(std::move(stream)), importer_(std::move(importer)) {}

  Result<std::unique_ptr<BatchStream>> Open(const ScanRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (taken_) {
      return Status::InvalidArgument(
          "source '{}' is an Arrow stream, which can be read once, and an earlier scan read "
          "it; register the batches as arrays (tql_catalog_add_arrow_array) or a callback "
          "source to scan them again",
          name_);
    }
    taken_ = true;
    return std::unique_ptr<BatchStream>(
        std::make_unique<ArrowBatchStream>(request, stream_, importer_, request.columns));
  }

 private:
  std::string name_;
  std::shared_ptr<ArrowArrayStream> stream_;
  std::shared_ptr<const ArrowImporter> importer_;
  std::mutex mu_;
  bool taken_ = false;
};

// A host's pull callbacks: `open` makes a stream for each scan.
class CallbackSource final : public StreamSource {
 public:
  CallbackSource(std::string name, SchemaPtr schema, const tql_source_callbacks& callbacks)
      : name_(std::move(name)), schema_(std::move(schema)), callbacks_(callbacks) {}
  ~CallbackSource() override {
    if (callbacks_.release != nullptr) callbacks_.release(callbacks_.user_data);
  }
  CallbackSource(const CallbackSource&) = delete;
  CallbackSource& operator=(const CallbackSource&) = delete;

  Result<std::unique_ptr<BatchStream>> Open(const ScanRequest& request) override {
    std::unique_ptr<tql_scan> scan = MakeScan(request);
    ArrowArrayStream raw{};
    const int rc = callbacks_.open(callbacks_.user_data, scan.get(), &raw);
    std::shared_ptr<ArrowArrayStream> stream = OwnStream(raw);
    if (rc != 0) {
      std::string why = raw.release != nullptr ? ProducerError(stream.get(), rc)
                                               : fmt::format("error code {}", rc);
      return Status::InvalidInput("source '{}': the host's open callback failed: {}", name_, why);
    }
    if (raw.release == nullptr || raw.get_schema == nullptr || raw.get_next == nullptr) {
      return Status::InvalidInput(
          "source '{}': the host's open callback returned 0 but did not fill the stream", name_);
    }
    TQL_ASSIGN_OR_RETURN(ArrowImporter importer, StreamImporter(name_, stream.get()));
    // The scan's columns by name; the stream may hold more, in any order.
    std::vector<Field> want;
    for (int c : request.columns) want.push_back(schema_->field(c));
    TQL_ASSIGN_OR_RETURN(
        std::vector<int> mapping,
        ColumnsByName(name_, *importer.schema(), want, "stream", ", which the scan reads"));
    auto shared = std::make_shared<const ArrowImporter>(std::move(importer));
    return std::unique_ptr<BatchStream>(
        std::make_unique<ArrowBatchStream>(request, stream, shared, std::move(mapping)));
  }

 private:
  std::string name_;
  SchemaPtr schema_;
  tql_source_callbacks callbacks_;
};

// A source declared for pushing: a scan of it is an error that says where its batches go.
class DeclaredSource final : public StreamSource {
 public:
  explicit DeclaredSource(std::string name) : name_(std::move(name)) {}
  Result<std::unique_ptr<BatchStream>> Open(const ScanRequest&) override {
    return Status::InvalidArgument(
        "source '{}' was declared for pushing: its batches come through tql_push_batch, so a "
        "query over it runs with tql_push_open, not tql_query_execute",
        name_);
  }

 private:
  std::string name_;
};

}  // namespace

Result<Batch> ImportByName(const std::string& source, const SchemaPtr& schema,
                           const ArrowSchema& array_schema, ArrowArray array) {
  Result<ArrowImporter> importer = MakeImporter(source, array_schema);
  if (!importer.ok()) {
    if (array.release != nullptr) array.release(&array);
    return importer.status();
  }
  Result<Batch> batch = importer->Import(&array);
  if (!batch.ok()) return InSource(source, batch.status());
  TQL_ASSIGN_OR_RETURN(std::vector<int> mapping,
                       ColumnsByName(source, *importer->schema(), schema->fields(), "batch", ""));
  std::vector<Vector> columns;
  for (int c : mapping) columns.push_back(batch->column(c));
  return Batch(schema, std::move(columns), batch->num_rows());
}

std::unique_ptr<tql_scan> MakeScan(const ScanRequest& request) {
  auto scan = std::make_unique<tql_scan>();
  scan->source = request.source;
  std::vector<Field> fields;
  for (int c : request.columns) {
    fields.push_back(request.schema->field(c));
    scan->columns.push_back(fields.back().name);
  }
  const Schema projected(std::move(fields));
  for (const ScanPredicate& p : request.predicates) {
    tql_scan::Predicate out;
    out.column = projected.field(p.column).name;
    out.op = ToOp(p.op);
    out.value = p.constant;
    out.text = p.ToString(projected);
    scan->predicates.push_back(std::move(out));
  }
  return scan;
}

bool ScanPredicateAt(const tql_scan& scan, size_t index, tql_predicate* out) {
  if (index >= scan.predicates.size()) return false;
  const tql_scan::Predicate& p = scan.predicates[index];
  *out = tql_predicate{};
  out->column = p.column.c_str();
  out->op = p.op;
  out->text = p.text.c_str();
  tql_value& v = out->value;
  v.type = p.value.null ? TQL_TYPE_NULL : ToType(p.value.type);
  v.bool_value = p.value.type == TypeId::kBool && p.value.i != 0 ? 1 : 0;
  v.int_value = p.value.i;
  v.float_value = p.value.f;
  v.string_value = p.value.s.c_str();
  v.string_length = p.value.s.size();
  return true;
}

Status SourceSet::CheckNew(const std::string& name) const {
  if (std::binary_search(names_.begin(), names_.end(), name)) {
    return Status::InvalidArgument("a source named '{}' is already registered", name);
  }
  return Status::Ok();
}

void SourceSet::Register(const std::string& name, SchemaPtr schema, bool open) {
  catalog_.Add(name, std::move(schema), open);
  names_.insert(std::lower_bound(names_.begin(), names_.end(), name), name);
}

const char* SourceSet::name(size_t index) const {
  return index < names_.size() ? names_[index].c_str() : nullptr;
}

Status SourceSet::AddArray(const std::string& name, const ArrowSchema& schema, ArrowArray array) {
  auto it = importers_.find(name);
  if (it == importers_.end()) {
    if (Status s = CheckNew(name); !s.ok()) {
      if (array.release != nullptr) array.release(&array);
      return s;
    }
    Result<ArrowImporter> made = MakeImporter(name, schema);
    if (!made.ok()) {
      if (array.release != nullptr) array.release(&array);
      return made.status();
    }
    auto importer = std::make_shared<const ArrowImporter>(std::move(made).value());
    TQL_ASSIGN_OR_RETURN(Batch batch, importer->Import(&array));
    Table table;
    table.schema = importer->schema();
    table.batches.push_back(std::move(batch));
    Register(name, table.schema, /*open=*/false);
    tables_.emplace(name, std::move(table));
    importers_.emplace(name, std::move(importer));
    return Status::Ok();
  }
  // Later batches must describe the same columns.
  Result<ArrowImporter> again = ArrowImporter::Make(schema);
  if (!again.ok() || !(*again->schema() == *it->second->schema())) {
    if (array.release != nullptr) array.release(&array);
    return Status::InvalidInput(
        "source '{}': the batch's schema differs from the source's first batch", name);
  }
  TQL_ASSIGN_OR_RETURN(Batch batch, it->second->Import(&array));
  tables_[name].batches.push_back(std::move(batch));
  return Status::Ok();
}

Status SourceSet::AddStream(const std::string& name, ArrowArrayStream stream) {
  std::shared_ptr<ArrowArrayStream> owned = OwnStream(stream);
  TQL_RETURN_IF_ERROR(CheckNew(name));
  if (owned->get_schema == nullptr || owned->get_next == nullptr) {
    return Status::InvalidInput("source '{}': the stream has no get_schema or get_next", name);
  }
  TQL_ASSIGN_OR_RETURN(ArrowImporter importer, StreamImporter(name, owned.get()));
  auto shared = std::make_shared<const ArrowImporter>(std::move(importer));
  Register(name, shared->schema(), /*open=*/false);
  streams_.emplace(name, std::make_shared<OnceStreamSource>(name, std::move(owned), shared));
  return Status::Ok();
}

Status SourceSet::AddCallbacks(const std::string& name, const ArrowSchema& schema,
                               const tql_source_callbacks& callbacks) {
  // The callbacks are ours from here: a source that is not registered releases them now.
  Status s = CheckNew(name);
  Result<ArrowImporter> made = s.ok() ? MakeImporter(name, schema) : Result<ArrowImporter>(s);
  if (!made.ok()) {
    if (callbacks.release != nullptr) callbacks.release(callbacks.user_data);
    return made.status();
  }
  ArrowImporter importer = std::move(made).value();
  Register(name, importer.schema(), /*open=*/false);
  streams_.emplace(name, std::make_shared<CallbackSource>(name, importer.schema(), callbacks));
  return Status::Ok();
}

Status SourceSet::AddDeclared(const std::string& name, const ArrowSchema& schema) {
  TQL_RETURN_IF_ERROR(CheckNew(name));
  TQL_ASSIGN_OR_RETURN(ArrowImporter importer, MakeImporter(name, schema));
  Register(name, importer.schema(), /*open=*/false);
  streams_.emplace(name, std::make_shared<DeclaredSource>(name));
  return Status::Ok();
}

Status SourceSet::AddTable(const std::string& name, Table table, bool open) {
  TQL_RETURN_IF_ERROR(CheckNew(name));
  Register(name, table.schema, open);
  tables_.emplace(name, std::move(table));
  return Status::Ok();
}

}  // namespace tql::api
