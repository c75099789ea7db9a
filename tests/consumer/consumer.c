/* A consumer of the installed package: counts the rows of a file by service. */
#include <stdio.h>
#include <string.h>
#include <tql/tql.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  tql_error* error = NULL;
  tql_engine* engine = NULL;
  tql_catalog* catalog = tql_catalog_new();
  tql_query* query = NULL;
  const char* text = "spans | summarize n = count()";
  if (tql_engine_new(NULL, &engine, &error) != TQL_OK ||
      tql_catalog_add_file(catalog, "spans", argv[1], &error) != TQL_OK ||
      tql_compile(engine, catalog, text, strlen(text), NULL, &query, &error) != TQL_OK) {
    fprintf(stderr, "consumer: %s\n", tql_error_message(error));
    return 1;
  }
  struct ArrowArrayStream out;
  if (tql_query_execute(query, NULL, &out, &error) != TQL_OK) return 1;
  struct ArrowArray batch;
  out.get_next(&out, &batch);
  printf("tql %s: %lld rows\n", tql_version(),
         (long long)((const int64_t*)batch.children[0]->buffers[1])[0]);
  batch.release(&batch);
  out.release(&out);
  tql_query_free(query);
  tql_catalog_free(catalog);
  tql_engine_free(engine);
  return 0;
}
