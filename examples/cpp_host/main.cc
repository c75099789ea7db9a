// A C++ host: reads an NDJSON file of spans, runs a TQL query on it and prints the result.
//
//   cpp_host FILE QUERY
//
// The same steps as the C host through the C++ wrapper (tql/tql.hpp): RAII handles and
// results that carry either a value or the error with its diagnostics.
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <tql/tql.hpp>

namespace {

bool IsValid(const ArrowArray& a, int64_t i) {
  const auto* validity = static_cast<const uint8_t*>(a.buffers[0]);
  return validity == nullptr || ((validity[i / 8] >> (i % 8)) & 1) != 0;
}

// Row `row` of column `a`, whose type `schema` describes, as text.
std::string Cell(const ArrowSchema& schema, const ArrowArray& a, int64_t row) {
  const int64_t i = row + a.offset;
  if (!IsValid(a, i)) return "null";
  if (schema.dictionary != nullptr) {  // dictionary-encoded strings: int32 codes
    return Cell(*schema.dictionary, *a.dictionary, static_cast<const int32_t*>(a.buffers[1])[i]);
  }
  const std::string format = schema.format;
  if (format == "u") {
    const auto* offsets = static_cast<const int32_t*>(a.buffers[1]);
    return std::string(static_cast<const char*>(a.buffers[2]) + offsets[i],
                       static_cast<size_t>(offsets[i + 1] - offsets[i]));
  }
  if (format == "l") return std::to_string(static_cast<const int64_t*>(a.buffers[1])[i]);
  if (format == "g") {
    char text[32];
    std::snprintf(text, sizeof text, "%g", static_cast<const double*>(a.buffers[1])[i]);
    return text;
  }
  if (format == "b") {
    return ((static_cast<const uint8_t*>(a.buffers[1])[i / 8] >> (i % 8)) & 1) ? "true" : "false";
  }
  if (format == "tDn") {
    char text[32];
    std::snprintf(text, sizeof text, "%.3fms",
                  static_cast<double>(static_cast<const int64_t*>(a.buffers[1])[i]) / 1e6);
    return text;
  }
  if (format.rfind("tsn", 0) == 0) {
    const int64_t ns = static_cast<const int64_t*>(a.buffers[1])[i];
    const auto secs = static_cast<std::time_t>(ns / 1000000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char text[48];
    const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ns % 1000000000 / 1000000));
    return text;
  }
  return "(" + format + ")";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: cpp_host FILE QUERY\n";
    return 2;
  }
  auto engine = tql::Engine::Create();
  if (!engine) {
    std::cerr << "cpp_host: " << engine.error().message() << "\n";
    return 1;
  }
  tql::Catalog catalog;
  if (tql::Status s = catalog.AddFile("", argv[1]); !s) {
    std::cerr << "cpp_host: " << argv[1] << ": " << s.error().message() << "\n";
    return 1;
  }
  auto query = engine->Compile(catalog, argv[2]);
  if (!query) {
    std::cerr << query.error().message() << "\n";  // every diagnostic, with its position
    return 1;
  }
  for (const tql::Scan& scan : query->scans()) {
    std::cerr << "scan " << scan.source() << ": " << scan.columns().size() << " column(s)";
    const char* sep = ", pushed: ";
    for (const tql_predicate& p : scan.predicates()) {
      std::cerr << sep << p.text;
      sep = " and ";
    }
    std::cerr << "\n";
  }
  auto result = query->Execute();
  if (!result) {
    std::cerr << "cpp_host: " << result.error().message() << "\n";
    return 1;
  }
  ArrowSchema schema;
  result->Schema(&schema);
  for (int64_t c = 0; c < schema.n_children; ++c) {
    std::cout << (c ? "\t" : "") << schema.children[c]->name;
  }
  std::cout << "\n";
  int64_t rows = 0;
  ArrowArray batch;
  while (result->Next(&batch)) {
    for (int64_t r = 0; r < batch.length; ++r) {
      for (int64_t c = 0; c < batch.n_children; ++c) {
        std::cout << (c ? "\t" : "")
                  << Cell(*schema.children[c], *batch.children[c], r + batch.offset);
      }
      std::cout << "\n";
    }
    rows += batch.length;
    batch.release(&batch);
  }
  schema.release(&schema);
  std::cerr << rows << " row(s)\n";
  return 0;
}
