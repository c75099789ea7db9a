/* A C host: reads an NDJSON file of spans, runs a TQL query on it and prints the result.
 *
 *   c_host FILE QUERY
 *
 * It shows the calls a host makes (engine, catalog, compile, execute) and how it reads the
 * result, an Arrow stream, without any Arrow library. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <tql/tql.h>

static int is_valid(const struct ArrowArray* a, int64_t i) {
  const uint8_t* validity = (const uint8_t*)a->buffers[0];
  return validity == NULL || (validity[i / 8] >> (i % 8)) & 1;
}

/* Prints row `row` of column `a` (whose type is `schema`). */
static void print_cell(const struct ArrowSchema* schema, const struct ArrowArray* a, int64_t row) {
  int64_t i = row + a->offset;
  if (!is_valid(a, i)) {
    printf("null");
    return;
  }
  if (schema->dictionary != NULL) { /* dictionary-encoded strings: int32 codes */
    print_cell(schema->dictionary, a->dictionary, ((const int32_t*)a->buffers[1])[i]);
    return;
  }
  const char* f = schema->format;
  if (strcmp(f, "u") == 0) {
    const int32_t* offsets = (const int32_t*)a->buffers[1];
    printf("%.*s", (int)(offsets[i + 1] - offsets[i]), (const char*)a->buffers[2] + offsets[i]);
  } else if (strcmp(f, "l") == 0) {
    printf("%" PRId64, ((const int64_t*)a->buffers[1])[i]);
  } else if (strcmp(f, "g") == 0) {
    printf("%g", ((const double*)a->buffers[1])[i]);
  } else if (strcmp(f, "b") == 0) {
    printf("%s", (((const uint8_t*)a->buffers[1])[i / 8] >> (i % 8)) & 1 ? "true" : "false");
  } else if (strncmp(f, "tsn", 3) == 0) {
    int64_t ns = ((const int64_t*)a->buffers[1])[i];
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    char text[32];
    gmtime_r(&secs, &tm);
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%s.%03dZ", text, (int)(ns % 1000000000 / 1000000));
  } else if (strcmp(f, "tDn") == 0) {
    printf("%.3fms", (double)((const int64_t*)a->buffers[1])[i] / 1e6);
  } else {
    printf("(%s)", f);
  }
}

static int fail(const char* what, tql_error* error) {
  fprintf(stderr, "c_host: %s: %s\n", what, tql_error_message(error));
  tql_error_free(error);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: c_host FILE QUERY\n");
    return 2;
  }
  tql_error* error = NULL;
  tql_engine* engine = NULL;
  if (tql_engine_new(NULL, &engine, &error) != TQL_OK) return fail("engine", error);

  /* The file becomes the source `spans` (or `logs`, or the file's name). */
  tql_catalog* catalog = tql_catalog_new();
  if (tql_catalog_add_file(catalog, NULL, argv[1], &error) != TQL_OK) return fail(argv[1], error);

  tql_query* query = NULL;
  if (tql_compile(engine, catalog, argv[2], strlen(argv[2]), NULL, &query, &error) != TQL_OK) {
    /* Every diagnostic, with its position and hints, as the CLI prints them. */
    fprintf(stderr, "%s\n", tql_error_message(error));
    tql_error_free(error);
    return 1;
  }
  /* What a host could push into its own storage: the columns and predicates of each scan. */
  for (size_t s = 0; s < tql_query_scan_count(query); ++s) {
    const tql_scan* scan = tql_query_scan(query, s);
    fprintf(stderr, "scan %s: %zu column(s)", tql_scan_source(scan), tql_scan_column_count(scan));
    for (size_t p = 0; p < tql_scan_predicate_count(scan); ++p) {
      tql_predicate predicate;
      tql_scan_predicate(scan, p, &predicate);
      fprintf(stderr, "%s%s", p == 0 ? ", pushed: " : " and ", predicate.text);
    }
    fprintf(stderr, "\n");
  }

  struct ArrowArrayStream result;
  if (tql_query_execute(query, NULL, &result, &error) != TQL_OK) return fail("query", error);

  struct ArrowSchema schema;
  result.get_schema(&result, &schema);
  for (int64_t c = 0; c < schema.n_children; ++c) {
    printf("%s%s", c ? "\t" : "", schema.children[c]->name);
  }
  printf("\n");
  int64_t rows = 0;
  for (;;) {
    struct ArrowArray batch;
    if (result.get_next(&result, &batch) != 0) {
      fprintf(stderr, "c_host: %s\n", result.get_last_error(&result));
      break;
    }
    if (batch.release == NULL) break; /* the end of the stream */
    for (int64_t r = 0; r < batch.length; ++r) {
      for (int64_t c = 0; c < batch.n_children; ++c) {
        if (c) printf("\t");
        print_cell(schema.children[c], batch.children[c], r + batch.offset);
      }
      printf("\n");
    }
    rows += batch.length;
    batch.release(&batch);
  }
  fprintf(stderr, "%" PRId64 " row(s)\n", rows);
  schema.release(&schema);
  result.release(&result);
  tql_query_free(query);
  tql_catalog_free(catalog);
  tql_engine_free(engine);
  return 0;
}
