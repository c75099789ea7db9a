#!/usr/bin/env python3
"""A Python host: reads an NDJSON file of spans, runs a TQL query on it and prints the result.

    TQL_LIBRARY=path/to/libtql.so python3 host.py FILE QUERY

Only the standard library: ctypes calls the C API (tql/tql.h) and reads the result's Arrow
C stream directly. Without TQL_LIBRARY the loader's search path finds libtql.so.
"""
import ctypes
import datetime
import os
import struct
import sys
from ctypes import POINTER, Structure, byref, c_char_p, c_double, c_int, c_int32, c_int64
from ctypes import c_size_t, c_uint32, c_void_p


class ArrowSchema(Structure):
    pass


ArrowSchema._fields_ = [
    ("format", c_char_p), ("name", c_char_p), ("metadata", c_char_p), ("flags", c_int64),
    ("n_children", c_int64), ("children", POINTER(POINTER(ArrowSchema))),
    ("dictionary", POINTER(ArrowSchema)),
    ("release", ctypes.CFUNCTYPE(None, POINTER(ArrowSchema))), ("private_data", c_void_p)]


class ArrowArray(Structure):
    pass


ArrowArray._fields_ = [
    ("length", c_int64), ("null_count", c_int64), ("offset", c_int64), ("n_buffers", c_int64),
    ("n_children", c_int64), ("buffers", POINTER(c_void_p)),
    ("children", POINTER(POINTER(ArrowArray))), ("dictionary", POINTER(ArrowArray)),
    ("release", ctypes.CFUNCTYPE(None, POINTER(ArrowArray))), ("private_data", c_void_p)]


class ArrowArrayStream(Structure):
    pass


ArrowArrayStream._fields_ = [
    ("get_schema", ctypes.CFUNCTYPE(c_int, POINTER(ArrowArrayStream), POINTER(ArrowSchema))),
    ("get_next", ctypes.CFUNCTYPE(c_int, POINTER(ArrowArrayStream), POINTER(ArrowArray))),
    ("get_last_error", ctypes.CFUNCTYPE(c_char_p, POINTER(ArrowArrayStream))),
    ("release", ctypes.CFUNCTYPE(None, POINTER(ArrowArrayStream))), ("private_data", c_void_p)]


class TqlValue(Structure):
    _fields_ = [("type", c_int), ("bool_value", c_int32), ("int_value", c_int64),
                ("float_value", c_double), ("string_value", c_void_p),
                ("string_length", c_size_t)]


class TqlPredicate(Structure):
    _fields_ = [("column", c_char_p), ("op", c_int), ("value", TqlValue), ("text", c_char_p)]


def load():
    lib = ctypes.CDLL(os.environ.get("TQL_LIBRARY", "libtql.so"))
    sig = {
        "tql_version": (c_char_p, []),
        "tql_error_message": (c_char_p, [c_void_p]),
        "tql_error_free": (None, [c_void_p]),
        "tql_engine_new": (c_int, [c_void_p, POINTER(c_void_p), POINTER(c_void_p)]),
        "tql_engine_free": (None, [c_void_p]),
        "tql_catalog_new": (c_void_p, []),
        "tql_catalog_free": (None, [c_void_p]),
        "tql_catalog_add_file": (c_int, [c_void_p, c_char_p, c_char_p, POINTER(c_void_p)]),
        "tql_compile": (c_int, [c_void_p, c_void_p, c_char_p, c_size_t, c_void_p,
                                POINTER(c_void_p), POINTER(c_void_p)]),
        "tql_query_free": (None, [c_void_p]),
        "tql_query_scan_count": (c_size_t, [c_void_p]),
        "tql_query_scan": (c_void_p, [c_void_p, c_size_t]),
        "tql_scan_source": (c_char_p, [c_void_p]),
        "tql_scan_column_count": (c_size_t, [c_void_p]),
        "tql_scan_predicate_count": (c_size_t, [c_void_p]),
        "tql_scan_predicate": (c_int, [c_void_p, c_size_t, POINTER(TqlPredicate)]),
        "tql_query_execute": (c_int, [c_void_p, c_void_p, POINTER(ArrowArrayStream),
                                      POINTER(c_void_p)]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


class TqlError(Exception):
    pass


def check(lib, status, error):
    if status != 0:
        message = lib.tql_error_message(error).decode()
        lib.tql_error_free(error)
        raise TqlError(message)


def cell(schema, array, row):
    """Row `row` of `array` (whose type `schema` describes) as text."""
    i = row + array.offset
    validity = array.buffers[0]
    if validity and not (ctypes.cast(validity, POINTER(ctypes.c_uint8))[i // 8] >> (i % 8)) & 1:
        return "null"
    if schema.dictionary:  # dictionary-encoded strings: int32 codes
        code = ctypes.cast(array.buffers[1], POINTER(c_int32))[i]
        return cell(schema.dictionary.contents, array.dictionary.contents, code)
    fmt = schema.format.decode()
    if fmt == "u":
        offsets = ctypes.cast(array.buffers[1], POINTER(c_int32))
        start, end = offsets[i], offsets[i + 1]
        return ctypes.string_at(array.buffers[2] + start, end - start).decode()
    if fmt in ("l", "tDn") or fmt.startswith("tsn"):
        value = ctypes.cast(array.buffers[1], POINTER(c_int64))[i]
        if fmt == "tDn":
            return f"{value / 1e6:.3f}ms"
        if fmt.startswith("tsn"):
            t = datetime.datetime.fromtimestamp(value // 10**9, datetime.timezone.utc)
            return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{value % 10**9 // 10**6:03d}Z"
        return str(value)
    if fmt == "g":
        return repr(ctypes.cast(array.buffers[1], POINTER(c_double))[i])
    if fmt == "b":
        byte = ctypes.cast(array.buffers[1], POINTER(ctypes.c_uint8))[i // 8]
        return "true" if (byte >> (i % 8)) & 1 else "false"
    return f"({fmt})"


def main(argv):
    if len(argv) != 3:
        print("usage: host.py FILE QUERY", file=sys.stderr)
        return 2
    lib = load()
    error = c_void_p()
    engine = c_void_p()
    catalog = lib.tql_catalog_new()
    query = c_void_p()
    try:
        check(lib, lib.tql_engine_new(None, byref(engine), byref(error)), error)
        try:
            check(lib, lib.tql_catalog_add_file(catalog, None, argv[1].encode(), byref(error)),
                  error)
        except TqlError as e:
            print(f"host.py: {argv[1]}: {e}", file=sys.stderr)
            return 1
        text = argv[2].encode()
        status = lib.tql_compile(engine, catalog, text, len(text), None, byref(query),
                                 byref(error))
        if status != 0:  # every diagnostic, with its position
            print(lib.tql_error_message(error).decode(), file=sys.stderr)
            lib.tql_error_free(error)
            return 1
        for s in range(lib.tql_query_scan_count(query)):
            scan = lib.tql_query_scan(query, s)
            line = (f"scan {lib.tql_scan_source(scan).decode()}: "
                    f"{lib.tql_scan_column_count(scan)} column(s)")
            texts = []
            for p in range(lib.tql_scan_predicate_count(scan)):
                predicate = TqlPredicate()
                lib.tql_scan_predicate(scan, p, byref(predicate))
                texts.append(predicate.text.decode())
            if texts:
                line += ", pushed: " + " and ".join(texts)
            print(line, file=sys.stderr)

        stream = ArrowArrayStream()
        check(lib, lib.tql_query_execute(query, None, byref(stream), byref(error)), error)
        schema = ArrowSchema()
        stream.get_schema(byref(stream), byref(schema))
        columns = [schema.children[c].contents for c in range(schema.n_children)]
        print("\t".join(c.name.decode() for c in columns))
        rows = 0
        while True:
            batch = ArrowArray()
            if stream.get_next(byref(stream), byref(batch)) != 0:
                raise TqlError(stream.get_last_error(byref(stream)).decode())
            if not batch.release:
                break
            for r in range(batch.length):
                print("\t".join(cell(columns[c], batch.children[c].contents, r + batch.offset)
                                for c in range(len(columns))))
            rows += batch.length
            batch.release(byref(batch))
        schema.release(byref(schema))
        stream.release(byref(stream))
        print(f"{rows} row(s)", file=sys.stderr)
        return 0
    except TqlError as e:
        print(f"host.py: {e}", file=sys.stderr)
        return 1
    finally:
        lib.tql_query_free(query)
        lib.tql_catalog_free(catalog)
        lib.tql_engine_free(engine)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
