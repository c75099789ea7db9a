// A C++17 consumer of the installed package, through tql/tql.hpp.
#include <iostream>
#include <tql/tql.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto engine = tql::Engine::Create();
  tql::Catalog catalog;
  if (!engine || !catalog.AddFile("spans", argv[1])) return 1;
  auto query = engine->Compile(catalog, "spans | where duration > 1s | count");
  if (!query) {
    std::cerr << query.error().message() << "\n";
    return 1;
  }
  auto result = query->Execute();
  if (!result) return 1;
  ArrowArray batch;
  if (!result->Next(&batch)) return 1;
  std::cout << "slow spans: " << static_cast<const int64_t*>(batch.children[0]->buffers[1])[0]
            << "\n";
  batch.release(&batch);
  return 0;
}
