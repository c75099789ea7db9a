/* Builds Arrow C Data Interface arrays and streams by hand, in C, as a host without an Arrow
 * library would: the producer side of the C API tests. Every release callback frees what it
 * owns and counts itself in `releases`, so tests can check that tql releases exactly once. */
#ifndef TQL_TESTS_C_API_ARROW_BUILDER_H_
#define TQL_TESTS_C_API_ARROW_BUILDER_H_

#include <stdlib.h>
#include <string.h>

#include "tql/tql.h"

static int releases = 0; /* array and stream releases seen */

/* ---- schemas: a struct of named leaf columns ---- */

static void release_schema(struct ArrowSchema* s) {
  for (int64_t i = 0; i < s->n_children; ++i) {
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
    free(s->children[i]);
  }
  free(s->children);
  s->release = NULL;
}

static void release_leaf_schema(struct ArrowSchema* s) {
  s->release = NULL;
}

/* `formats` and `names` must outlive the schema (string literals). */
static void make_schema(struct ArrowSchema* out, int n, const char* const* formats,
                        const char* const* names) {
  memset(out, 0, sizeof *out);
  out->format = "+s";
  out->name = "";
  out->n_children = n;
  out->children = (struct ArrowSchema**)calloc((size_t)n, sizeof(struct ArrowSchema*));
  for (int i = 0; i < n; ++i) {
    struct ArrowSchema* c = (struct ArrowSchema*)calloc(1, sizeof *c);
    c->format = formats[i];
    c->name = names[i];
    c->flags = ARROW_FLAG_NULLABLE;
    c->release = release_leaf_schema;
    out->children[i] = c;
  }
  out->release = release_schema;
}

/* ---- arrays ---- */

typedef struct leaf {
  const void* buffers[3];
  void* owned[3];
} leaf;

static void release_leaf(struct ArrowArray* a) {
  leaf* l = (leaf*)a->private_data;
  for (int i = 0; i < 3; ++i) free(l->owned[i]);
  free(l);
  a->release = NULL;
}

static void release_struct(struct ArrowArray* a) {
  for (int64_t i = 0; i < a->n_children; ++i) {
    if (a->children[i]->release) a->children[i]->release(a->children[i]);
    free(a->children[i]);
  }
  free(a->children);
  free((void*)a->buffers);
  a->release = NULL;
  ++releases;
}

/* An int64-backed column (int64, timestamp, duration) without nulls. `shared` non-zero: the
 * array points at `values` without copying (the caller keeps them alive). */
static struct ArrowArray* int64_column(int64_t n, const int64_t* values, int shared) {
  struct ArrowArray* a = (struct ArrowArray*)calloc(1, sizeof *a);
  leaf* l = (leaf*)calloc(1, sizeof *l);
  if (shared) {
    l->buffers[1] = values;
  } else {
    l->owned[1] = malloc((size_t)(n > 0 ? n : 1) * 8);
    memcpy(l->owned[1], values, (size_t)n * 8);
    l->buffers[1] = l->owned[1];
  }
  a->length = n;
  a->n_buffers = 2;
  a->buffers = l->buffers;
  a->private_data = l;
  a->release = release_leaf;
  return a;
}

/* A utf8 column; a NULL string is a null. */
static struct ArrowArray* string_column(int64_t n, const char* const* values) {
  struct ArrowArray* a = (struct ArrowArray*)calloc(1, sizeof *a);
  leaf* l = (leaf*)calloc(1, sizeof *l);
  size_t bytes = 0;
  for (int64_t i = 0; i < n; ++i) bytes += values[i] ? strlen(values[i]) : 0;
  uint8_t* validity = (uint8_t*)calloc((size_t)(n / 8 + 1), 1);
  int32_t* offsets = (int32_t*)malloc((size_t)(n + 1) * 4);
  char* data = (char*)malloc(bytes + 1);
  int64_t nulls = 0;
  offsets[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    size_t len = values[i] ? strlen(values[i]) : 0;
    if (values[i]) {
      memcpy(data + offsets[i], values[i], len);
      validity[i / 8] |= (uint8_t)(1u << (i % 8));
    } else {
      ++nulls;
    }
    offsets[i + 1] = offsets[i] + (int32_t)len;
  }
  l->owned[0] = validity;
  l->owned[1] = offsets;
  l->owned[2] = data;
  l->buffers[0] = validity;
  l->buffers[1] = offsets;
  l->buffers[2] = data;
  a->length = n;
  a->null_count = nulls;
  a->n_buffers = 3;
  a->buffers = l->buffers;
  a->private_data = l;
  a->release = release_leaf;
  return a;
}

/* A struct array over `n_children` columns of `n` rows (takes the columns). */
static void make_struct(struct ArrowArray* out, int64_t n, int n_children,
                        struct ArrowArray** columns) {
  memset(out, 0, sizeof *out);
  out->length = n;
  out->n_buffers = 1;
  out->buffers = (const void**)calloc(1, sizeof(void*));
  out->n_children = n_children;
  out->children = (struct ArrowArray**)calloc((size_t)n_children, sizeof(struct ArrowArray*));
  for (int i = 0; i < n_children; ++i) out->children[i] = columns[i];
  out->release = release_struct;
}

/* ---- the spans the tests query: service (utf8), duration (ns), status (int64) ---- */

static const char* const span_formats[] = {"u", "tDn", "l"};
static const char* const span_names[] = {"service", "duration", "status"};

static void span_schema(struct ArrowSchema* out) {
  make_schema(out, 3, span_formats, span_names);
}

/* Rows `first` .. `first + n - 1` of a deterministic table: service cycles through
 * api, db, cart; duration is (row % 10) * 100 ms; status is 500 for every 7th row, else 200. */
static void span_batch(struct ArrowArray* out, int64_t first, int64_t n) {
  static const char* const services[] = {"api", "db", "cart"};
  const char** names = (const char**)malloc((size_t)(n > 0 ? n : 1) * sizeof(char*));
  int64_t* durations = (int64_t*)malloc((size_t)(n > 0 ? n : 1) * 8);
  int64_t* statuses = (int64_t*)malloc((size_t)(n > 0 ? n : 1) * 8);
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = first + i;
    names[i] = services[r % 3];
    durations[i] = (r % 10) * 100000000LL;
    statuses[i] = r % 7 == 0 ? 500 : 200;
  }
  struct ArrowArray* cols[3] = {string_column(n, names), int64_column(n, durations, 0),
                                int64_column(n, statuses, 0)};
  make_struct(out, n, 3, cols);
  free(names);
  free(durations);
  free(statuses);
}

/* ---- a stream of span batches ---- */

typedef struct span_stream {
  int64_t batches; /* to produce */
  int64_t rows;    /* per batch */
  int64_t produced;
  int fail_at; /* get_next fails at this batch (-1: never) */
  char error[64];
} span_stream;

static int span_stream_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  (void)s;
  span_schema(out);
  return 0;
}

static int span_stream_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  span_stream* p = (span_stream*)s->private_data;
  if (p->fail_at >= 0 && p->produced == p->fail_at) {
    strcpy(p->error, "the producer ran out of spans");
    return 5; /* EIO */
  }
  if (p->produced >= p->batches) {
    out->release = NULL;
    return 0;
  }
  span_batch(out, p->produced * p->rows, p->rows);
  ++p->produced;
  return 0;
}

static const char* span_stream_error(struct ArrowArrayStream* s) {
  return ((span_stream*)s->private_data)->error;
}

static void span_stream_release(struct ArrowArrayStream* s) {
  free(s->private_data);
  s->release = NULL;
  ++releases;
}

static void make_span_stream(struct ArrowArrayStream* out, int64_t batches, int64_t rows,
                             int fail_at) {
  span_stream* p = (span_stream*)calloc(1, sizeof *p);
  p->batches = batches;
  p->rows = rows;
  p->fail_at = fail_at;
  out->get_schema = span_stream_schema;
  out->get_next = span_stream_next;
  out->get_last_error = span_stream_error;
  out->release = span_stream_release;
  out->private_data = p;
}

#endif /* TQL_TESTS_C_API_ARROW_BUILDER_H_ */
