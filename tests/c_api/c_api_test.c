/* The C API driven end to end from C: sources of every kind, compiling with diagnostics,
 * parameters, pushdown to the host, results as an Arrow stream, and every error path (bad
 * query, bad batch, failing producer, limits, cancellation, NULL handles). */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arrow_builder.h"
#include "tql/tql.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Checks that a call succeeded, printing its error otherwise. */
#define CHECK_OK(call)                                                          \
  do {                                                                          \
    tql_error* e_ = NULL;                                                       \
    tql_status s_ = (call);                                                     \
    ++checks;                                                                   \
    if (s_ != TQL_OK) {                                                         \
      ++failures;                                                               \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #call, \
              tql_status_name(s_), e_ ? tql_error_message(e_) : "");            \
    }                                                                           \
    tql_error_free(e_);                                                         \
  } while (0)

static int contains(const char* text, const char* needle) {
  return text != NULL && strstr(text, needle) != NULL;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- reading results ---- */

typedef struct result {
  int64_t rows;
  int columns;
  char names[8][32];
  char formats[8][16];
  /* The first 64 rows of up to 8 columns, as text. */
  char cells[64][8][32];
} result;

static void cell_text(const struct ArrowArray* a, const char* format, int64_t row, char* out) {
  const uint8_t* validity = (const uint8_t*)a->buffers[0];
  int64_t i = row + a->offset;
  if (validity != NULL && !(validity[i / 8] & (1u << (i % 8)))) {
    strcpy(out, "null");
    return;
  }
  if (a->dictionary != NULL) {
    int32_t code = ((const int32_t*)a->buffers[1])[i];
    cell_text(a->dictionary, "u", code, out);
    return;
  }
  if (strcmp(format, "u") == 0) {
    const int32_t* offsets = (const int32_t*)a->buffers[1];
    const char* data = (const char*)a->buffers[2];
    int len = offsets[i + 1] - offsets[i];
    if (len > 31) len = 31;
    memcpy(out, data + offsets[i], (size_t)len);
    out[len] = '\0';
  } else if (strcmp(format, "g") == 0) {
    snprintf(out, 32, "%g", ((const double*)a->buffers[1])[i]);
  } else if (strcmp(format, "b") == 0) {
    const uint8_t* bits = (const uint8_t*)a->buffers[1];
    strcpy(out, bits[i / 8] & (1u << (i % 8)) ? "true" : "false");
  } else {
    snprintf(out, 32, "%lld", (long long)((const int64_t*)a->buffers[1])[i]);
  }
}

/* Reads and releases a whole result stream. */
static void read_result(struct ArrowArrayStream* stream, result* out) {
  memset(out, 0, sizeof *out);
  struct ArrowSchema schema;
  CHECK(stream->get_schema(stream, &schema) == 0);
  out->columns = (int)schema.n_children;
  for (int c = 0; c < out->columns && c < 8; ++c) {
    snprintf(out->names[c], 32, "%s", schema.children[c]->name);
    snprintf(out->formats[c], 16, "%s", schema.children[c]->format);
  }
  for (;;) {
    struct ArrowArray batch;
    CHECK(stream->get_next(stream, &batch) == 0);
    if (batch.release == NULL) break;
    for (int64_t r = 0; r < batch.length; ++r) {
      int64_t row = out->rows + r;
      if (row >= 64) break;
      for (int c = 0; c < out->columns && c < 8; ++c) {
        const char* format = schema.children[c]->dictionary ? "u" : out->formats[c];
        cell_text(batch.children[c], format, r + batch.offset, out->cells[row][c]);
      }
    }
    out->rows += batch.length;
    batch.release(&batch);
  }
  schema.release(&schema);
  stream->release(stream);
}

static tql_status run(tql_engine* engine, tql_catalog* catalog, const char* text, tql_exec* exec,
                      result* out, tql_error** error) {
  tql_query* q = NULL;
  tql_status s = tql_compile(engine, catalog, text, strlen(text), NULL, &q, error);
  if (s != TQL_OK) return s;
  struct ArrowArrayStream stream;
  s = tql_query_execute(q, exec, &stream, error);
  if (s == TQL_OK) read_result(&stream, out);
  tql_query_free(q);
  return s;
}

/* A catalog with `spans`: two resident batches of 100 and 50 rows. */
static tql_catalog* span_catalog(void) {
  tql_catalog* catalog = tql_catalog_new();
  for (int b = 0; b < 2; ++b) {
    struct ArrowSchema schema;
    struct ArrowArray array;
    span_schema(&schema);
    span_batch(&array, b * 100, b == 0 ? 100 : 50);
    CHECK_OK(tql_catalog_add_arrow_array(catalog, "spans", &schema, &array, &e_));
    CHECK(array.release == NULL); /* moved */
    schema.release(&schema);
  }
  return catalog;
}

/* ---- tests ---- */

static void test_version_and_names(void) {
  CHECK(strcmp(tql_version(), "") != 0);
  CHECK(strcmp(tql_status_name(TQL_QUERY_ERROR), "TQL_QUERY_ERROR") == 0);
  CHECK(strcmp(tql_status_name((tql_status)99), "TQL_UNKNOWN") == 0);
}

static void test_null_handles(void) {
  tql_error* e = NULL;
  CHECK(tql_engine_new(NULL, NULL, &e) == TQL_INVALID_ARGUMENT);
  CHECK(contains(tql_error_message(e), "out is NULL"));
  tql_error_free(e);
  tql_query* q = NULL;
  CHECK(tql_compile(NULL, NULL, "x", 1, NULL, &q, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(q == NULL);
  CHECK(tql_query_execute(NULL, NULL, NULL, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(tql_catalog_add_file(NULL, "x", "y", NULL) == TQL_INVALID_ARGUMENT);
  CHECK(tql_params_set_int(NULL, "x", 1, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(tql_exec_set_row_limit(NULL, 1, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(tql_error_diagnostic_count(NULL) == 0);
  CHECK(strcmp(tql_error_message(NULL), "") == 0);
  tql_exec_cancel(NULL);
  tql_engine_free(NULL);
  tql_catalog_free(NULL);
  tql_query_free(NULL);
  tql_exec_free(NULL);
  tql_params_free(NULL);
  tql_options_free(NULL);
  tql_error_free(NULL);
  /* A NULL array handed over: an error, not a crash. */
  tql_catalog* c = tql_catalog_new();
  struct ArrowSchema schema;
  span_schema(&schema);
  CHECK(tql_catalog_add_arrow_array(c, "t", &schema, NULL, NULL) == TQL_INVALID_ARGUMENT);
  schema.release(&schema);
  tql_catalog_free(c);
}

static void test_options(void) {
  tql_options* o = tql_options_new();
  tql_error* e = NULL;
  CHECK(tql_options_set_cache_size(o, 0, &e) == TQL_INVALID_ARGUMENT);
  CHECK(contains(tql_error_message(e), "at least 1 kernel"));
  tql_error_free(e);
  CHECK(tql_options_set_memory_limit(o, -1, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(tql_options_set_threads(o, -2, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(tql_options_set_jit(o, (tql_jit_mode)7, NULL) == TQL_INVALID_ARGUMENT);
  CHECK_OK(tql_options_set_jit(o, TQL_JIT_OFF, &e_));
  tql_engine* engine = NULL;
  CHECK_OK(tql_engine_new(o, &engine, &e_));
  CHECK(tql_engine_has_jit(engine) == 0);
  tql_engine_free(engine);
  tql_options_free(o);
}

static void test_query_errors(tql_engine* engine) {
  tql_catalog* catalog = span_catalog();
  tql_query* q = NULL;
  tql_error* e = NULL;
  const char* bad = "spans\n| wher duration > 1s";
  CHECK(tql_compile(engine, catalog, bad, strlen(bad), NULL, &q, &e) == TQL_QUERY_ERROR);
  CHECK(q == NULL);
  CHECK(tql_error_status(e) == TQL_QUERY_ERROR);
  CHECK(tql_error_diagnostic_count(e) >= 1);
  tql_diagnostic d;
  CHECK(tql_error_diagnostic(e, 0, &d) == TQL_OK);
  CHECK(d.severity == TQL_SEVERITY_ERROR);
  CHECK(d.line == 2);
  CHECK(d.column == 3);
  CHECK(contains(d.message, "did you mean 'where'"));
  CHECK(d.hint != NULL);
  CHECK(contains(tql_error_message(e), "2:3: error:"));
  CHECK(tql_error_diagnostic(e, 99, &d) == TQL_INVALID_ARGUMENT);
  tql_error_free(e);

  /* Names and types: an unknown column (the source's schema is closed) and a wrong type. */
  e = NULL;
  const char* unknown = "spans | where servce == \"api\"";
  CHECK(tql_compile(engine, catalog, unknown, strlen(unknown), NULL, &q, &e) == TQL_QUERY_ERROR);
  CHECK(contains(tql_error_message(e), "servce"));
  CHECK(tql_error_diagnostic(e, 0, &d) == TQL_OK && contains(d.message, "'service'"));
  CHECK(d.line == 1 && d.column == 15);
  tql_error_free(e);
  e = NULL;
  const char* typed = "spans | where duration > \"slow\"";
  CHECK(tql_compile(engine, catalog, typed, strlen(typed), NULL, &q, &e) == TQL_QUERY_ERROR);
  CHECK(tql_error_diagnostic_count(e) >= 1);
  tql_error_free(e);
  e = NULL;
  const char* source = "logs | count";
  CHECK(tql_compile(engine, catalog, source, strlen(source), NULL, &q, &e) == TQL_QUERY_ERROR);
  CHECK(contains(tql_error_message(e), "logs"));
  tql_error_free(e);

  /* Deep nesting and invalid UTF-8 are errors too. */
  char deep[20000];
  strcpy(deep, "spans | where ");
  size_t n = strlen(deep);
  for (int i = 0; i < 5000; ++i) deep[n++] = '(';
  deep[n++] = '1';
  for (int i = 0; i < 5000; ++i) deep[n++] = ')';
  deep[n] = '\0';
  CHECK(tql_compile(engine, catalog, deep, n, NULL, &q, NULL) == TQL_QUERY_ERROR);
  const char utf8[] = "spans | where service == \"\xff\xfe\"";
  CHECK(tql_compile(engine, catalog, utf8, sizeof utf8 - 1, NULL, &q, NULL) == TQL_QUERY_ERROR);
  tql_catalog_free(catalog);
}

static void test_resident_arrays(tql_engine* engine) {
  tql_catalog* catalog = span_catalog();
  CHECK(tql_catalog_source_count(catalog) == 1);
  CHECK(strcmp(tql_catalog_source_name(catalog, 0), "spans") == 0);
  CHECK(tql_catalog_source_name(catalog, 1) == NULL);
  result r;
  CHECK_OK(run(engine, catalog,
               "spans | where duration >= 500ms | summarize n = count(), slow = max(duration) "
               "by service | sort by service",
               NULL, &r, &e_));
  CHECK(r.rows == 3);
  CHECK(r.columns == 3);
  CHECK(strcmp(r.names[0], "service") == 0 && strcmp(r.names[1], "n") == 0);
  CHECK(strcmp(r.formats[2], "tDn") == 0);
  /* Rows 0..149, duration (r % 10) * 100ms >= 500ms: r % 10 in 5..9, 75 rows; by r % 3. */
  CHECK(strcmp(r.cells[0][0], "api") == 0 && strcmp(r.cells[0][1], "25") == 0);
  CHECK(strcmp(r.cells[1][0], "cart") == 0 && strcmp(r.cells[1][1], "25") == 0);
  CHECK(strcmp(r.cells[2][0], "db") == 0 && strcmp(r.cells[2][1], "25") == 0);
  CHECK(strcmp(r.cells[0][2], "900000000") == 0);
  /* The same query again: resident sources can be scanned any number of times. */
  CHECK_OK(run(engine, catalog, "spans | count", NULL, &r, &e_));
  CHECK(r.rows == 1 && strcmp(r.cells[0][0], "150") == 0);

  /* A batch whose schema differs is refused. */
  struct ArrowSchema other;
  static const char* const formats[] = {"l"};
  static const char* const names[] = {"x"};
  make_schema(&other, 1, formats, names);
  struct ArrowArray array;
  int64_t xs[2] = {1, 2};
  struct ArrowArray* cols[1] = {int64_column(2, xs, 0)};
  make_struct(&array, 2, 1, cols);
  int before = releases;
  tql_error* e = NULL;
  CHECK(tql_catalog_add_arrow_array(catalog, "spans", &other, &array, &e) == TQL_INVALID_INPUT);
  CHECK(contains(tql_error_message(e), "differs"));
  CHECK(releases == before + 1); /* released once, by tql */
  CHECK(array.release == NULL);
  tql_error_free(e);
  other.release(&other);
  tql_catalog_free(catalog);
}

static void test_bad_batches(tql_engine* engine) {
  (void)engine;
  tql_catalog* catalog = tql_catalog_new();
  struct ArrowSchema schema;
  span_schema(&schema);
  tql_error* e = NULL;

  /* Decreasing string offsets. */
  struct ArrowArray array;
  span_batch(&array, 0, 4);
  int32_t* offsets = (int32_t*)((leaf*)array.children[0]->private_data)->owned[1];
  offsets[2] = 0;
  offsets[1] = 3;
  int before = releases;
  CHECK(tql_catalog_add_arrow_array(catalog, "spans", &schema, &array, &e) == TQL_INVALID_INPUT);
  CHECK(contains(tql_error_message(e), "service"));
  CHECK(releases == before + 1);
  tql_error_free(e);
  e = NULL;

  /* Invalid UTF-8 in a string. */
  span_batch(&array, 0, 4);
  char* data = (char*)((leaf*)array.children[0]->private_data)->owned[2];
  data[0] = (char)0xff;
  CHECK(tql_catalog_add_arrow_array(catalog, "spans", &schema, &array, &e) == TQL_INVALID_INPUT);
  CHECK(contains(tql_error_message(e), "UTF-8"));
  tql_error_free(e);
  e = NULL;

  /* A wrong number of buffers. */
  span_batch(&array, 0, 4);
  array.children[1]->n_buffers = 1;
  CHECK(tql_catalog_add_arrow_array(catalog, "spans", &schema, &array, &e) == TQL_INVALID_INPUT);
  CHECK(contains(tql_error_message(e), "duration"));
  tql_error_free(e);
  e = NULL;

  /* A child shorter than the struct. */
  span_batch(&array, 0, 4);
  array.length = 10;
  CHECK(tql_catalog_add_arrow_array(catalog, "spans", &schema, &array, &e) == TQL_INVALID_INPUT);
  tql_error_free(e);
  e = NULL;

  /* An unsupported type names the column. */
  struct ArrowSchema lists;
  static const char* const formats[] = {"+l"};
  static const char* const names[] = {"tags"};
  make_schema(&lists, 1, formats, names);
  span_batch(&array, 0, 1);
  CHECK(tql_catalog_add_arrow_array(catalog, "t", &lists, &array, &e) == TQL_UNSUPPORTED);
  CHECK(contains(tql_error_message(e), "tags"));
  tql_error_free(e);
  lists.release(&lists);

  CHECK(tql_catalog_source_count(catalog) == 0);
  schema.release(&schema);
  tql_catalog_free(catalog);
}

static void test_params(tql_engine* engine) {
  tql_catalog* catalog = span_catalog();
  tql_params* p = tql_params_new();
  CHECK_OK(tql_params_set_duration(p, "min", 800000000LL, &e_));
  CHECK_OK(tql_params_set_string(p, "$svc", "api", 3, &e_));
  CHECK(tql_params_set_string(p, "bad", "\xc3", 1, NULL) == TQL_INVALID_INPUT);
  CHECK(tql_params_set_int(p, "", 1, NULL) == TQL_INVALID_ARGUMENT);
  const char* text = "spans | where duration >= $min and service == $svc | count";
  tql_query* q = NULL;
  CHECK_OK(tql_compile(engine, catalog, text, strlen(text), p, &q, &e_));
  result r;
  struct ArrowArrayStream stream;
  CHECK_OK(tql_query_execute(q, NULL, &stream, &e_));
  read_result(&stream, &r);
  /* r % 10 in 8..9 and r % 3 == 0, r < 150: 10 rows. */
  CHECK(strcmp(r.cells[0][0], "10") == 0);

  /* New values at execution, no new compile. */
  tql_exec* exec = tql_exec_new();
  tql_params* again = tql_params_new();
  CHECK_OK(tql_params_set_duration(again, "min", 0, &e_));
  CHECK_OK(tql_exec_set_params(exec, again, &e_));
  CHECK_OK(tql_query_execute(q, exec, &stream, &e_));
  read_result(&stream, &r);
  CHECK(strcmp(r.cells[0][0], "50") == 0);

  /* A value of another type is refused. */
  CHECK_OK(tql_params_set_int(again, "min", 5, &e_));
  CHECK_OK(tql_exec_set_params(exec, again, &e_));
  tql_error* e = NULL;
  CHECK(tql_query_execute(q, exec, &stream, &e) == TQL_INVALID_ARGUMENT);
  CHECK(contains(tql_error_message(e), "$min"));
  CHECK(stream.release == NULL);
  tql_error_free(e);
  tql_params_free(again);
  tql_exec_free(exec);
  tql_query_free(q);

  /* A parameter the query uses but nobody binds. */
  e = NULL;
  const char* unbound = "spans | where status == $code";
  CHECK(tql_compile(engine, catalog, unbound, strlen(unbound), NULL, &q, &e) == TQL_QUERY_ERROR);
  CHECK(contains(tql_error_message(e), "$code"));
  tql_error_free(e);
  tql_params_free(p);
  tql_catalog_free(catalog);
}

static void test_scans_and_explain(tql_engine* engine) {
  tql_catalog* catalog = span_catalog();
  const char* text = "spans | where duration > 250ms and status >= 500 | project service, duration";
  tql_query* q = NULL;
  CHECK_OK(tql_compile(engine, catalog, text, strlen(text), NULL, &q, &e_));
  CHECK(contains(tql_query_explain(q), "Scan spans"));
  CHECK(strcmp(tql_query_warnings(q), "") == 0);
  CHECK(tql_query_scan_count(q) == 1);
  const tql_scan* scan = tql_query_scan(q, 0);
  CHECK(tql_query_scan(q, 1) == NULL);
  CHECK(strcmp(tql_scan_source(scan), "spans") == 0);
  CHECK(tql_scan_column_count(scan) == 3);
  CHECK(tql_scan_column(scan, 3) == NULL);
  CHECK(tql_scan_predicate_count(scan) == 2);
  int saw_duration = 0, saw_status = 0;
  for (size_t i = 0; i < tql_scan_predicate_count(scan); ++i) {
    tql_predicate p;
    CHECK(tql_scan_predicate(scan, i, &p) == TQL_OK);
    if (strcmp(p.column, "duration") == 0) {
      saw_duration = p.op == TQL_OP_GT && p.value.type == TQL_TYPE_DURATION &&
                     p.value.int_value == 250000000LL && contains(p.text, "250ms");
    }
    if (strcmp(p.column, "status") == 0) {
      saw_status = p.op == TQL_OP_GE && p.value.type == TQL_TYPE_INT && p.value.int_value == 500;
    }
  }
  CHECK(saw_duration && saw_status);
  tql_predicate p;
  CHECK(tql_scan_predicate(scan, 5, &p) == TQL_INVALID_ARGUMENT);
  struct ArrowSchema schema;
  CHECK_OK(tql_query_schema(q, &schema, &e_));
  CHECK(schema.n_children == 2);
  CHECK(strcmp(schema.children[1]->name, "duration") == 0);
  schema.release(&schema);
  tql_query_free(q);
  tql_catalog_free(catalog);
}

static void test_stream_source(tql_engine* engine) {
  tql_catalog* catalog = tql_catalog_new();
  struct ArrowArrayStream stream;
  make_span_stream(&stream, 5, 1000, -1);
  CHECK_OK(tql_catalog_add_arrow_stream(catalog, "spans", &stream, &e_));
  CHECK(stream.release == NULL);
  tql_query* q = NULL;
  const char* text = "spans | where status == 500 | summarize n = count()";
  CHECK_OK(tql_compile(engine, catalog, text, strlen(text), NULL, &q, &e_));
  tql_catalog_free(catalog); /* the query keeps what it needs */
  struct ArrowArrayStream out;
  CHECK_OK(tql_query_execute(q, NULL, &out, &e_));
  result r;
  read_result(&out, &r);
  CHECK(strcmp(r.cells[0][0], "715") == 0); /* multiples of 7 below 5000 */
  /* A stream is read once. */
  tql_error* e = NULL;
  CHECK(tql_query_execute(q, NULL, &out, &e) == TQL_INVALID_ARGUMENT);
  CHECK(contains(tql_error_message(e), "read once"));
  tql_error_free(e);
  int before = releases;
  tql_query_free(q);
  CHECK(releases == before + 1); /* the stream, released with the last holder */

  /* A producer that fails mid-stream: its message comes back. */
  catalog = tql_catalog_new();
  make_span_stream(&stream, 5, 100, 2);
  CHECK_OK(tql_catalog_add_arrow_stream(catalog, "spans", &stream, &e_));
  e = NULL;
  CHECK(run(engine, catalog, "spans | count", NULL, &r, &e) == TQL_INVALID_INPUT);
  CHECK(contains(tql_error_message(e), "ran out of spans"));
  tql_error_free(e);
  /* Two sources of one name. */
  make_span_stream(&stream, 1, 1, -1);
  before = releases;
  CHECK(tql_catalog_add_arrow_stream(catalog, "spans", &stream, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(releases == before + 1);
  tql_catalog_free(catalog);
}

/* ---- a callback source: records what tql asks for ---- */

typedef struct host {
  int opens;
  int released;
  size_t columns;
  char first_column[32];
  size_t predicates;
  char predicate_text[64];
  int fail;
  /* Endless: batches of `rows` rows over one shared buffer, until `limit_batches`. */
  int64_t rows;
  int64_t limit_batches;
  int64_t* values;
} host;

typedef struct host_stream {
  host* h;
  int64_t produced;
} host_stream;

static const char* const x_formats[] = {"l"};
static const char* const x_names[] = {"x"};

static int host_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  (void)s;
  make_schema(out, 1, x_formats, x_names);
  return 0;
}

static int host_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  host_stream* p = (host_stream*)s->private_data;
  if (p->produced >= p->h->limit_batches) {
    out->release = NULL;
    return 0;
  }
  ++p->produced;
  struct ArrowArray* cols[1] = {int64_column(p->h->rows, p->h->values, 1)};
  make_struct(out, p->h->rows, 1, cols);
  return 0;
}

static const char* host_error(struct ArrowArrayStream* s) {
  (void)s;
  return "the host's store is offline";
}

static void host_stream_release(struct ArrowArrayStream* s) {
  free(s->private_data);
  s->release = NULL;
}

static int host_open(void* user, const tql_scan* scan, struct ArrowArrayStream* out) {
  host* h = (host*)user;
  ++h->opens;
  h->columns = tql_scan_column_count(scan);
  snprintf(h->first_column, sizeof h->first_column, "%s", tql_scan_column(scan, 0));
  h->predicates = tql_scan_predicate_count(scan);
  if (h->predicates > 0) {
    tql_predicate p;
    tql_scan_predicate(scan, 0, &p);
    snprintf(h->predicate_text, sizeof h->predicate_text, "%s", p.text);
  }
  if (h->fail) return 1;
  host_stream* p = (host_stream*)calloc(1, sizeof *p);
  p->h = h;
  out->get_schema = host_schema;
  out->get_next = host_next;
  out->get_last_error = host_error;
  out->release = host_stream_release;
  out->private_data = p;
  return 0;
}

static void host_release(void* user) {
  ((host*)user)->released++;
}

static tql_catalog* host_catalog(host* h) {
  tql_catalog* catalog = tql_catalog_new();
  struct ArrowSchema schema;
  make_schema(&schema, 1, x_formats, x_names);
  tql_source_callbacks cb = {host_open, host_release, h};
  CHECK_OK(tql_catalog_add_source(catalog, "events", &schema, &cb, &e_));
  schema.release(&schema);
  return catalog;
}

static void test_callback_source(tql_engine* engine) {
  host h;
  memset(&h, 0, sizeof h);
  int64_t values[1000];
  for (int i = 0; i < 1000; ++i) values[i] = i;
  h.rows = 1000;
  h.limit_batches = 3;
  h.values = values;
  tql_catalog* catalog = host_catalog(&h);
  result r;
  CHECK_OK(run(engine, catalog, "events | where x >= 990 | summarize n = count(), s = sum(x)", NULL,
               &r, &e_));
  CHECK(strcmp(r.cells[0][0], "30") == 0);
  CHECK(strcmp(r.cells[0][1], "29835") == 0);
  CHECK(h.opens == 1);
  CHECK(h.columns == 1 && strcmp(h.first_column, "x") == 0);
  CHECK(h.predicates == 1 && contains(h.predicate_text, "x >= 990"));
  /* An endless source: a satisfied take stops the scan. */
  h.limit_batches = INT64_MAX;
  CHECK_OK(run(engine, catalog, "events | where x > 500 | take 5", NULL, &r, &e_));
  CHECK(r.rows == 5 && strcmp(r.cells[4][0], "505") == 0);
  h.limit_batches = 3;
  h.opens = 1;
  /* Scanned again: opened again. */
  CHECK_OK(run(engine, catalog, "events | count", NULL, &r, &e_));
  CHECK(h.opens == 2 && strcmp(r.cells[0][0], "3000") == 0);

  /* An open that fails: the stream's message when it set one, the code otherwise. */
  h.fail = 1;
  tql_error* e = NULL;
  CHECK(run(engine, catalog, "events | count", NULL, &r, &e) == TQL_INVALID_INPUT);
  CHECK(contains(tql_error_message(e), "open callback failed"));
  tql_error_free(e);
  h.fail = 0;
  CHECK(h.released == 0);
  tql_catalog_free(catalog);
  CHECK(h.released == 1);

  /* Callbacks refused at registration are released at once. */
  host g;
  memset(&g, 0, sizeof g);
  tql_source_callbacks cb = {host_open, host_release, &g};
  CHECK(tql_catalog_add_source(NULL, "x", NULL, &cb, NULL) == TQL_INVALID_ARGUMENT);
  CHECK(g.released == 1);
}

static void test_limits(tql_engine* engine) {
  host h;
  memset(&h, 0, sizeof h);
  int64_t values[4096];
  for (int i = 0; i < 4096; ++i) values[i] = i;
  h.rows = 4096;
  h.limit_batches = 100;
  h.values = values;
  tql_catalog* catalog = host_catalog(&h);
  result r;

  /* Rows. */
  tql_exec* exec = tql_exec_new();
  CHECK_OK(tql_exec_set_row_limit(exec, 10000, &e_));
  tql_error* e = NULL;
  CHECK(run(engine, catalog, "events | count", exec, &r, &e) == TQL_LIMIT_EXCEEDED);
  CHECK(contains(tql_error_message(e), "row limit of 10000"));
  tql_error_free(e);
  tql_exec_free(exec);

  /* Memory: the result, a sort, a summarize. */
  const char* heavy[] = {"events", "events | sort by x desc", "events | summarize count() by x",
                         "events | distinct x"};
  for (int i = 0; i < 4; ++i) {
    exec = tql_exec_new();
    CHECK_OK(tql_exec_set_memory_limit(exec, 64 * 1024, &e_));
    e = NULL;
    h.limit_batches = i == 2 || i == 3 ? 100 : 10;
    for (int j = 0; j < 4096; ++j) values[j] = i >= 2 ? j : j;
    tql_status s = run(engine, catalog, heavy[i], exec, &r, &e);
    CHECK(s == TQL_LIMIT_EXCEEDED);
    if (s != TQL_LIMIT_EXCEEDED) fprintf(stderr, "  query: %s\n", heavy[i]);
    CHECK(contains(tql_error_message(e), "memory limit of 64.0 KiB"));
    tql_error_free(e);
    tql_exec_free(exec);
  }
  /* A join: its right side is held, and so are the pairs it makes. */
  h.limit_batches = 10;
  exec = tql_exec_new();
  CHECK_OK(tql_exec_set_memory_limit(exec, 64 * 1024, &e_));
  e = NULL;
  CHECK(run(engine, catalog, "events | join (events) on x | count", exec, &r, &e) ==
        TQL_LIMIT_EXCEEDED);
  CHECK(contains(tql_error_message(e), "the right side of a join needs more than"));
  tql_error_free(e);
  CHECK_OK(tql_exec_set_memory_limit(exec, 0, &e_));
  h.limit_batches = 2;
  CHECK_OK(
      run(engine, catalog, "events | join (events | where x < 10) on x | count", exec, &r, &e_));
  CHECK(strcmp(r.cells[0][0], "40") == 0); /* 10 keys, 2 rows each side: 4 pairs per key */
  tql_exec_free(exec);

  /* The engine's default limit applies when the execution sets none. */
  tql_options* o = tql_options_new();
  CHECK_OK(tql_options_set_memory_limit(o, 32 * 1024, &e_));
  tql_engine* limited = NULL;
  CHECK_OK(tql_engine_new(o, &limited, &e_));
  h.limit_batches = 10;
  CHECK(run(limited, catalog, "events", NULL, &r, NULL) == TQL_LIMIT_EXCEEDED);
  CHECK_OK(run(limited, catalog, "events | count", NULL, &r, &e_));
  tql_engine_free(limited);
  tql_options_free(o);

  /* Time: an endless source and a 30 ms limit. */
  h.limit_batches = INT64_MAX;
  exec = tql_exec_new();
  CHECK_OK(tql_exec_set_time_limit(exec, 30, &e_));
  e = NULL;
  double start = now_ms();
  CHECK(run(engine, catalog, "events | where x == -1 | count", exec, &r, &e) == TQL_LIMIT_EXCEEDED);
  double took = now_ms() - start;
  CHECK(took < 1000);
  CHECK(contains(tql_error_message(e), "time limit of 30 ms"));
  tql_error_free(e);

  /* Cancelled before it starts. */
  tql_exec_cancel(exec);
  e = NULL;
  CHECK(run(engine, catalog, "events | count", exec, &r, &e) == TQL_CANCELLED);
  CHECK(tql_error_status(e) == TQL_CANCELLED);
  tql_error_free(e);
  tql_exec_free(exec);
  tql_catalog_free(catalog);
}

/* Cancel from another thread during a 100M-row scan; it must take effect within 10 ms. */
typedef struct canceller {
  tql_exec* exec;
  double cancelled_at;
} canceller;

static void* cancel_later(void* arg) {
  canceller* c = (canceller*)arg;
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  c->cancelled_at = now_ms();
  tql_exec_cancel(c->exec);
  return NULL;
}

static void test_cancel(tql_engine* engine) {
  host h;
  memset(&h, 0, sizeof h);
  enum { kRows = 65536 };
  int64_t* values = (int64_t*)malloc(kRows * sizeof(int64_t));
  for (int i = 0; i < kRows; ++i) values[i] = i;
  h.rows = kRows;
  h.limit_batches = 100000000 / kRows + 1; /* 100M rows */
  h.values = values;
  tql_catalog* catalog = host_catalog(&h);
  const char* text = "events | where x % 7 == 3 | summarize n = count(), s = sum(x)";
  tql_query* q = NULL;
  CHECK_OK(tql_compile(engine, catalog, text, strlen(text), NULL, &q, &e_));
  canceller c = {tql_exec_new(), 0};
  pthread_t thread;
  pthread_create(&thread, NULL, cancel_later, &c);
  struct ArrowArrayStream out;
  tql_error* e = NULL;
  tql_status s = tql_query_execute(q, c.exec, &out, &e);
  double ended = now_ms();
  pthread_join(thread, NULL);
  CHECK(s == TQL_CANCELLED);
  if (s == TQL_CANCELLED) {
    double latency = ended - c.cancelled_at;
    printf("cancel took effect after %.3f ms\n", latency);
    CHECK(latency < 10.0);
  }
  CHECK(contains(tql_error_message(e), "cancelled"));
  tql_error_free(e);
  tql_exec_free(c.exec);
  tql_query_free(q);
  tql_catalog_free(catalog);
  free(values);
}

static void test_file(tql_engine* engine, const char* path) {
  tql_catalog* catalog = tql_catalog_new();
  tql_error* e = NULL;
  CHECK(tql_catalog_add_file(catalog, "spans", "/nonexistent/spans.ndjson", &e) == TQL_IO_ERROR);
  CHECK(contains(tql_error_message(e), "nonexistent"));
  tql_error_free(e);
  if (path != NULL) {
    CHECK_OK(tql_catalog_add_file(catalog, NULL, path, &e_));
    result r;
    CHECK_OK(
        run(engine, catalog, "spans | summarize n = count() | extend ok = n > 0", NULL, &r, &e_));
    CHECK(r.rows == 1 && strcmp(r.cells[0][1], "true") == 0);
  }
  tql_catalog_free(catalog);
}

/* Many threads running one compiled query at once. */
typedef struct shared_query {
  const tql_query* q;
  int ok;
} shared_query;

static void* run_shared(void* arg) {
  shared_query* s = (shared_query*)arg;
  for (int i = 0; i < 20; ++i) {
    struct ArrowArrayStream out;
    if (tql_query_execute(s->q, NULL, &out, NULL) != TQL_OK) return NULL;
    result r;
    read_result(&out, &r);
    if (strcmp(r.cells[0][0], "22") != 0) return NULL;
  }
  s->ok = 1;
  return NULL;
}

static void test_threads(tql_engine* engine) {
  tql_catalog* catalog = span_catalog();
  const char* text = "spans | where status == 500 | count";
  tql_query* q = NULL;
  CHECK_OK(tql_compile(engine, catalog, text, strlen(text), NULL, &q, &e_));
  pthread_t threads[4];
  shared_query s[4];
  for (int i = 0; i < 4; ++i) {
    s[i].q = q;
    s[i].ok = 0;
    pthread_create(&threads[i], NULL, run_shared, &s[i]);
  }
  for (int i = 0; i < 4; ++i) {
    pthread_join(threads[i], NULL);
    CHECK(s[i].ok);
  }
  tql_query_free(q);

  /* An engine with threads: a summarize over resident batches runs on shards, same answer. */
  tql_options* o = tql_options_new();
  CHECK_OK(tql_options_set_threads(o, 2, &e_));
  tql_engine* parallel = NULL;
  CHECK_OK(tql_engine_new(o, &parallel, &e_));
  result r;
  CHECK_OK(run(parallel, catalog,
               "spans | summarize n = count(), total = sum(duration) by service | sort by service",
               NULL, &r, &e_));
  CHECK(r.rows == 3 && strcmp(r.cells[0][0], "api") == 0 && strcmp(r.cells[0][1], "50") == 0);
  CHECK(strcmp(r.cells[0][2], "22500000000") == 0);
  tql_engine_free(parallel);
  tql_options_free(o);
  tql_catalog_free(catalog);
}

/* ---- streaming mode ---- */

static tql_status push_rows(tql_push* push, int64_t first, int64_t n, tql_error** error) {
  struct ArrowSchema schema;
  struct ArrowArray array;
  span_schema(&schema);
  span_batch(&array, first, n);
  tql_status s = tql_push_batch(push, &schema, &array, error);
  schema.release(&schema);
  return s;
}

static tql_catalog* declared_catalog(void) {
  tql_catalog* catalog = tql_catalog_new();
  struct ArrowSchema schema;
  span_schema(&schema);
  CHECK_OK(tql_catalog_declare(catalog, "live", &schema, &e_));
  schema.release(&schema);
  return catalog;
}

static void test_push(tql_engine* engine) {
  tql_catalog* catalog = declared_catalog();
  const char* text =
      "live | where status == 500 | summarize n = count() by service | sort by service";
  tql_query* q = NULL;
  CHECK_OK(tql_compile(engine, catalog, text, strlen(text), NULL, &q, &e_));
  tql_error* e = NULL;
  struct ArrowArrayStream out;
  CHECK(tql_query_execute(q, NULL, &out, &e) == TQL_INVALID_ARGUMENT);
  CHECK(contains(tql_error_message(e), "tql_push_open"));
  tql_error_free(e);

  tql_push* push = NULL;
  CHECK_OK(tql_push_open(q, NULL, &push, &e_));
  CHECK_OK(push_rows(push, 0, 70, &e_)); /* 0, 7, ..., 63: services r % 3 */
  result r;
  CHECK_OK(tql_push_snapshot(push, &out, &e_));
  read_result(&out, &r);
  /* 0 api, 7 db, 14 cart, 21 api, 28 db, 35 cart, 42 api, 49 db, 56 cart, 63 api */
  CHECK(r.rows == 3 && strcmp(r.cells[0][0], "api") == 0 && strcmp(r.cells[0][1], "4") == 0);
  CHECK_OK(push_rows(push, 70, 140, &e_));
  CHECK_OK(tql_push_finish(push, &out, &e_));
  read_result(&out, &r);
  /* multiples of 7 below 210: 30, ten per service */
  CHECK(r.rows == 3 && strcmp(r.cells[0][1], "10") == 0 && strcmp(r.cells[2][1], "10") == 0);
  e = NULL;
  CHECK(push_rows(push, 0, 1, &e) == TQL_INVALID_ARGUMENT);
  CHECK(contains(tql_error_message(e), "finished"));
  tql_error_free(e);
  tql_push_free(push);

  /* A batch without a column the source declares, and one with a column of another type. */
  CHECK_OK(tql_push_open(q, NULL, &push, &e_));
  struct ArrowSchema narrow;
  static const char* const formats[] = {"l", "u"};
  static const char* const names[] = {"status", "duration"};
  make_schema(&narrow, 1, formats, names);
  struct ArrowArray array;
  int64_t xs[2] = {500, 200};
  struct ArrowArray* cols[1] = {int64_column(2, xs, 0)};
  make_struct(&array, 2, 1, cols);
  e = NULL;
  CHECK(tql_push_batch(push, &narrow, &array, &e) == TQL_INVALID_INPUT);
  CHECK(contains(tql_error_message(e), "no column 'service'"));
  CHECK(array.release == NULL);
  tql_error_free(e);
  narrow.release(&narrow);
  tql_push_free(push);
  tql_query_free(q);

  /* Without a summarize: the rows that pass are kept, the sort runs per snapshot. */
  const char* top =
      "live | where duration >= 900ms | extend ms = duration / 1ms | top 2 by status desc, ms";
  CHECK_OK(tql_compile(engine, catalog, top, strlen(top), NULL, &q, &e_));
  CHECK_OK(tql_push_open(q, NULL, &push, &e_));
  CHECK_OK(push_rows(push, 0, 20, &e_)); /* 9 (200), 19 (200) */
  CHECK_OK(tql_push_snapshot(push, &out, &e_));
  read_result(&out, &r);
  CHECK(r.rows == 2 && strcmp(r.cells[0][1], "900000000") == 0);
  CHECK_OK(push_rows(push, 20, 100, &e_)); /* 49 and 119 have status 500 */
  CHECK_OK(tql_push_finish(push, &out, &e_));
  read_result(&out, &r);
  CHECK(r.rows == 2 && strcmp(r.cells[0][2], "500") == 0 && strcmp(r.cells[1][2], "500") == 0);
  void* state = NULL;
  size_t length = 0;
  e = NULL;
  CHECK(tql_push_export_state(push, &state, &length, &e) == TQL_QUERY_ERROR);
  CHECK(contains(tql_error_message(e), "summarize"));
  tql_error_free(e);
  tql_push_free(push);

  /* The kept rows count against the memory limit. */
  tql_exec* exec = tql_exec_new();
  CHECK_OK(tql_exec_set_memory_limit(exec, 4096, &e_));
  CHECK_OK(tql_push_open(q, exec, &push, &e_));
  tql_status s = TQL_OK;
  for (int i = 0; i < 100 && s == TQL_OK; ++i) s = push_rows(push, i * 100, 100, NULL);
  CHECK(s == TQL_LIMIT_EXCEEDED);
  tql_push_free(push);
  /* And a cancel ends the next push. */
  CHECK_OK(tql_exec_set_memory_limit(exec, 0, &e_));
  CHECK_OK(tql_push_open(q, exec, &push, &e_));
  tql_exec_cancel(exec);
  CHECK(push_rows(push, 0, 10, NULL) == TQL_CANCELLED);
  tql_push_free(push);
  tql_exec_free(exec);
  tql_query_free(q);

  /* A query that reads two sources cannot be pushed. */
  struct ArrowSchema schema;
  span_schema(&schema);
  CHECK_OK(tql_catalog_declare(catalog, "other", &schema, &e_));
  schema.release(&schema);
  const char* two = "union live, other | count";
  CHECK_OK(tql_compile(engine, catalog, two, strlen(two), NULL, &q, &e_));
  e = NULL;
  CHECK(tql_push_open(q, NULL, &push, &e) == TQL_INVALID_ARGUMENT);
  CHECK(push == NULL);
  CHECK(contains(tql_error_message(e), "exactly one source"));
  tql_error_free(e);
  tql_query_free(q);
  tql_catalog_free(catalog);
}

/* Shards aggregate apart; their states merge into the answer of one pass. */
static void test_partial_states(tql_engine* engine) {
  tql_catalog* catalog = declared_catalog();
  const char* text =
      "live | where duration > 0s | summarize n = count(), p = percentile(duration, 50), "
      "users = dcount(status) by service | sort by service";
  tql_query* q = NULL;
  CHECK_OK(tql_compile(engine, catalog, text, strlen(text), NULL, &q, &e_));
  void* states[2];
  size_t lengths[2];
  for (int shard = 0; shard < 2; ++shard) {
    tql_push* push = NULL;
    CHECK_OK(tql_push_open(q, NULL, &push, &e_));
    CHECK_OK(push_rows(push, shard * 300, 300, &e_));
    CHECK_OK(tql_push_export_state(push, &states[shard], &lengths[shard], &e_));
    CHECK(lengths[shard] > 0);
    tql_push_free(push);
  }
  struct ArrowArrayStream out;
  result merged, whole;
  CHECK_OK(tql_query_merge_states(q, (const void* const*)states, lengths, 2, NULL, &out, &e_));
  read_result(&out, &merged);
  tql_push* push = NULL;
  CHECK_OK(tql_push_open(q, NULL, &push, &e_));
  CHECK_OK(push_rows(push, 0, 600, &e_));
  CHECK_OK(tql_push_finish(push, &out, &e_));
  read_result(&out, &whole);
  tql_push_free(push);
  CHECK(merged.rows == 3 && whole.rows == 3);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) CHECK(strcmp(merged.cells[r][c], whole.cells[r][c]) == 0);
  }
  CHECK(strcmp(whole.cells[0][1], "180") == 0); /* 200 api rows, r % 10 != 0 */
  /* Bytes that are no state. */
  tql_error* e = NULL;
  const char junk[] = "not a state";
  const void* bad[1] = {junk};
  size_t bad_length[1] = {sizeof junk};
  CHECK(tql_query_merge_states(q, bad, bad_length, 1, NULL, &out, &e) != TQL_OK);
  CHECK(out.release == NULL);
  tql_error_free(e);
  tql_free(states[0]);
  tql_free(states[1]);
  tql_free(NULL);
  tql_query_free(q);
  tql_catalog_free(catalog);
}

int main(int argc, char** argv) {
  tql_options* o = tql_options_new();
  if (argc > 2 && strcmp(argv[2], "interp") == 0) tql_options_set_jit(o, TQL_JIT_OFF, NULL);
  if (argc > 2 && strcmp(argv[2], "jit") == 0) tql_options_set_jit(o, TQL_JIT_ON, NULL);
  tql_engine* engine = NULL;
  tql_error* e = NULL;
  if (tql_engine_new(o, &engine, &e) != TQL_OK) {
    fprintf(stderr, "no engine: %s\n", tql_error_message(e));
    return 1;
  }
  tql_options_free(o);

  test_version_and_names();
  test_null_handles();
  test_options();
  test_query_errors(engine);
  test_resident_arrays(engine);
  test_bad_batches(engine);
  test_params(engine);
  test_scans_and_explain(engine);
  test_stream_source(engine);
  test_callback_source(engine);
  test_limits(engine);
  test_cancel(engine);
  test_file(engine, argc > 1 ? argv[1] : NULL);
  test_threads(engine);
  test_push(engine);
  test_partial_states(engine);
  tql_engine_free(engine);

  printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
