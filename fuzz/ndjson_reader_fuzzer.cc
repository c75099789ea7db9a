// libFuzzer target: arbitrary bytes as an NDJSON / OTLP file. The reader must return a table
// or an error, never crash, and a table's vectors must be readable end to end.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/json_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tql::JsonReadOptions options;
  options.skip_bad_lines = size > 0 && data[0] % 2 == 0;
  tql::Result<tql::Table> table =
      tql::ReadJson(std::string_view(reinterpret_cast<const char*>(data), size), options);
  if (!table.ok()) return 0;
  size_t bytes = 0;
  for (const tql::Batch& batch : table->batches) {
    for (const tql::Vector& v : batch.columns()) {
      for (int64_t i = 0; i < v.length(); ++i) {
        if (v.IsNull(i)) continue;
        if (tql::IsStringBacked(v.type())) bytes += v.GetString(i).size();
      }
    }
  }
  return bytes == static_cast<size_t>(-1);
}
