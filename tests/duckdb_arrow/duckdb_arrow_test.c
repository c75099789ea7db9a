/* A real Arrow producer: DuckDB's C library (libduckdb.so from its npm package, loaded at
 * run time) exports query results as Arrow C arrays, which tql consumes through its C API,
 * as a stream and as resident arrays. The answers must match DuckDB's own, and tql must use
 * DuckDB's buffers in place (the result of a pass-through query points into them).
 *
 *   duckdb_arrow_test PATH/TO/libduckdb.so */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tql/tql.h"

/* ---- the part of DuckDB's C API used here (its stable ABI) ---- */
typedef uint64_t idx_t;
typedef int duckdb_state; /* 0: success */
typedef void* duckdb_database;
typedef void* duckdb_connection;
typedef void* duckdb_data_chunk;
typedef void* duckdb_arrow_options;
typedef void* duckdb_logical_type;
typedef void* duckdb_error_data;
typedef struct {
  idx_t deprecated_column_count;
  idx_t deprecated_row_count;
  idx_t deprecated_rows_changed;
  void* deprecated_columns;
  char* deprecated_error_message;
  void* internal_data;
} duckdb_result;

static struct {
  duckdb_state (*open)(const char*, duckdb_database*);
  duckdb_state (*connect)(duckdb_database, duckdb_connection*);
  duckdb_state (*query)(duckdb_connection, const char*, duckdb_result*);
  const char* (*result_error)(duckdb_result*);
  void (*destroy_result)(duckdb_result*);
  idx_t (*column_count)(duckdb_result*);
  const char* (*column_name)(duckdb_result*, idx_t);
  duckdb_logical_type (*column_logical_type)(duckdb_result*, idx_t);
  void (*destroy_logical_type)(duckdb_logical_type*);
  duckdb_arrow_options (*result_get_arrow_options)(duckdb_result*);
  void (*destroy_arrow_options)(duckdb_arrow_options*);
  duckdb_data_chunk (*fetch_chunk)(duckdb_result);
  void (*destroy_data_chunk)(duckdb_data_chunk*);
  duckdb_error_data (*to_arrow_schema)(duckdb_arrow_options, duckdb_logical_type*, const char**,
                                       idx_t, struct ArrowSchema*);
  duckdb_error_data (*data_chunk_to_arrow)(duckdb_arrow_options, duckdb_data_chunk,
                                           struct ArrowArray*);
  int (*error_data_has_error)(duckdb_error_data);
  const char* (*error_data_message)(duckdb_error_data);
  void (*destroy_error_data)(duckdb_error_data*);
  int64_t (*value_int64)(duckdb_result*, idx_t, idx_t);
  char* (*value_varchar)(duckdb_result*, idx_t, idx_t);
  void (*free)(void*);
  idx_t (*row_count)(duckdb_result*);
  void (*disconnect)(duckdb_connection*);
  void (*close)(duckdb_database*);
} duck;

static int load_duckdb(const char* path) {
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
    return 0;
  }
#define LOAD(field, name)                           \
  *(void**)(&duck.field) = dlsym(lib, name);        \
  if (duck.field == NULL) {                         \
    fprintf(stderr, "libduckdb has no %s\n", name); \
    return 0;                                       \
  }
  LOAD(open, "duckdb_open");
  LOAD(connect, "duckdb_connect");
  LOAD(query, "duckdb_query");
  LOAD(result_error, "duckdb_result_error");
  LOAD(destroy_result, "duckdb_destroy_result");
  LOAD(column_count, "duckdb_column_count");
  LOAD(column_name, "duckdb_column_name");
  LOAD(column_logical_type, "duckdb_column_logical_type");
  LOAD(destroy_logical_type, "duckdb_destroy_logical_type");
  LOAD(result_get_arrow_options, "duckdb_result_get_arrow_options");
  LOAD(destroy_arrow_options, "duckdb_destroy_arrow_options");
  LOAD(fetch_chunk, "duckdb_fetch_chunk");
  LOAD(destroy_data_chunk, "duckdb_destroy_data_chunk");
  LOAD(to_arrow_schema, "duckdb_to_arrow_schema");
  LOAD(data_chunk_to_arrow, "duckdb_data_chunk_to_arrow");
  LOAD(error_data_has_error, "duckdb_error_data_has_error");
  LOAD(error_data_message, "duckdb_error_data_message");
  LOAD(destroy_error_data, "duckdb_destroy_error_data");
  LOAD(value_int64, "duckdb_value_int64");
  LOAD(value_varchar, "duckdb_value_varchar");
  LOAD(free, "duckdb_free");
  LOAD(row_count, "duckdb_row_count");
  LOAD(disconnect, "duckdb_disconnect");
  LOAD(close, "duckdb_close");
#undef LOAD
  return 1;
}

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

static duckdb_connection connection;

static int run_sql(const char* sql, duckdb_result* out) {
  if (duck.query(connection, sql, out) != 0) {
    fprintf(stderr, "duckdb: %s\n", duck.result_error(out));
    duck.destroy_result(out);
    return 0;
  }
  return 1;
}

/* ---- DuckDB's result as an ArrowArrayStream ---- */

typedef struct duck_stream {
  duckdb_result result;
  duckdb_arrow_options options;
  char error[256];
} duck_stream;

static int duck_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  duck_stream* d = (duck_stream*)s->private_data;
  idx_t n = duck.column_count(&d->result);
  duckdb_logical_type types[16];
  const char* names[16];
  for (idx_t i = 0; i < n && i < 16; ++i) {
    types[i] = duck.column_logical_type(&d->result, i);
    names[i] = duck.column_name(&d->result, i);
  }
  duckdb_error_data e = duck.to_arrow_schema(d->options, types, names, n, out);
  for (idx_t i = 0; i < n && i < 16; ++i) duck.destroy_logical_type(&types[i]);
  int failed = e != NULL && duck.error_data_has_error(e);
  if (failed) snprintf(d->error, sizeof d->error, "%s", duck.error_data_message(e));
  if (e != NULL) duck.destroy_error_data(&e);
  return failed ? 1 : 0;
}

static int duck_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  duck_stream* d = (duck_stream*)s->private_data;
  duckdb_data_chunk chunk = duck.fetch_chunk(d->result);
  if (chunk == NULL) {
    out->release = NULL; /* the end */
    return 0;
  }
  duckdb_error_data e = duck.data_chunk_to_arrow(d->options, chunk, out);
  duck.destroy_data_chunk(&chunk);
  int failed = e != NULL && duck.error_data_has_error(e);
  if (failed) snprintf(d->error, sizeof d->error, "%s", duck.error_data_message(e));
  if (e != NULL) duck.destroy_error_data(&e);
  return failed ? 1 : 0;
}

static const char* duck_last_error(struct ArrowArrayStream* s) {
  return ((duck_stream*)s->private_data)->error;
}

static void duck_release(struct ArrowArrayStream* s) {
  duck_stream* d = (duck_stream*)s->private_data;
  duck.destroy_arrow_options(&d->options);
  duck.destroy_result(&d->result);
  free(d);
  s->release = NULL;
}

static int duck_query_stream(const char* sql, struct ArrowArrayStream* out) {
  duck_stream* d = (duck_stream*)calloc(1, sizeof *d);
  if (!run_sql(sql, &d->result)) {
    free(d);
    return 0;
  }
  d->options = duck.result_get_arrow_options(&d->result);
  out->get_schema = duck_get_schema;
  out->get_next = duck_get_next;
  out->get_last_error = duck_last_error;
  out->release = duck_release;
  out->private_data = d;
  return 1;
}

/* ---- the comparison ---- */

static const char* kSpans =
    "SELECT i AS id, 'svc-' || (i % 5) AS service, (i % 1000) * 1000000 AS duration_ns, "
    "i % 7 = 0 AS error, (i * 0.25)::DOUBLE AS score, "
    "TIMESTAMP '2026-11-24 10:00:00' + to_seconds(i) AS ts, "
    "CASE WHEN i % 11 = 0 THEN NULL ELSE 'u' || (i % 101) END AS user_id "
    "FROM range(250000) t(i)";

static int64_t int_cell(const struct ArrowArray* a, int64_t row) {
  return ((const int64_t*)a->buffers[1])[row + a->offset];
}

static void string_cell(const struct ArrowArray* a, int64_t row, char* out, size_t size) {
  const int32_t* offsets = (const int32_t*)a->buffers[1];
  int64_t i = row + a->offset;
  snprintf(out, size, "%.*s", (int)(offsets[i + 1] - offsets[i]),
           (const char*)a->buffers[2] + offsets[i]);
}

static void test_stream(tql_engine* engine) {
  tql_catalog* catalog = tql_catalog_new();
  struct ArrowArrayStream stream;
  if (!duck_query_stream(kSpans, &stream)) {
    ++failures;
    return;
  }
  tql_error* e = NULL;
  if (tql_catalog_add_arrow_stream(catalog, "spans", &stream, &e) != TQL_OK) {
    fprintf(stderr, "add_arrow_stream: %s\n", tql_error_message(e));
    ++failures;
    return;
  }
  const char* text =
      "spans | where error or score > 60000.0 | where ts >= datetime(2026-11-24T10:30:00Z) "
      "| summarize n = count(), total = sum(duration_ns), users = countif(isnotnull(user_id)) "
      "by service | sort by service";
  const char* sql =
      "SELECT service, count(*), sum(duration_ns), count(user_id) FROM (" /**/
      "SELECT * FROM (%s) WHERE (error OR score > 60000.0) AND "
      "ts >= TIMESTAMP '2026-11-24 10:30:00') GROUP BY service ORDER BY service";
  tql_query* q = NULL;
  if (tql_compile(engine, catalog, text, strlen(text), NULL, &q, &e) != TQL_OK) {
    fprintf(stderr, "compile: %s\n", tql_error_message(e));
    ++failures;
    return;
  }
  struct ArrowArrayStream out;
  if (tql_query_execute(q, NULL, &out, &e) != TQL_OK) {
    fprintf(stderr, "execute: %s\n", tql_error_message(e));
    ++failures;
    return;
  }
  char full_sql[2048];
  snprintf(full_sql, sizeof full_sql, sql, kSpans);
  duckdb_result expected;
  CHECK(run_sql(full_sql, &expected));
  int64_t row = 0;
  struct ArrowArray batch;
  while (out.get_next(&out, &batch) == 0 && batch.release != NULL) {
    for (int64_t r = 0; r < batch.length; ++r, ++row) {
      char service[64];
      string_cell(batch.children[0], r, service, sizeof service);
      char* want = duck.value_varchar(&expected, 0, (idx_t)row);
      CHECK(strcmp(service, want) == 0);
      duck.free(want);
      for (int c = 1; c <= 3; ++c) {
        int64_t got = int_cell(batch.children[c], r);
        int64_t wanted = duck.value_int64(&expected, (idx_t)c, (idx_t)row);
        if (got != wanted) {
          fprintf(stderr, "row %lld column %d: tql %lld, DuckDB %lld\n", (long long)row, c,
                  (long long)got, (long long)wanted);
          ++failures;
        }
      }
    }
    batch.release(&batch);
  }
  CHECK(row == (int64_t)duck.row_count(&expected));
  CHECK(row == 5);
  printf("stream: %lld groups agree with DuckDB\n", (long long)row);
  duck.destroy_result(&expected);
  out.release(&out);
  tql_query_free(q);
  tql_catalog_free(catalog);
}

/* DuckDB's chunks registered as resident arrays: a pass-through result uses their buffers. */
static void test_zero_copy(tql_engine* engine) {
  struct ArrowArrayStream stream;
  if (!duck_query_stream("SELECT i AS id, i * 3 AS x FROM range(10000) t(i)", &stream)) {
    ++failures;
    return;
  }
  struct ArrowSchema schema;
  CHECK(stream.get_schema(&stream, &schema) == 0);
  tql_catalog* catalog = tql_catalog_new();
  const void* buffers[64];
  int n = 0;
  for (;;) {
    struct ArrowArray array;
    CHECK(stream.get_next(&stream, &array) == 0);
    if (array.release == NULL) break;
    if (n < 64) buffers[n++] = array.children[1]->buffers[1];
    tql_error* e = NULL;
    if (tql_catalog_add_arrow_array(catalog, "t", &schema, &array, &e) != TQL_OK) {
      fprintf(stderr, "add_arrow_array: %s\n", tql_error_message(e));
      tql_error_free(e);
      ++failures;
    }
  }
  schema.release(&schema);
  stream.release(&stream);
  const char* text = "t | project x";
  tql_query* q = NULL;
  CHECK(tql_compile(engine, catalog, text, strlen(text), NULL, &q, NULL) == TQL_OK);
  struct ArrowArrayStream out;
  CHECK(tql_query_execute(q, NULL, &out, NULL) == TQL_OK);
  int shared = 0, batches = 0;
  int64_t rows = 0, sum = 0;
  struct ArrowArray batch;
  while (out.get_next(&out, &batch) == 0 && batch.release != NULL) {
    const struct ArrowArray* x = batch.children[0];
    for (int i = 0; i < n; ++i) shared += x->buffers[1] == buffers[i];
    for (int64_t r = 0; r < batch.length; ++r) sum += int_cell(x, r);
    rows += batch.length;
    ++batches;
    batch.release(&batch);
  }
  out.release(&out);
  CHECK(rows == 10000);
  CHECK(sum == 3LL * 9999 * 10000 / 2);
  CHECK(batches == n && shared == n);
  printf("zero-copy: %d of %d result batches point into DuckDB's buffers\n", shared, batches);
  tql_query_free(q);
  tql_catalog_free(catalog);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: duckdb_arrow_test LIBDUCKDB\n");
    return 2;
  }
  if (!load_duckdb(argv[1])) return 1;
  duckdb_database db;
  if (duck.open(NULL, &db) != 0 || duck.connect(db, &connection) != 0) {
    fprintf(stderr, "cannot open DuckDB\n");
    return 1;
  }
  tql_engine* engine = NULL;
  if (tql_engine_new(NULL, &engine, NULL) != TQL_OK) return 1;
  test_stream(engine);
  test_zero_copy(engine);
  tql_engine_free(engine);
  duck.disconnect(&connection);
  duck.close(&db);
  printf("%s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
