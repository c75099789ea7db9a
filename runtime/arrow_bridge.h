//! Zero-copy import and export of batches through the Arrow C Data and C Stream interfaces.
//!
//! Export: a Batch becomes a struct array ("+s") whose children share the vectors' buffers;
//! the release callbacks drop those references. Import: buffers of a struct array are wrapped,
//! not copied, and the producer's release callback runs exactly once, when the last vector
//! that uses them is gone. Conversions that cannot be zero-copy (narrow integers, float32,
//! non-nanosecond time units, large_string offsets, bitmaps at a bit offset) copy only the
//! affected buffer. docs/arrow.md lists the type mapping.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/arrow_abi.h"
#include "runtime/batch.h"
#include "runtime/status.h"

namespace tql {

// Fills `out` with a struct schema ("+s") of the fields, strings as plain utf8. The caller
// owns `out` and must call its release callback.
Status ExportSchema(const Schema& schema, ArrowSchema* out);
// The schema of `ExportBatch(batch)`: dictionary-encoded columns are Arrow dictionaries
// (int32 indices into utf8).
Status ExportBatchSchema(const Batch& batch, ArrowSchema* out);
// Fills `out` with a struct array of the batch's columns, sharing their buffers (dictionary
// columns stay encoded).
Status ExportBatch(const Batch& batch, ArrowArray* out);
// Fills `out` with a stream over the table's batches; the stream keeps the table alive. A
// column dictionary-encoded in every batch is exported as a dictionary, any other as plain
// utf8 (decoding the batches where it is encoded), so every batch matches the schema.
Status ExportTableStream(Table table, ArrowArrayStream* out);

// Maps an Arrow struct schema to tql columns. Nested struct fields become dotted columns.
class ArrowImporter {
 public:
  // Reads `schema` (a "+s" struct); does not take ownership of it.
  static Result<ArrowImporter> Make(const ArrowSchema& schema);

  const SchemaPtr& schema() const { return schema_; }
  // Takes ownership of `array` (a struct array of the schema): it is moved out and `array`'s
  // release is set to null. The producer's release runs once, when no vector needs it.
  Result<Batch> Import(ArrowArray* array) const;

  struct Column;  // one leaf column: where it is in the Arrow tree and how it converts

 private:
  SchemaPtr schema_;
  std::shared_ptr<const std::vector<Column>> columns_;
};

// Reads a whole stream into a table and releases the stream.
Result<Table> ImportStream(ArrowArrayStream* stream);

}  // namespace tql
