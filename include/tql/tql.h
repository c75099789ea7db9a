/* tql: an embedded query engine for telemetry. The C API.
 *
 * Conventions (every function below follows them)
 * -----------------------------------------------
 * Handles. Every object is an opaque handle created by a `tql_X_new` (or `tql_compile`) call
 * and destroyed by the matching `tql_X_free`. A free function accepts NULL and does nothing.
 *
 * Errors. A function that can fail returns a `tql_status`: TQL_OK (0) on success, another
 * code on failure. Its last parameter is `tql_error** error`: on failure, when `error` is not
 * NULL, `*error` receives a new error object (the code, a message, and for a query that does
 * not compile, every diagnostic with its line, column and hints) that the caller frees with
 * `tql_error_free`; on success `*error` is left unchanged. Pass NULL when the code is enough.
 * Invalid arguments (a NULL handle, a NULL name) return TQL_INVALID_ARGUMENT; no call aborts
 * the process and no C++ exception crosses this API.
 *
 * Memory. Strings passed in are copied (or read during the call) unless stated. Strings
 * returned as `const char*` belong to the object they come from and live as long as it does.
 * Arrow structures follow the Arrow C Data Interface: a structure passed in is *moved*
 * (tql takes it over and sets its `release` to NULL, also on failure), and a structure filled
 * out belongs to the caller, who must call its `release`. Exported arrays share tql's
 * buffers and stay valid after the tql objects they came from are freed.
 *
 * Threads. A `tql_engine` is thread-safe: compile and execute from any number of threads. A
 * compiled `tql_query` is immutable: it may execute from several threads at once. A
 * `tql_catalog`, `tql_params` and `tql_exec` are used by one thread at a time, except
 * `tql_exec_cancel`, which may be called from any thread at any time.
 *
 * Versioning. The ABI follows the library's semantic version: functions are only added
 * within a major version, and structures passed by pointer are never resized.
 */
#ifndef TQL_TQL_H_
#define TQL_TQL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The Arrow C Data Interface and C Stream Interface (as the Arrow specification
 * defines them; guarded so that Arrow's own headers may come first). ---- */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/* ---- Status and errors ---- */

typedef enum tql_status {
  TQL_OK = 0,
  TQL_INVALID_ARGUMENT = 1, /* a NULL handle, an unknown name, a value of the wrong type */
  TQL_INVALID_INPUT = 2,    /* malformed data: a bad Arrow batch, a bad line, invalid UTF-8 */
  TQL_QUERY_ERROR = 3,      /* a query that does not parse, bind or type-check */
  TQL_UNSUPPORTED = 4,      /* valid input that this build cannot handle */
  TQL_IO_ERROR = 5,         /* a file could not be read */
  TQL_LIMIT_EXCEEDED = 6,   /* the memory, row or time limit was reached */
  TQL_CANCELLED = 7,        /* tql_exec_cancel ended the query */
  TQL_INTERNAL = 8          /* a bug in tql; please report it with the message */
} tql_status;

/* "TQL_OK", "TQL_QUERY_ERROR", ...; "TQL_UNKNOWN" for a value that is no status. */
const char* tql_status_name(tql_status status);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char* tql_version(void);

typedef struct tql_error tql_error;

void tql_error_free(tql_error* error);
tql_status tql_error_status(const tql_error* error);
/* The whole message: for a query error, every diagnostic as `LINE:COL: error: MESSAGE`
 * with the source line, a caret under the problem and the hints, as the CLI prints it. */
const char* tql_error_message(const tql_error* error);

typedef enum tql_severity { TQL_SEVERITY_ERROR = 0, TQL_SEVERITY_WARNING = 1 } tql_severity;

/* One problem in a query's text. Positions are 1-based; columns count characters. */
typedef struct tql_diagnostic {
  tql_severity severity;
  int32_t line;
  int32_t column;
  int32_t end_line; /* the end of the range the problem covers (exclusive column) */
  int32_t end_column;
  uint32_t offset; /* the same range as byte offsets into the query text */
  uint32_t length;
  const char* message;
  const char* hint; /* the hints joined by newlines, "" when there is none */
} tql_diagnostic;

/* The diagnostics of a query error (0 for other errors). `*out` borrows the error's
 * strings. */
size_t tql_error_diagnostic_count(const tql_error* error);
tql_status tql_error_diagnostic(const tql_error* error, size_t index, tql_diagnostic* out);

/* ---- Engine ---- */

typedef struct tql_options tql_options;
typedef struct tql_engine tql_engine;

typedef enum tql_jit_mode {
  TQL_JIT_AUTO = 0, /* start on the interpreter, switch to compiled kernels when they are
                       ready (the default) */
  TQL_JIT_ON = 1,   /* compile kernels before running (an error when the build has no JIT) */
  TQL_JIT_OFF = 2   /* the interpreter only */
} tql_jit_mode;

tql_options* tql_options_new(void);
void tql_options_free(tql_options* options);
tql_status tql_options_set_jit(tql_options* options, tql_jit_mode mode, tql_error** error);
/* The most compiled kernels the engine keeps (LRU); default 256. */
tql_status tql_options_set_cache_size(tql_options* options, int64_t kernels, tql_error** error);
/* The default memory limit of each query, in bytes (0: none, the default). */
tql_status tql_options_set_memory_limit(tql_options* options, int64_t bytes, tql_error** error);
/* Threads one query may use; 0 means one per core. Queries whose first summarize follows
 * only row-by-row stages over resident sources run their scan on that many threads and
 * merge the partial states; every other query runs on the calling thread. Default 1. */
tql_status tql_options_set_threads(tql_options* options, int32_t threads, tql_error** error);

/* `options` may be NULL (the defaults); it is read, not kept. */
tql_status tql_engine_new(const tql_options* options, tql_engine** out, tql_error** error);
/* The JIT optimizes kernels on a background thread; an engine still alive at exit stops it in an
 * exit handler, so a host need not free its engine before exiting. */
void tql_engine_free(tql_engine* engine);
/* 1 when the engine compiles kernels (a JIT build with the JIT not off), else 0. */
int tql_engine_has_jit(const tql_engine* engine);

/* ---- Sources ----
 * A catalog names the sources a query may read. The compiled query takes what it needs from
 * the catalog, so the catalog may be changed or freed after compiling. */

typedef struct tql_catalog tql_catalog;

tql_catalog* tql_catalog_new(void);
void tql_catalog_free(tql_catalog* catalog);

/* Appends one batch (a struct array) to the resident source `name`, creating it with
 * `schema` (borrowed, read during the call) on first use; later batches must have the same
 * schema. `array` is moved: its buffers are used in place, never copied (but for the type
 * conversions docs/arrow.md lists). Resident sources can be scanned any number of times. */
tql_status tql_catalog_add_arrow_array(tql_catalog* catalog, const char* name,
                                       const struct ArrowSchema* schema, struct ArrowArray* array,
                                       tql_error** error);

/* Registers an Arrow stream as the source `name`. `stream` is moved; its schema is read now
 * and its batches are pulled while a query scans it, one at a time (zero-copy). A stream
 * can be read once: a second scan of it is a TQL_INVALID_ARGUMENT error. */
tql_status tql_catalog_add_arrow_stream(tql_catalog* catalog, const char* name,
                                        struct ArrowArrayStream* stream, tql_error** error);

/* What one scan of a source asks for: the columns it reads and the predicates it would like
 * applied early. A callback source (below) receives it; a compiled query lists its scans. */
typedef struct tql_scan tql_scan;

typedef enum tql_type {
  TQL_TYPE_NULL = 0,
  TQL_TYPE_BOOL = 1,
  TQL_TYPE_INT = 2,       /* int64 */
  TQL_TYPE_FLOAT = 3,     /* float64 */
  TQL_TYPE_STRING = 4,    /* UTF-8 */
  TQL_TYPE_TIMESTAMP = 5, /* int64 nanoseconds since the Unix epoch, UTC */
  TQL_TYPE_DURATION = 6,  /* int64 nanoseconds */
  TQL_TYPE_DYNAMIC = 7    /* JSON text */
} tql_type;

typedef struct tql_value {
  tql_type type;
  int32_t bool_value;       /* TQL_TYPE_BOOL: 0 or 1 */
  int64_t int_value;        /* INT, TIMESTAMP, DURATION */
  double float_value;       /* FLOAT */
  const char* string_value; /* STRING, DYNAMIC: not NUL-terminated, see string_length */
  size_t string_length;
} tql_value;

typedef enum tql_compare_op {
  TQL_OP_EQ = 0,
  TQL_OP_NE = 1,
  TQL_OP_LT = 2,
  TQL_OP_LE = 3,
  TQL_OP_GT = 4,
  TQL_OP_GE = 5
} tql_compare_op;

/* `COLUMN OP VALUE`: rows for which it is false or null cannot reach the result. */
typedef struct tql_predicate {
  const char* column;
  tql_compare_op op;
  tql_value value;
  const char* text; /* the predicate in TQL, e.g. `duration > 250ms` */
} tql_predicate;

const char* tql_scan_source(const tql_scan* scan);
size_t tql_scan_column_count(const tql_scan* scan);
/* The name of the index-th column the scan reads, or NULL past the end. */
const char* tql_scan_column(const tql_scan* scan, size_t index);
size_t tql_scan_predicate_count(const tql_scan* scan);
/* Borrows the scan's strings. */
tql_status tql_scan_predicate(const tql_scan* scan, size_t index, tql_predicate* out);

/* A source the host produces on demand (a pull callback). For every scan, tql calls
 * `open(user_data, scan, out)`, which fills `out` with a stream of struct arrays holding at
 * least the columns the scan names (by name, in any order; other columns are ignored) and
 * returns 0, or returns non-zero to fail the query (with `out`'s get_last_error text when it
 * set one). The host may use the scan's predicates to skip data: they are applied again.
 * `release(user_data)` (may be NULL) runs once, when no catalog or query needs the source.
 * `open` may be called from the threads that execute queries. */
typedef struct tql_source_callbacks {
  int (*open)(void* user_data, const tql_scan* scan, struct ArrowArrayStream* out);
  void (*release)(void* user_data);
  void* user_data;
} tql_source_callbacks;

/* `schema` (borrowed) declares the source's columns. */
tql_status tql_catalog_add_source(tql_catalog* catalog, const char* name,
                                  const struct ArrowSchema* schema,
                                  const tql_source_callbacks* callbacks, tql_error** error);

/* Reads an NDJSON or OTLP/JSON file (as `tql run --input`) into the resident source `name`;
 * `name` NULL or "" names it as the CLI does (`spans`, `logs`, or the file name). */
tql_status tql_catalog_add_file(tql_catalog* catalog, const char* name, const char* path,
                                tql_error** error);

/* Declares the source `name` by its schema (borrowed) only: its batches come from the host
 * through tql_push_batch (streaming mode, below). tql_query_execute cannot scan it. */
tql_status tql_catalog_declare(tql_catalog* catalog, const char* name,
                               const struct ArrowSchema* schema, tql_error** error);

/* The number of sources and the index-th name (NULL past the end), in name order. */
size_t tql_catalog_source_count(const tql_catalog* catalog);
const char* tql_catalog_source_name(const tql_catalog* catalog, size_t index);

/* ---- Parameters ----
 * `$name` in a query reads a parameter. Its type is fixed when the query compiles (from the
 * params given to tql_compile; a parameter not given there is `dynamic`); an execution may
 * bind new values of the same types without compiling again. */

typedef struct tql_params tql_params;

tql_params* tql_params_new(void);
void tql_params_free(tql_params* params);
/* Setting a name again replaces its value. Names are given without the `$`. */
tql_status tql_params_set_null(tql_params* params, const char* name, tql_error** error);
tql_status tql_params_set_bool(tql_params* params, const char* name, int value, tql_error** error);
tql_status tql_params_set_int(tql_params* params, const char* name, int64_t value,
                              tql_error** error);
tql_status tql_params_set_float(tql_params* params, const char* name, double value,
                                tql_error** error);
/* `value` is `length` bytes of UTF-8 (invalid UTF-8 is TQL_INVALID_INPUT). */
tql_status tql_params_set_string(tql_params* params, const char* name, const char* value,
                                 size_t length, tql_error** error);
tql_status tql_params_set_timestamp(tql_params* params, const char* name, int64_t unix_nanos,
                                    tql_error** error);
tql_status tql_params_set_duration(tql_params* params, const char* name, int64_t nanos,
                                   tql_error** error);

/* ---- Queries ---- */

typedef struct tql_query tql_query;

/* Parses, type-checks and plans `length` bytes of TQL against the catalog's sources. On a
 * query error the status is TQL_QUERY_ERROR and the error lists every diagnostic. `params`
 * may be NULL. */
tql_status tql_compile(tql_engine* engine, const tql_catalog* catalog, const char* text,
                       size_t length, const tql_params* params, tql_query** out, tql_error** error);
void tql_query_free(tql_query* query);

/* The schema of the query's result (a struct schema the caller releases). */
tql_status tql_query_schema(const tql_query* query, struct ArrowSchema* out, tql_error** error);
/* The plan, as `tql explain` prints it. */
const char* tql_query_explain(const tql_query* query);
/* Warnings from compiling, formatted as tql_error_message formats errors ("" when none). */
const char* tql_query_warnings(const tql_query* query);

/* The scans of the query, one per source reference: the columns each reads and the
 * predicates a host may apply before handing batches over (pushdown to the host). */
size_t tql_query_scan_count(const tql_query* query);
const tql_scan* tql_query_scan(const tql_query* query, size_t index);

/* ---- Executing ---- */

typedef struct tql_exec tql_exec;

/* The settings of one execution, and its cancel switch. */
tql_exec* tql_exec_new(void);
void tql_exec_free(tql_exec* exec);
/* Binds values (copied) for this execution; each must have the type the query compiled with. */
tql_status tql_exec_set_params(tql_exec* exec, const tql_params* params, tql_error** error);
/* Bytes the query may hold (its result, sorts, groups): overrides the engine's default. */
tql_status tql_exec_set_memory_limit(tql_exec* exec, int64_t bytes, tql_error** error);
/* The most rows the query may read from its sources (0: no limit). */
tql_status tql_exec_set_row_limit(tql_exec* exec, int64_t rows, tql_error** error);
/* Wall-clock milliseconds the query may run (0: no limit). */
tql_status tql_exec_set_time_limit(tql_exec* exec, int64_t milliseconds, tql_error** error);
/* Ends a running (or the next) execution with TQL_CANCELLED, between two batches. Thread-safe.
 * A cancelled tql_exec stays cancelled. */
void tql_exec_cancel(tql_exec* exec);

/* Runs the query (on the calling thread) and fills `out` with a stream of its result.
 * `exec` may be NULL (no limits but the engine's, the compiled parameters). Runs to
 * completion before returning: the stream then only hands over the result's batches. */
tql_status tql_query_execute(const tql_query* query, tql_exec* exec, struct ArrowArrayStream* out,
                             tql_error** error);

/* ---- Streaming mode ----
 * A service pushes batches as they arrive, asks for the result so far at any time, and
 * finishes. The query must read exactly one source, once (any kind of source; usually one
 * declared with tql_catalog_declare). Rows run through the query's row-by-row stages
 * (where, extend, project, search) as they are pushed; when the first summarize follows only
 * such stages, only its groups are kept, so memory is bounded by the groups, not the rows.
 * Otherwise the rows that pass those stages are kept (against the memory limit) and the
 * remaining stages run at each snapshot. */

typedef struct tql_push tql_push;

/* `exec` (may be NULL) gives the parameters and limits, and cancels: it must outlive the
 * push. The time limit counts from this call. */
tql_status tql_push_open(const tql_query* query, tql_exec* exec, tql_push** out, tql_error** error);
void tql_push_free(tql_push* push);
/* One batch of the source (a struct array): columns are matched by name, and every column
 * of the source must be there with its type (extra columns are ignored). `schema` is
 * borrowed, `array` moved. */
tql_status tql_push_batch(tql_push* push, const struct ArrowSchema* schema,
                          struct ArrowArray* array, tql_error** error);
/* The result over the batches pushed so far; pushing may go on. */
tql_status tql_push_snapshot(tql_push* push, struct ArrowArrayStream* out, tql_error** error);
/* The final result; no batch may follow. */
tql_status tql_push_finish(tql_push* push, struct ArrowArrayStream* out, tql_error** error);

/* Partial aggregation across processes: the state of the first summarize so far, as bytes
 * (`*data` is freed with tql_free). Only for a query whose first summarize follows only
 * row-by-row stages. States from pushes of the same query text (on any machine running the
 * same tql version) merge with tql_query_merge_states, which runs the stages after the
 * summarize: exact aggregates come out as from one pass over all rows, sketches within their
 * bounds. */
tql_status tql_push_export_state(tql_push* push, void** data, size_t* length, tql_error** error);
tql_status tql_query_merge_states(const tql_query* query, const void* const* states,
                                  const size_t* lengths, size_t count, tql_exec* exec,
                                  struct ArrowArrayStream* out, tql_error** error);
/* Frees memory that tql allocated for the caller (NULL does nothing). */
void tql_free(void* data);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TQL_TQL_H_ */
