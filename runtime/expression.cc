#include "runtime/expression.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <mutex>

#include "runtime/simd_kernels.h"
#include "runtime/table_builder.h"
#include "runtime/vector_writer.h"

namespace tql {

// ---------------------------------------------------------------------------------------------
// Text helpers

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

namespace {

// Decodes one code point at `s[i]` (valid UTF-8 assumed; readers validate), advancing `i`.
uint32_t DecodeUtf8(std::string_view s, size_t* i) {
  const auto b = static_cast<unsigned char>(s[*i]);
  if (b < 0x80) {
    ++*i;
    return b;
  }
  int n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  uint32_t cp = b & (n == 4 ? 0x07 : n == 3 ? 0x0F : 0x1F);
  size_t k = 1;
  for (; k < static_cast<size_t>(n) && *i + k < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  }
  *i += k;
  return cp;
}

void EncodeUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Simple (one-to-one) case mappings of Latin-1, Latin Extended-A, Greek and Cyrillic: the
// scripts of telemetry text that have case. Other code points map to themselves.
uint32_t LowerCodePoint(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c % 2 == 0) ? c + 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
  if (c == 0x178) return 0xFF;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

uint32_t UpperCodePoint(uint32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if ((c >= 0x101 && c <= 0x137) || (c >= 0x14B && c <= 0x177)) return (c % 2 == 1) ? c - 1 : c;
  if ((c >= 0x13A && c <= 0x148) || (c >= 0x17A && c <= 0x17E)) return (c % 2 == 0) ? c - 1 : c;
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string MapUtf8(std::string_view s, uint32_t (*map)(uint32_t)) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) EncodeUtf8(map(DecodeUtf8(s, &i)), &out);
  return out;
}

// Substring search of a lower-cased ASCII needle, ignoring ASCII case (the SIMD kernel).
// Exact for UTF-8 text too: the case mappings never turn a non-ASCII character into ASCII,
// and an ASCII needle cannot match inside a multi-byte sequence.
bool AsciiFoldFind(std::string_view hay, std::string_view needle) {
  return ContainsBytes(hay.data(), hay.size(), needle.data(), needle.size(), /*fold=*/true);
}

bool IsTokenChar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

}  // namespace

std::string Utf8Lower(std::string_view s) {
  return IsAscii(s) ? AsciiLower(s) : MapUtf8(s, LowerCodePoint);
}

std::string Utf8Upper(std::string_view s) {
  if (IsAscii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return out;
  }
  return MapUtf8(s, UpperCodePoint);
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view lowered_needle) {
  if (IsAscii(lowered_needle)) return AsciiFoldFind(haystack, lowered_needle);
  return Utf8Lower(haystack).find(lowered_needle) != std::string::npos;
}

bool HasToken(std::string_view haystack, std::string_view needle, bool case_sensitive) {
  auto is_token = [&](size_t pos, size_t len) {
    const bool left = pos == 0 || !IsTokenChar(static_cast<unsigned char>(haystack[pos - 1]));
    const size_t end = pos + len;
    return left &&
           (end == haystack.size() || !IsTokenChar(static_cast<unsigned char>(haystack[end])));
  };
  if (!case_sensitive && IsAscii(needle)) {
    // A lower-case ASCII needle: compare folding ASCII in place, no lower-cased copy. (Case
    // mappings keep non-ASCII letters non-ASCII, so token boundaries are the same.)
    if (needle.empty()) return false;
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    const size_t m = needle.size();
    for (size_t pos = 0; pos + m <= haystack.size(); ++pos) {
      size_t k = 0;
      while (k < m && lower(haystack[pos + k]) == needle[k]) ++k;
      if (k == m && is_token(pos, m)) return true;
    }
    return false;
  }
  std::string hay_storage;
  if (!case_sensitive) {
    hay_storage = Utf8Lower(haystack);
    haystack = hay_storage;
  }
  if (needle.empty()) return false;
  size_t pos = 0;
  while ((pos = haystack.find(needle, pos)) != std::string_view::npos) {
    if (is_token(pos, needle.size())) return true;
    ++pos;
  }
  return false;
}

bool ValueSet::Contains(const Value& v) const {
  switch (v.type) {
    case TypeId::kFloat:
      return std::isnan(v.f) ? has_nan : floats.count(v.f) > 0;
    case TypeId::kString:
    case TypeId::kDynamic:
      return strings.count(v.s) > 0;
    default:
      return ints.count(v.i) > 0;
  }
}

// The answers of one predicate node per dictionary it has met (by identity; the dictionary is
// kept alive so the identity cannot be reused). Shared by every batch and thread of a query.
struct DictionaryMemo {
  std::mutex mu;
  std::vector<std::pair<std::shared_ptr<const Vector>, std::shared_ptr<const std::vector<uint8_t>>>>
      entries;
};

CompareOp FlipCompare(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    default:
      return op;
  }
}

const char* CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

std::shared_ptr<DictionaryMemo> NewDictionaryMemo() {
  return std::make_shared<DictionaryMemo>();
}

// ---------------------------------------------------------------------------------------------
// Vectors

Vector ConstantVector(const Value& v, TypeId type, int64_t length) {
  if (v.null || type == TypeId::kNull) return Vector::Nulls(type, length);
  Value x = v.type == type ? v : CastValue(v, type);
  if (x.null) return Vector::Nulls(type, length);
  switch (type) {
    case TypeId::kBool: {
      auto values = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(length)));
      if (x.i) std::memset(values->mutable_data(), 0xFF, values->size());
      return Vector::Fixed(type, length, values, nullptr, 0);
    }
    case TypeId::kFloat: {
      auto values = Buffer::Allocate(static_cast<size_t>(length) * 8);
      std::fill_n(values->mutable_as<double>(), length, x.f);
      return Vector::Fixed(type, length, values, nullptr, 0);
    }
    case TypeId::kString:
    case TypeId::kDynamic: {
      // One dictionary entry referenced by every row: the text is stored once.
      std::vector<int32_t> offsets = {0, static_cast<int32_t>(x.s.size())};
      auto dict = std::make_shared<Vector>(Vector::Strings(
          type, 1, Buffer::CopyOf(offsets), Buffer::CopyOf(x.s.data(), x.s.size()), nullptr, 0));
      auto codes = Buffer::Allocate(static_cast<size_t>(length) * 4);
      return Vector::Dictionary(length, codes, nullptr, dict, 0);
    }
    default: {
      auto values = Buffer::Allocate(static_cast<size_t>(length) * 8);
      std::fill_n(values->mutable_as<int64_t>(), length, x.i);
      return Vector::Fixed(type, length, values, nullptr, 0);
    }
  }
}

Vector Gather(const Vector& v, const Selection& sel) {
  const int64_t n = sel.count();
  if (sel.dense()) return n == v.length() ? v : v.Slice(0, n);
  if (v.type() == TypeId::kNull) return Vector::Nulls(TypeId::kNull, n);
  std::shared_ptr<Buffer> validity;
  int64_t nulls = 0;
  if (v.has_nulls()) {
    validity = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
    const uint8_t* src = v.validity_bits();
    for (int64_t i = 0; i < n; ++i) {
      if (bits::Get(src, sel.row(i))) {
        bits::Set(validity->mutable_data(), i);
      } else {
        ++nulls;
      }
    }
  }
  switch (v.type()) {
    case TypeId::kNull:
      break;
    case TypeId::kBool: {
      auto values = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
      for (int64_t i = 0; i < n; ++i) {
        if (v.GetBool(sel.row(i))) bits::Set(values->mutable_data(), i);
      }
      return Vector::Fixed(v.type(), n, values, validity, nulls);
    }
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
    case TypeId::kFloat: {
      auto values = Buffer::Allocate(static_cast<size_t>(n) * 8);
      const int64_t* src = v.int64_values();
      int64_t* dst = values->mutable_as<int64_t>();
      for (int64_t i = 0; i < n; ++i) dst[i] = src[sel.row(i)];
      return Vector::Fixed(v.type(), n, values, validity, nulls);
    }
    case TypeId::kString:
    case TypeId::kDynamic: {
      if (v.is_dictionary()) {
        auto codes = Buffer::Allocate(static_cast<size_t>(n) * 4);
        const int32_t* src = v.dictionary_codes();
        int32_t* dst = codes->mutable_as<int32_t>();
        for (int64_t i = 0; i < n; ++i) dst[i] = src[sel.row(i)];
        return Vector::Dictionary(n, codes, validity, v.dictionary_ptr(), nulls);
      }
      std::vector<int32_t> offsets(static_cast<size_t>(n) + 1);
      size_t total = 0;
      const int32_t* o = v.offsets();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = sel.row(i);
        total += static_cast<size_t>(o[r + 1] - o[r]);
      }
      auto data = Buffer::Allocate(total);
      char* out = data->mutable_as<char>();
      size_t pos = 0;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t r = sel.row(i);
        const size_t len = static_cast<size_t>(o[r + 1] - o[r]);
        if (len) std::memcpy(out + pos, v.string_bytes() + o[r], len);
        pos += len;
        offsets[static_cast<size_t>(i) + 1] = static_cast<int32_t>(pos);
      }
      return Vector::Strings(v.type(), n, Buffer::CopyOf(offsets), data, validity, nulls);
    }
  }
  return Vector::Nulls(v.type(), n);
}

// ---------------------------------------------------------------------------------------------
// Evaluation

namespace {

bool IsValidAt(const Datum& d, int64_t row) {
  return d.is_constant ? !d.constant.null : d.vector.IsValid(row);
}

// Retypes int64 storage (int <-> timestamp <-> duration) without copying.
Vector Retype(const Vector& v, TypeId to) {
  if (v.type() == TypeId::kNull) return Vector::Nulls(to, v.length());
  return Vector::Fixed(to, v.length(), v.values_buffer(), v.validity_buffer(), v.null_count());
}

Result<Datum> RowWiseCast(const Datum& in, TypeId to, const Selection& sel, int64_t length) {
  if (in.is_constant) return Datum::Constant(CastValue(in.constant, to));
  const Vector& v = in.vector;
  if (IsInt64Backed(to) && IsInt64Backed(v.type())) return Datum::Of(Retype(v, to));
  if (v.type() == TypeId::kNull) return Datum::Of(Vector::Nulls(to, length));
  VectorWriter w(to, length);
  if (to == TypeId::kFloat && IsInt64Backed(v.type())) {
    const int64_t* src = v.int64_values();
    sel.ForEach([&](int64_t r) {
      if (v.IsValid(r)) w.SetFloat(r, static_cast<double>(src[r]));
    });
    return Datum::Of(w.Finish());
  }
  Value x;
  sel.ForEach([&](int64_t r) {
    ReadValue(v, r, &x);
    if (!x.null) w.Set(r, CastValue(x, to));
  });
  TQL_ASSIGN_OR_RETURN(Vector out, w.FinishChecked());
  return Datum::Of(std::move(out));
}

simdjson::dom::parser& JsonParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Navigates `path` from `e`; false when a key or index is missing.
bool Navigate(simdjson::dom::element e, const std::vector<std::string>& path,
              simdjson::dom::element* out) {
  for (const std::string& key : path) {
    if (e.is_object()) {
      if (e.get_object().value_unsafe().at_key(key).get(e) != simdjson::SUCCESS) return false;
    } else if (e.is_array()) {
      // A numeric key indexes an array (`payload.items.0`).
      size_t index = 0;
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec != std::errc() || p != key.data() + key.size()) return false;
      if (e.get_array().value_unsafe().at(index).get(e) != simdjson::SUCCESS) return false;
    } else {
      return false;
    }
  }
  *out = e;
  return true;
}

// JSON text: a string column holds text that may or may not be JSON; a dynamic value is JSON.
bool ParseJson(std::string_view text, simdjson::dom::element* out) {
  return JsonParser().parse(text.data(), text.size()).get(*out) == simdjson::SUCCESS;
}

// The value at `path` inside the JSON text, as `type`: the on-demand parser walks only to the
// field (the common case: a scalar), the DOM parser handles objects and arrays (their
// minified text).
Value ExtractPath(std::string_view text, const std::vector<std::string>& path, TypeId type) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  padded.assign(text);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (parser.iterate(padded.data(), text.size(), padded.size()).get(doc) != simdjson::SUCCESS) {
    return Value::Null(type);
  }
  simdjson::ondemand::value v;
  bool at_root = true;
  for (const std::string& key : path) {
    simdjson::ondemand::json_type t;
    if ((at_root ? doc.type().get(t) : v.type().get(t)) != simdjson::SUCCESS) {
      return Value::Null(type);
    }
    simdjson::error_code err;
    if (t == simdjson::ondemand::json_type::object) {
      err = at_root ? doc.find_field_unordered(key).get(v) : v.find_field_unordered(key).get(v);
    } else if (t == simdjson::ondemand::json_type::array) {
      size_t index = 0;
      auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec != std::errc() || p != key.data() + key.size()) return Value::Null(type);
      simdjson::ondemand::array a;
      err = at_root ? doc.get_array().get(a) : v.get_array().get(a);
      if (err == simdjson::SUCCESS) err = a.at(index).get(v);
    } else {
      return Value::Null(type);
    }
    if (err != simdjson::SUCCESS) return Value::Null(type);
    at_root = false;
  }
  if (at_root) return Value::Null(type);
  simdjson::ondemand::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS) return Value::Null(type);
  Value out;
  switch (t) {
    case simdjson::ondemand::json_type::string: {
      std::string_view str;
      if (v.get_string().get(str) != simdjson::SUCCESS) return Value::Null(type);
      out = Value::String(std::string(str));
      break;
    }
    case simdjson::ondemand::json_type::number: {
      simdjson::ondemand::number num;
      if (v.get_number().get(num) != simdjson::SUCCESS) return Value::Null(type);
      if (num.is_int64()) {
        out = Value::Int(num.get_int64());
      } else {
        out = Value::Float(num.as_double());
      }
      break;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b) != simdjson::SUCCESS) return Value::Null(type);
      out = Value::Bool(b);
      break;
    }
    case simdjson::ondemand::json_type::null:
      return Value::Null(type);
    default: {
      // An object or an array: its minified text (only dynamic and string results use it).
      if (type != TypeId::kDynamic && type != TypeId::kString) return Value::Null(type);
      simdjson::dom::element d, found;
      if (!ParseJson(text, &d) || !Navigate(d, path, &found)) return Value::Null(type);
      return type == TypeId::kDynamic ? Value::Dynamic(simdjson::minify(found))
                                      : Value::String(simdjson::minify(found));
    }
  }
  if (type == TypeId::kDynamic) return Value::Dynamic(ValueToJson(out));
  return CastValue(out, type);
}

Result<Datum> EvalPath(const PExpr& e, const Batch& batch, const Selection& sel,
                       const EvalContext& ctx) {
  TQL_ASSIGN_OR_RETURN(Datum in, Evaluate(*e.args[0], batch, sel, ctx));
  VectorWriter w(e.type, batch.num_rows());
  if (in.is_constant) {
    if (in.constant.null) return Datum::Constant(Value::Null(e.type));
    return Datum::Constant(ExtractPath(in.constant.s, e.path, e.type));
  }
  const Vector& v = in.vector;
  if (v.type() != TypeId::kNull) {
    sel.ForEach([&](int64_t r) {
      if (v.IsValid(r)) w.Set(r, ExtractPath(v.GetString(r), e.path, e.type));
    });
  }
  TQL_ASSIGN_OR_RETURN(Vector out, w.FinishChecked());
  return Datum::Of(std::move(out));
}

Result<Datum> EvalIndex(const PExpr& e, const Batch& batch, const Selection& sel,
                        const EvalContext& ctx) {
  TQL_ASSIGN_OR_RETURN(Datum base, Evaluate(*e.args[0], batch, sel, ctx));
  TQL_ASSIGN_OR_RETURN(Datum index, Evaluate(*e.args[1], batch, sel, ctx));
  VectorWriter w(TypeId::kDynamic, batch.num_rows());
  Value b, k;
  sel.ForEach([&](int64_t r) {
    base.Read(r, &b);
    index.Read(r, &k);
    if (b.null || k.null) return;
    simdjson::dom::element doc, found;
    if (!ParseJson(b.s, &doc)) return;
    if (k.type == TypeId::kString) {
      if (!doc.is_object() ||
          doc.get_object().value_unsafe().at_key(k.s).get(found) != simdjson::SUCCESS) {
        return;
      }
    } else {
      Value i = CastValue(k, TypeId::kInt);
      if (i.null || !doc.is_array()) return;
      auto array = doc.get_array().value_unsafe();
      int64_t idx = i.i;
      const auto size = static_cast<int64_t>(array.size());
      if (idx < 0) idx += size;  // -1 is the last element
      if (idx < 0 || idx >= size) return;
      if (array.at(static_cast<size_t>(idx)).get(found) != simdjson::SUCCESS) return;
    }
    if (!found.is_null()) w.SetString(r, simdjson::minify(found));
  });
  TQL_ASSIGN_OR_RETURN(Vector out, w.FinishChecked());
  return Datum::Of(std::move(out));
}

template <typename T>
inline bool ApplyCompare(CompareOp op, T a, T b) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return a != b;
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
  }
  return false;
}

inline bool CompareFloats(CompareOp op, double a, double b) {
  // NaN equals NaN and sorts above every number, so comparisons agree with sort.
  if (std::isnan(a) || std::isnan(b)) {
    const int c = std::isnan(a) == std::isnan(b) ? 0 : (std::isnan(a) ? 1 : -1);
    return ApplyCompare(op, c, 0);
  }
  return ApplyCompare(op, a, b);
}

inline bool CompareRow(CompareOp op, const Value& a, const Value& b) {
  return ApplyCompare(op, CompareValues(a, b), 0);
}

// The predicate `pred` evaluated once per entry of a dictionary-encoded column's dictionary
// (1 where it holds), memoized across batches in `memo` when there is one.
template <typename Pred>
std::shared_ptr<const std::vector<uint8_t>> DictionaryMatches(DictionaryMemo* memo, const Vector& v,
                                                              Pred pred) {
  const Vector& dict = v.dictionary();
  auto compute = [&] {
    auto out = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(dict.length()));
    for (int64_t i = 0; i < dict.length(); ++i) {
      (*out)[static_cast<size_t>(i)] = pred(dict.GetString(i)) ? 1 : 0;
    }
    return out;
  };
  if (memo == nullptr) return compute();
  std::lock_guard<std::mutex> lock(memo->mu);
  for (const auto& [d, m] : memo->entries) {
    if (d.get() == &dict) return m;
  }
  if (memo->entries.size() >= 16) memo->entries.clear();  // bounded: a few dictionaries at once
  std::shared_ptr<const std::vector<uint8_t>> m = compute();
  memo->entries.emplace_back(v.dictionary_ptr(), m);
  return m;
}

// Runs a string predicate over the selected rows: per dictionary entry when the column is
// dictionary-encoded, else per row. Writes a bool result (null where the input is null).
template <typename Pred>
Datum StringPredicate(const PExpr& e, const Datum& in, const Selection& sel, int64_t length,
                      Pred pred) {
  const bool neg = e.negated;
  if (in.is_constant) {
    if (in.constant.null) return Datum::Constant(Value::Null(TypeId::kBool));
    return Datum::Constant(Value::Bool(pred(in.constant.s) != neg));
  }
  const Vector& v = in.vector;
  if (v.type() == TypeId::kNull) return Datum::Of(Vector::Nulls(TypeId::kBool, length));
  VectorWriter w(TypeId::kBool, length);
  if (v.is_dictionary()) {
    const auto matches = DictionaryMatches(e.memo.get(), v, pred);
    const std::vector<uint8_t>& m = *matches;
    const int32_t* codes = v.dictionary_codes();
    sel.ForEach([&](int64_t r) {
      if (v.IsValid(r)) w.SetBool(r, (m[static_cast<size_t>(codes[r])] != 0) != neg);
    });
  } else {
    sel.ForEach([&](int64_t r) {
      if (v.IsValid(r)) w.SetBool(r, pred(v.GetString(r)) != neg);
    });
  }
  return Datum::Of(w.Finish());
}

}  // namespace

bool TextMatches(TextOp op, bool case_sensitive, std::string_view s, std::string_view n) {
  switch (op) {
    case TextOp::kContains:
      return case_sensitive ? ContainsBytes(s.data(), s.size(), n.data(), n.size(), false)
                            : ContainsIgnoreCase(s, n);
    case TextOp::kHas:
      return HasToken(s, n, case_sensitive);
    case TextOp::kStartsWith:
      if (case_sensitive) return s.substr(0, n.size()) == n;
      if (IsAscii(n)) return s.size() >= n.size() && AsciiLower(s.substr(0, n.size())) == n;
      return Utf8Lower(s).starts_with(n);
    case TextOp::kEndsWith:
      if (case_sensitive) return s.size() >= n.size() && s.substr(s.size() - n.size()) == n;
      if (IsAscii(n)) {
        return s.size() >= n.size() && AsciiLower(s.substr(s.size() - n.size())) == n;
      }
      return Utf8Lower(s).ends_with(n);
  }
  return false;
}

namespace {

auto TextPredicate(const PExpr& e) {
  return [&e](std::string_view s) { return TextMatches(e.text_op, e.case_sensitive, s, e.needle); };
}

// The test a dictionary can answer once per entry, for a string-predicate node over a column:
// text operators, regexes, comparisons with a constant and `in` hash sets. Null otherwise.
// The result is before negation; `keep` then says which answers select a row.
std::function<bool(std::string_view)> DictionaryTest(const PExpr& e) {
  switch (e.kind) {
    case PKind::kText:
      return TextPredicate(e);
    case PKind::kRegex:
      return [re = e.regex](std::string_view s) { return re->PartialMatch(s); };
    case PKind::kCompare: {
      const PExpr& c = *e.args[1];
      if (c.kind != PKind::kConstant || c.constant.null || !IsStringBacked(c.type)) return nullptr;
      return [op = e.compare_op, text = c.constant.s](std::string_view s) {
        const int cmp = s.compare(text);
        return ApplyCompare(op, cmp < 0 ? -1 : (cmp > 0 ? 1 : 0), 0);
      };
    }
    case PKind::kIn:
      if (!e.set || e.args.size() != 1) return nullptr;
      return [set = e.set](std::string_view s) { return set->strings.count(std::string(s)) > 0; };
    default:
      return nullptr;
  }
}

Result<Datum> EvalCompare(const PExpr& e, const Batch& batch, const Selection& sel,
                          const EvalContext& ctx) {
  TQL_ASSIGN_OR_RETURN(Datum a, Evaluate(*e.args[0], batch, sel, ctx));
  TQL_ASSIGN_OR_RETURN(Datum b, Evaluate(*e.args[1], batch, sel, ctx));
  const int64_t n = batch.num_rows();
  CompareOp op = e.compare_op;
  if (a.is_constant && b.is_constant) {
    if (a.constant.null || b.constant.null) return Datum::Constant(Value::Null(TypeId::kBool));
    return Datum::Constant(Value::Bool(CompareRow(op, a.constant, b.constant)));
  }
  if (a.is_constant) {
    std::swap(a, b);
    op = FlipCompare(op);
  }
  const Vector& v = a.vector;
  if (v.type() == TypeId::kNull) return Datum::Of(Vector::Nulls(TypeId::kBool, n));
  if (b.is_constant && b.constant.null) return Datum::Of(Vector::Nulls(TypeId::kBool, n));
  // String column against a constant: per dictionary entry when encoded.
  if (b.is_constant && IsStringBacked(v.type())) {
    const std::string c = b.constant.s;
    PExpr shim;
    shim.memo = e.memo;
    if (op == CompareOp::kEq || op == CompareOp::kNe) {  // lengths first: most rows differ
      const bool eq = op == CompareOp::kEq;
      return StringPredicate(shim, a, sel, n, [&](std::string_view s) { return (s == c) == eq; });
    }
    return StringPredicate(shim, a, sel, n, [&](std::string_view s) {
      const int cmp = s.compare(c);
      return ApplyCompare(op, cmp < 0 ? -1 : (cmp > 0 ? 1 : 0), 0);
    });
  }
  VectorWriter w(TypeId::kBool, n);
  const Vector* bv = b.is_constant ? nullptr : &b.vector;
  if (bv != nullptr && bv->type() == TypeId::kNull) {
    return Datum::Of(Vector::Nulls(TypeId::kBool, n));
  }
  if (IsInt64Backed(v.type()) || v.type() == TypeId::kBool) {
    auto get = [](const Vector& x, int64_t r) {
      return x.type() == TypeId::kBool ? int64_t{x.GetBool(r)} : x.GetInt64(r);
    };
    const int64_t c = b.is_constant ? b.constant.i : 0;
    sel.ForEach([&](int64_t r) {
      if (!v.IsValid(r) || (bv && !bv->IsValid(r))) return;
      w.SetBool(r, ApplyCompare(op, get(v, r), bv ? get(*bv, r) : c));
    });
  } else if (v.type() == TypeId::kFloat) {
    const double c = b.is_constant ? b.constant.f : 0;
    sel.ForEach([&](int64_t r) {
      if (!v.IsValid(r) || (bv && !bv->IsValid(r))) return;
      w.SetBool(r, CompareFloats(op, v.GetFloat(r), bv ? bv->GetFloat(r) : c));
    });
  } else {
    sel.ForEach([&](int64_t r) {
      if (!v.IsValid(r) || !bv->IsValid(r)) return;
      const int cmp = v.GetString(r).compare(bv->GetString(r));
      w.SetBool(r, ApplyCompare(op, cmp < 0 ? -1 : (cmp > 0 ? 1 : 0), 0));
    });
  }
  return Datum::Of(w.Finish());
}

// A validity bitmap with every one of `n` rows valid.
std::shared_ptr<Buffer> AllValid(int64_t n) {
  auto b = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
  std::memset(b->mutable_data(), 0xFF, b->size());
  return b;
}

// The rows valid in both (null when neither has nulls).
std::shared_ptr<Buffer> AndValidity(const Vector* a, const Vector* b, int64_t n) {
  const uint8_t* x = a && a->has_nulls() ? a->validity_bits() : nullptr;
  const uint8_t* y = b && b->has_nulls() ? b->validity_bits() : nullptr;
  if (!x && !y) return nullptr;
  auto out = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
  uint8_t* o = out->mutable_data();
  for (int64_t i = 0; i < bits::BytesFor(n); ++i) {
    o[i] = static_cast<uint8_t>((x ? x[i] : 0xFF) & (y ? y[i] : 0xFF));
  }
  return out;
}

Result<Datum> EvalArith(const PExpr& e, const Batch& batch, const Selection& sel,
                        const EvalContext& ctx) {
  TQL_ASSIGN_OR_RETURN(Datum a, Evaluate(*e.args[0], batch, sel, ctx));
  TQL_ASSIGN_OR_RETURN(Datum b, Evaluate(*e.args[1], batch, sel, ctx));
  const int64_t n = batch.num_rows();
  const bool floating = a.type() == TypeId::kFloat || b.type() == TypeId::kFloat;
  const ArithOp op = e.arith_op;
  auto int_op = [op](int64_t x, int64_t y, bool* null) -> int64_t {
    const auto ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
    switch (op) {
      case ArithOp::kAdd:
        return static_cast<int64_t>(ux + uy);
      case ArithOp::kSub:
        return static_cast<int64_t>(ux - uy);
      case ArithOp::kMul:
        return static_cast<int64_t>(ux * uy);
      case ArithOp::kMod:
        if (y == 0) {
          *null = true;
          return 0;
        }
        return y == -1 ? 0 : x % y;
      case ArithOp::kDiv:
        break;
    }
    *null = true;
    return 0;
  };
  auto float_op = [op](double x, double y, bool* null) -> double {
    switch (op) {
      case ArithOp::kAdd:
        return x + y;
      case ArithOp::kSub:
        return x - y;
      case ArithOp::kMul:
        return x * y;
      case ArithOp::kDiv:
        if (y == 0) {
          *null = true;
          return 0;
        }
        return x / y;
      case ArithOp::kMod:
        if (y == 0) {
          *null = true;
          return 0;
        }
        return std::fmod(x, y);
    }
    return 0;
  };
  auto as_float = [](const Value& v) { return v.type == TypeId::kFloat ? v.f : double(v.i); };
  if (a.is_constant && b.is_constant) {
    if (a.constant.null || b.constant.null) return Datum::Constant(Value::Null(e.type));
    bool null = false;
    Value out;
    if (floating || op == ArithOp::kDiv) {
      out = Value::Float(float_op(as_float(a.constant), as_float(b.constant), &null));
    } else {
      out = Value::Int(int_op(a.constant.i, b.constant.i, &null));
    }
    if (null) return Datum::Constant(Value::Null(e.type));
    return Datum::Constant(CastValue(out, e.type));
  }
  if ((!a.is_constant && a.vector.type() == TypeId::kNull) ||
      (!b.is_constant && b.vector.type() == TypeId::kNull) || (a.is_constant && a.constant.null) ||
      (b.is_constant && b.constant.null)) {
    return Datum::Of(Vector::Nulls(e.type, n));
  }
  // Dense kernels over every row of the batch when most rows are selected: the unselected
  // rows compute harmless values nobody reads, and no row pays a null check.
  if (sel.count() * 4 >= n && op != ArithOp::kMod) {
    const Vector* av = a.is_constant ? nullptr : &a.vector;
    const Vector* bv = b.is_constant ? nullptr : &b.vector;
    const bool ints = IsInt64Backed(a.type()) && IsInt64Backed(b.type()) && !floating &&
                      op != ArithOp::kDiv && IsInt64Backed(e.type);
    const bool floats = (a.type() == TypeId::kFloat || IsInt64Backed(a.type())) &&
                        (b.type() == TypeId::kFloat || IsInt64Backed(b.type())) &&
                        (floating || op == ArithOp::kDiv) && e.type == TypeId::kFloat;
    if (ints || floats) {
      auto values = Buffer::Allocate(static_cast<size_t>(n) * 8);
      std::shared_ptr<Buffer> validity = AndValidity(av, bv, n);
      const int code = static_cast<int>(op);  // add 0, sub 1, mul 2, div 3
      if (ints) {
        ArithInt64(av ? av->int64_values() : nullptr, a.constant.i,
                   bv ? bv->int64_values() : nullptr, b.constant.i, code, n,
                   values->mutable_as<int64_t>());
      } else {
        // int64 operands (durations, ints) as doubles first.
        std::vector<double> a_conv, b_conv;
        auto as_doubles = [n](const Vector* v, std::vector<double>* conv) -> const double* {
          if (v == nullptr) return nullptr;
          if (v->type() == TypeId::kFloat) return v->float_values();
          conv->resize(static_cast<size_t>(n));
          const int64_t* src = v->int64_values();
          for (int64_t r = 0; r < n; ++r)
            (*conv)[static_cast<size_t>(r)] = static_cast<double>(src[r]);
          return conv->data();
        };
        auto const_double = [](const Datum& d) {
          return d.constant.type == TypeId::kFloat ? d.constant.f
                                                   : static_cast<double>(d.constant.i);
        };
        const double* ad = as_doubles(av, &a_conv);
        const double* bd = as_doubles(bv, &b_conv);
        const double ca = a.is_constant ? const_double(a) : 0,
                     cb = b.is_constant ? const_double(b) : 0;
        ArithFloat64(ad, ca, bd, cb, code, n, values->mutable_as<double>());
        if (op == ArithOp::kDiv) {
          // Division by zero is null.
          for (int64_t r = 0; r < n; ++r) {
            if ((bd ? bd[r] : cb) == 0) {
              if (!validity) validity = AllValid(n);
              bits::Clear(validity->mutable_data(), r);
            }
          }
        }
      }
      return Datum::Of(Vector::Fixed(e.type, n, values, validity));
    }
  }
  VectorWriter w(e.type, n);
  if (floating || op == ArithOp::kDiv) {
    auto get = [&](const Datum& d, int64_t r) {
      if (d.is_constant) return as_float(d.constant);
      return d.vector.type() == TypeId::kFloat ? d.vector.GetFloat(r)
                                               : static_cast<double>(d.vector.GetInt64(r));
    };
    const bool to_float = e.type == TypeId::kFloat;
    sel.ForEach([&](int64_t r) {
      if (!IsValidAt(a, r) || !IsValidAt(b, r)) return;
      bool null = false;
      const double x = float_op(get(a, r), get(b, r), &null);
      if (null) return;
      if (to_float) {
        w.SetFloat(r, x);
      } else {
        w.Set(r, Value::Float(x));
      }
    });
  } else {
    auto get = [&](const Datum& d, int64_t r) {
      return d.is_constant ? d.constant.i : d.vector.GetInt64(r);
    };
    sel.ForEach([&](int64_t r) {
      if (!IsValidAt(a, r) || !IsValidAt(b, r)) return;
      bool null = false;
      const int64_t x = int_op(get(a, r), get(b, r), &null);
      if (!null) w.SetInt64(r, x);
    });
  }
  return Datum::Of(w.Finish());
}

// A bool datum's value at a row: 1 true, 0 false, -1 null.
inline int BoolAt(const Datum& d, int64_t r) {
  if (d.is_constant) return d.constant.null ? -1 : static_cast<int>(d.constant.i != 0);
  if (d.vector.type() == TypeId::kNull || d.vector.IsNull(r)) return -1;
  return d.vector.GetBool(r) ? 1 : 0;
}

Result<Datum> EvalLogical(const PExpr& e, const Batch& batch, const Selection& sel,
                          const EvalContext& ctx) {
  std::vector<Datum> parts;
  for (const PExprPtr& a : e.args) {
    TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*a, batch, sel, ctx));
    parts.push_back(std::move(d));
  }
  const bool is_and = e.kind == PKind::kAnd;
  VectorWriter w(TypeId::kBool, batch.num_rows());
  sel.ForEach([&](int64_t r) {
    // and: false wins, then null; or: true wins, then null.
    int acc = is_and ? 1 : 0;
    for (const Datum& d : parts) {
      const int v = BoolAt(d, r);
      if (is_and) {
        if (v == 0) {
          acc = 0;
          break;
        }
        if (v < 0) acc = -1;
      } else {
        if (v == 1) {
          acc = 1;
          break;
        }
        if (v < 0) acc = -1;
      }
    }
    if (acc >= 0) w.SetBool(r, acc == 1);
  });
  return Datum::Of(w.Finish());
}

Result<Datum> EvalIf(const PExpr& e, const Batch& batch, const Selection& sel,
                     const EvalContext& ctx) {
  // Each branch is evaluated only at the rows that take it.
  VectorWriter w(e.type, batch.num_rows());
  std::vector<int32_t> rows_left;
  sel.ForEach([&](int64_t r) { rows_left.push_back(static_cast<int32_t>(r)); });
  std::vector<std::pair<int32_t, Value>> results;
  const size_t pairs = (e.args.size() - 1) / 2;
  for (size_t p = 0; p < pairs && !rows_left.empty(); ++p) {
    Selection left = Selection::Of(rows_left);
    TQL_ASSIGN_OR_RETURN(Selection taken, SelectTrue(*e.args[2 * p], batch, left, ctx));
    if (!taken.empty()) {
      TQL_ASSIGN_OR_RETURN(Datum v, Evaluate(*e.args[2 * p + 1], batch, taken, ctx));
      Value x;
      taken.ForEach([&](int64_t r) {
        v.Read(r, &x);
        results.emplace_back(static_cast<int32_t>(r), x);
      });
    }
    std::vector<int32_t> rest;
    size_t k = 0;
    const auto& t = taken.rows();
    for (int32_t r : rows_left) {
      if (k < t.size() && t[k] == r) {
        ++k;
      } else {
        rest.push_back(r);
      }
    }
    rows_left = std::move(rest);
  }
  if (!rows_left.empty()) {
    Selection left = Selection::Of(rows_left);
    TQL_ASSIGN_OR_RETURN(Datum v, Evaluate(*e.args.back(), batch, left, ctx));
    Value x;
    left.ForEach([&](int64_t r) {
      v.Read(r, &x);
      results.emplace_back(static_cast<int32_t>(r), x);
    });
  }
  std::sort(results.begin(), results.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [r, v] : results) w.Set(r, v);
  TQL_ASSIGN_OR_RETURN(Vector out, w.FinishChecked());
  return Datum::Of(std::move(out));
}

Result<Datum> EvalRowWise(const PExpr& e, const Batch& batch, const Selection& sel,
                          const EvalContext& ctx) {
  std::vector<Datum> args;
  bool all_constant = true;
  for (const PExprPtr& a : e.args) {
    TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*a, batch, sel, ctx));
    all_constant = all_constant && d.is_constant;
    args.push_back(std::move(d));
  }
  std::vector<Value> values(args.size());
  auto compute = [&](int64_t r) -> Value {
    for (size_t i = 0; i < args.size(); ++i) args[i].Read(r, &values[i]);
    switch (e.kind) {
      case PKind::kCoalesce:
        for (const Value& v : values) {
          if (!v.null) return v;
        }
        return Value::Null(e.type);
      case PKind::kCall:
        return e.function(values.data(), static_cast<int>(values.size()), ctx, e);
      default:
        return Value::Null(e.type);
    }
  };
  // Constant arguments give a constant (a call without arguments, such as now(), too unless
  // it is a function of the row).
  if (all_constant && (e.kind != PKind::kCall || !e.args.empty())) {
    return Datum::Constant(CastValue(compute(0), e.type));
  }
  VectorWriter w(e.type, batch.num_rows());
  sel.ForEach([&](int64_t r) { w.Set(r, compute(r)); });
  TQL_ASSIGN_OR_RETURN(Vector out, w.FinishChecked());
  return Datum::Of(std::move(out));
}

// `search` as a filter: column by column (encoded ones first, answered per dictionary
// entry), each testing only the rows no earlier column matched.
Result<Selection> SelectSearch(const PExpr& e, const Batch& batch, const Selection& sel,
                               const EvalContext& ctx) {
  auto hit = [&](std::string_view s) {
    if (e.regex) return e.regex->PartialMatch(s);
    return e.case_sensitive ? s.find(e.needle) != std::string_view::npos
                            : ContainsIgnoreCase(s, e.needle);
  };
  // A dynamic value that is a JSON string is searched as its text, without quotes.
  Value decoded;
  auto hit_dynamic = [&](std::string_view s) {
    if (!s.empty() && s.front() == '"') {
      decoded = DecodeDynamic(s);
      if (!decoded.null && decoded.type == TypeId::kString) return hit(decoded.s);
    }
    return hit(s);
  };
  std::vector<const PExpr*> order;
  for (const PExprPtr& a : e.args) {
    if (a->kind == PKind::kColumn && batch.column(a->column).is_dictionary())
      order.push_back(a.get());
  }
  for (const PExprPtr& a : e.args) {
    if (!(a->kind == PKind::kColumn && batch.column(a->column).is_dictionary())) {
      order.push_back(a.get());
    }
  }
  std::vector<int32_t> found, rest, next;
  sel.ForEach([&](int64_t r) { rest.push_back(static_cast<int32_t>(r)); });
  for (const PExpr* col : order) {
    if (rest.empty()) break;
    TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*col, batch, Selection::Of(rest), ctx));
    next.clear();
    if (d.is_constant) {
      if (!d.constant.null && hit(d.constant.s)) {
        found.insert(found.end(), rest.begin(), rest.end());
        rest.clear();
      }
      continue;
    }
    const Vector& v = d.vector;
    if (v.type() == TypeId::kNull) continue;
    std::shared_ptr<const std::vector<uint8_t>> matches;
    const bool dynamic = v.type() == TypeId::kDynamic;
    if (v.is_dictionary()) matches = DictionaryMatches(e.memo.get(), v, hit);
    for (int32_t r : rest) {
      bool h = false;
      if (v.IsValid(r)) {
        h = matches   ? (*matches)[static_cast<size_t>(v.dictionary_codes()[r])] != 0
            : dynamic ? hit_dynamic(v.GetString(r))
                      : hit(v.GetString(r));
      }
      (h ? found : next).push_back(r);
    }
    rest.swap(next);
  }
  std::sort(found.begin(), found.end());
  return Selection::Of(std::move(found));
}

Result<Datum> EvalIn(const PExpr& e, const Batch& batch, const Selection& sel,
                     const EvalContext& ctx) {
  TQL_ASSIGN_OR_RETURN(Datum x, Evaluate(*e.args[0], batch, sel, ctx));
  if (!e.set) {
    // Items that are not all constants: compared one by one (SQL's rules for nulls).
    std::vector<Datum> items;
    for (size_t i = 1; i < e.args.size(); ++i) {
      TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*e.args[i], batch, sel, ctx));
      items.push_back(std::move(d));
    }
    VectorWriter w(TypeId::kBool, batch.num_rows());
    Value v, item;
    // A dynamic value meets each item as `==` would: both converted to the item's type
    // (numbers as floats, dynamic items as text).
    auto equal = [](const Value& dyn_or_value, const Value& it) {
      if (dyn_or_value.type != TypeId::kDynamic) {
        const Value b = CastValue(it, dyn_or_value.type);
        if (b.null) return -1;
        return CompareValues(dyn_or_value, b) == 0 ? 1 : 0;
      }
      TypeId t = it.type;
      if (t == TypeId::kInt || t == TypeId::kFloat) t = TypeId::kFloat;
      if (t == TypeId::kDynamic) t = TypeId::kString;
      const Value a = CastValue(dyn_or_value, t), b = CastValue(it, t);
      if (a.null || b.null) return -1;  // does not convert: unknown, as `==` says
      return CompareValues(a, b) == 0 ? 1 : 0;
    };
    sel.ForEach([&](int64_t r) {
      x.Read(r, &v);
      if (v.null) return;
      bool found = false, saw_null = false;
      for (const Datum& d : items) {
        d.Read(r, &item);
        const int eq = item.null ? -1 : equal(v, item);
        if (eq < 0) {
          saw_null = true;
        } else if (eq == 1) {
          found = true;
          break;
        }
      }
      if (found) {
        w.SetBool(r, !e.negated);
      } else if (!saw_null) {
        w.SetBool(r, e.negated);
      }
    });
    return Datum::Of(w.Finish());
  }
  const ValueSet& set = *e.set;
  // SQL semantics: not found in a list holding a null is null.
  const bool list_has_null = set.has_null;
  auto decide = [&](const Value& v, VectorWriter* w, int64_t r) {
    if (v.null) return;
    if (set.Contains(v)) {
      w->SetBool(r, !e.negated);
    } else if (!list_has_null) {
      w->SetBool(r, e.negated);
    }
  };
  if (x.is_constant) {
    VectorWriter w1(TypeId::kBool, 1);
    decide(x.constant, &w1, 0);
    Vector one = w1.Finish();
    return Datum::Constant(one.IsValid(0) ? Value::Bool(one.GetBool(0))
                                          : Value::Null(TypeId::kBool));
  }
  const Vector& v = x.vector;
  if (v.type() == TypeId::kNull) return Datum::Of(Vector::Nulls(TypeId::kBool, batch.num_rows()));
  VectorWriter w(TypeId::kBool, batch.num_rows());
  if (IsStringBacked(v.type())) {
    PExpr shim;
    shim.memo = e.memo;
    shim.negated = e.negated;
    if (!list_has_null) {
      return StringPredicate(shim, x, sel, batch.num_rows(), [&](std::string_view s) {
        return set.strings.count(std::string(s)) > 0;
      });
    }
  }
  if (IsInt64Backed(v.type())) {
    const int64_t* vals = v.int64_values();
    sel.ForEach([&](int64_t r) {
      if (!v.IsValid(r)) return;
      if (set.ints.count(vals[r])) {
        w.SetBool(r, !e.negated);
      } else if (!list_has_null) {
        w.SetBool(r, e.negated);
      }
    });
    return Datum::Of(w.Finish());
  }
  Value val;
  sel.ForEach([&](int64_t r) {
    ReadValue(v, r, &val);
    decide(val, &w, r);
  });
  return Datum::Of(w.Finish());
}

// Appends to `out` the rows of `sel` where the bool datum is true.
void AppendTrueRows(const Datum& d, const Selection& sel, std::vector<int32_t>* out) {
  if (d.is_constant) {
    if (!d.constant.null && d.constant.i) {
      sel.ForEach([&](int64_t r) { out->push_back(static_cast<int32_t>(r)); });
    }
    return;
  }
  const Vector& v = d.vector;
  if (v.type() == TypeId::kNull) return;
  const uint8_t* values = v.bool_bits();
  const uint8_t* valid = v.validity_bits();
  sel.ForEach([&](int64_t r) {
    const bool keep = bits::Get(values, r) && (valid == nullptr || bits::Get(valid, r));
    out->push_back(static_cast<int32_t>(r));
    if (!keep) out->pop_back();
  });
}

}  // namespace

Result<Datum> Evaluate(const PExpr& e, const Batch& batch, const Selection& sel,
                       const EvalContext& ctx) {
  const int64_t n = batch.num_rows();
  switch (e.kind) {
    case PKind::kColumn:
      return Datum::Of(batch.column(e.column));
    case PKind::kConstant:
      return Datum::Constant(e.constant);
    case PKind::kCast: {
      TQL_ASSIGN_OR_RETURN(Datum in, Evaluate(*e.args[0], batch, sel, ctx));
      if (in.type() == e.type) return in;
      return RowWiseCast(in, e.type, sel, n);
    }
    case PKind::kPath:
      return EvalPath(e, batch, sel, ctx);
    case PKind::kIndex:
      return EvalIndex(e, batch, sel, ctx);
    case PKind::kArith:
      return EvalArith(e, batch, sel, ctx);
    case PKind::kNegate: {
      TQL_ASSIGN_OR_RETURN(Datum in, Evaluate(*e.args[0], batch, sel, ctx));
      if (in.is_constant) {
        Value v = in.constant;
        if (!v.null) {
          if (v.type == TypeId::kFloat) {
            v.f = -v.f;
          } else {
            v.i = static_cast<int64_t>(0 - static_cast<uint64_t>(v.i));
          }
        }
        return Datum::Constant(CastValue(v, e.type));
      }
      const Vector& v = in.vector;
      if (v.type() == TypeId::kNull) return Datum::Of(Vector::Nulls(e.type, n));
      VectorWriter w(e.type, n);
      sel.ForEach([&](int64_t r) {
        if (!v.IsValid(r)) return;
        if (v.type() == TypeId::kFloat) {
          w.SetFloat(r, -v.GetFloat(r));
        } else {
          w.SetInt64(r, static_cast<int64_t>(0 - static_cast<uint64_t>(v.GetInt64(r))));
        }
      });
      return Datum::Of(w.Finish());
    }
    case PKind::kCompare:
      return EvalCompare(e, batch, sel, ctx);
    case PKind::kText: {
      TQL_ASSIGN_OR_RETURN(Datum in, Evaluate(*e.args[0], batch, sel, ctx));
      return StringPredicate(e, in, sel, n, TextPredicate(e));
    }
    case PKind::kRegex: {
      TQL_ASSIGN_OR_RETURN(Datum in, Evaluate(*e.args[0], batch, sel, ctx));
      const Regex& re = *e.regex;
      return StringPredicate(e, in, sel, n,
                             [&re](std::string_view s) { return re.PartialMatch(s); });
    }
    case PKind::kIn:
      return EvalIn(e, batch, sel, ctx);
    case PKind::kAnd:
    case PKind::kOr:
      return EvalLogical(e, batch, sel, ctx);
    case PKind::kNot: {
      TQL_ASSIGN_OR_RETURN(Datum in, Evaluate(*e.args[0], batch, sel, ctx));
      if (in.is_constant) {
        if (in.constant.null) return in;
        return Datum::Constant(Value::Bool(in.constant.i == 0));
      }
      VectorWriter w(TypeId::kBool, n);
      sel.ForEach([&](int64_t r) {
        const int b = BoolAt(in, r);
        if (b >= 0) w.SetBool(r, b == 0);
      });
      return Datum::Of(w.Finish());
    }
    case PKind::kIsNull: {
      TQL_ASSIGN_OR_RETURN(Datum in, Evaluate(*e.args[0], batch, sel, ctx));
      if (in.is_constant) return Datum::Constant(Value::Bool(in.constant.null != e.negated));
      VectorWriter w(TypeId::kBool, n);
      const Vector& v = in.vector;
      sel.ForEach([&](int64_t r) {
        const bool null = v.type() == TypeId::kNull || v.IsNull(r);
        w.SetBool(r, null != e.negated);
      });
      return Datum::Of(w.Finish());
    }
    case PKind::kIf:
      return EvalIf(e, batch, sel, ctx);
    case PKind::kCoalesce:
      return EvalRowWise(e, batch, sel, ctx);
    case PKind::kCall: {
      // bin(x, size) of int64 storage by a constant size (the time bins of nearly every
      // summarize): a typed loop, not a call per row.
      if (e.function_name == "bin" && IsInt64Backed(e.type) && e.args.size() == 2 &&
          e.args[1]->kind == PKind::kConstant && !e.args[1]->constant.null &&
          IsInt64Backed(e.args[1]->constant.type) && e.args[1]->constant.i > 0) {
        TQL_ASSIGN_OR_RETURN(Datum x, Evaluate(*e.args[0], batch, sel, ctx));
        if (!x.is_constant && IsInt64Backed(x.vector.type())) {
          const Vector& v = x.vector;
          const int64_t size = e.args[1]->constant.i;
          const int64_t* src = v.int64_values();
          VectorWriter w(e.type, n);
          // Time-ordered rows fall into the bin of the row before: [lo, lo + size) is checked
          // first, and the division runs only when a row leaves it.
          int64_t lo = 0;
          bool have = false;
          const auto width = static_cast<uint64_t>(size);
          sel.ForEach([&](int64_t r) {
            if (!v.IsValid(r)) return;
            const int64_t t = src[r];
            if (!have || t < lo || static_cast<uint64_t>(t) - static_cast<uint64_t>(lo) >= width) {
              int64_t q = t / size;
              if (t % size != 0 && t < 0) --q;  // floor, also below zero
              have = !__builtin_mul_overflow(q, size, &lo);
              if (!have) return;  // out of range: null
            }
            w.SetInt64(r, lo);
          });
          return Datum::Of(w.Finish());
        }
      }
      return EvalRowWise(e, batch, sel, ctx);
    }
    case PKind::kSearch: {
      // As a value (not a filter): true at the rows the search keeps, false elsewhere.
      TQL_ASSIGN_OR_RETURN(Selection hits, SelectSearch(e, batch, sel, ctx));
      VectorWriter w(TypeId::kBool, n);
      size_t k = 0;
      const std::vector<int32_t>& h = hits.rows();
      sel.ForEach([&](int64_t r) {
        const bool hit = k < h.size() && h[k] == r;
        if (hit) ++k;
        w.SetBool(r, hit);
      });
      return Datum::Of(w.Finish());
    }
  }
  return Status::Internal("unknown expression kind");
}

Result<Selection> SelectAllTrue(const std::vector<const PExpr*>& conjuncts, const Batch& batch,
                                Selection sel, const EvalContext& ctx) {
  for (const PExpr* c : conjuncts) {
    if (sel.empty()) break;
    TQL_ASSIGN_OR_RETURN(sel, SelectTrue(*c, batch, sel, ctx));
  }
  return sel;
}

Result<Selection> SelectTrue(const PExpr& e, const Batch& batch, const Selection& sel,
                             const EvalContext& ctx) {
  if (sel.empty()) return sel;
  if (e.kind == PKind::kAnd) {
    Selection current = sel;
    for (const PExprPtr& a : e.args) {
      TQL_ASSIGN_OR_RETURN(current, SelectTrue(*a, batch, current, ctx));
      if (current.empty()) break;
    }
    return current;
  }
  if (e.kind == PKind::kOr) {
    // Each disjunct is tested only on the rows that no earlier one kept.
    std::vector<int32_t> kept;
    Selection rest = sel;
    for (const PExprPtr& a : e.args) {
      TQL_ASSIGN_OR_RETURN(Selection t, SelectTrue(*a, batch, rest, ctx));
      if (t.empty()) continue;
      std::vector<int32_t> remaining;
      size_t k = 0;
      const std::vector<int32_t> trows =
          t.dense() ? std::vector<int32_t>() : t.rows();  // dense: every row of `rest` kept
      if (t.dense()) {
        for (int64_t i = 0; i < t.count(); ++i) kept.push_back(static_cast<int32_t>(i));
        rest = Selection::Of({});
        break;
      }
      rest.ForEach([&](int64_t r) {
        if (k < trows.size() && trows[k] == r) {
          kept.push_back(static_cast<int32_t>(r));
          ++k;
        } else {
          remaining.push_back(static_cast<int32_t>(r));
        }
      });
      rest = Selection::Of(std::move(remaining));
      if (rest.empty()) break;
    }
    std::sort(kept.begin(), kept.end());
    return Selection::Of(std::move(kept));
  }
  if (e.kind == PKind::kSearch) return SelectSearch(e, batch, sel, ctx);
  // A string predicate on a dictionary-encoded column: answered once per dictionary entry,
  // then one lookup per row.
  if (!e.args.empty() && e.args[0]->kind == PKind::kColumn &&
      batch.column(e.args[0]->column).is_dictionary()) {
    if (auto test = DictionaryTest(e)) {
      const Vector& v = batch.column(e.args[0]->column);
      const auto matches = DictionaryMatches(e.memo.get(), v, test);
      // Which answers keep the row: a negated node keeps the misses; `x in (..., null)`
      // is null (dropped) for a miss.
      const bool negated = e.kind != PKind::kCompare && e.negated;
      const bool miss_is_null = e.kind == PKind::kIn && e.set->has_null;
      uint8_t keep[2] = {static_cast<uint8_t>(negated && !miss_is_null),
                         static_cast<uint8_t>(!negated)};
      const std::vector<uint8_t>& m = *matches;
      const int32_t* codes = v.dictionary_codes();
      const uint8_t* valid = v.validity_bits();
      std::vector<int32_t> out(static_cast<size_t>(sel.count()));
      size_t k = 0;
      sel.ForEach([&](int64_t r) {
        out[k] = static_cast<int32_t>(r);
        // Validity first: the code of a null row may be anything.
        const bool ok = (valid == nullptr || bits::Get(valid, r)) &&
                        keep[m[static_cast<size_t>(codes[r])]] != 0;
        k += ok ? 1 : 0;
      });
      out.resize(k);
      return Selection::Of(std::move(out));
    }
  }
  // A text operator or regex on a plain string column: the test per row, straight into the
  // selection.
  if ((e.kind == PKind::kText || e.kind == PKind::kRegex) && e.args[0]->kind == PKind::kColumn &&
      IsStringBacked(batch.column(e.args[0]->column).type())) {
    const Vector& v = batch.column(e.args[0]->column);
    std::vector<int32_t> out(static_cast<size_t>(sel.count()));
    size_t k = 0;
    auto run = [&](auto test) {
      sel.ForEach([&](int64_t r) {
        out[k] = static_cast<int32_t>(r);
        k += (v.IsValid(r) && test(v.GetString(r)) != e.negated) ? 1 : 0;
      });
    };
    if (e.kind == PKind::kRegex) {
      const Regex& re = *e.regex;
      run([&re](std::string_view s) { return re.PartialMatch(s); });
    } else {
      run(TextPredicate(e));
    }
    out.resize(k);
    return Selection::Of(std::move(out));
  }
  // Integer column against a constant: a tight, branch-free loop.
  if (e.kind == PKind::kCompare && e.args[0]->kind == PKind::kColumn &&
      e.args[1]->kind == PKind::kConstant && !e.args[1]->constant.null) {
    const Vector& v = batch.column(e.args[0]->column);
    if (v.type() == TypeId::kFloat && e.args[1]->constant.type == TypeId::kFloat) {
      std::vector<int32_t> out(static_cast<size_t>(sel.count()));
      const int64_t kept =
          SelectCompareFloat64(v.float_values(), v.validity_bits(), static_cast<int>(e.compare_op),
                               e.args[1]->constant.f, sel.dense() ? nullptr : sel.rows().data(),
                               sel.count(), out.data());
      out.resize(static_cast<size_t>(kept));
      return Selection::Of(std::move(out));
    }
    if (IsInt64Backed(v.type()) && IsInt64Backed(e.args[1]->constant.type)) {
      std::vector<int32_t> out(static_cast<size_t>(sel.count()));
      const int64_t kept =
          SelectCompareInt64(v.int64_values(), v.validity_bits(), static_cast<int>(e.compare_op),
                             e.args[1]->constant.i, sel.dense() ? nullptr : sel.rows().data(),
                             sel.count(), out.data());
      out.resize(static_cast<size_t>(kept));
      return Selection::Of(std::move(out));
    }
  }
  TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(e, batch, sel, ctx));
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(sel.count()));
  AppendTrueRows(d, sel, &out);
  return Selection::Of(std::move(out));
}

bool IsConstantExpr(const PExpr& e) {
  if (e.kind == PKind::kColumn || e.kind == PKind::kSearch) return false;
  for (const PExprPtr& a : e.args) {
    if (!IsConstantExpr(*a)) return false;
  }
  return true;
}

Result<Value> EvaluateConstant(const PExpr& e, const EvalContext& ctx) {
  Batch one(std::make_shared<Schema>(), {}, 1);
  TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(e, one, Selection::All(1), ctx));
  Value v;
  d.Read(0, &v);
  return CastValue(v, e.type);
}

}  // namespace tql

namespace tql {

PExprPtr CloneExpr(const PExpr& e) {
  auto c = std::make_unique<PExpr>();
  c->kind = e.kind;
  c->type = e.type;
  for (const PExprPtr& a : e.args) c->args.push_back(CloneExpr(*a));
  c->column = e.column;
  c->constant = e.constant;
  c->compare_op = e.compare_op;
  c->arith_op = e.arith_op;
  c->text_op = e.text_op;
  c->case_sensitive = e.case_sensitive;
  c->negated = e.negated;
  c->path = e.path;
  c->regex = e.regex;
  c->needle = e.needle;
  c->set = e.set;
  c->function = e.function;
  c->function_name = e.function_name;
  if (e.memo) c->memo = std::make_shared<DictionaryMemo>();
  c->parameter = e.parameter;
  return c;
}

void ForEachColumn(const PExpr& e, const std::function<void(int)>& f) {
  if (e.kind == PKind::kColumn) f(e.column);
  for (const PExprPtr& a : e.args) ForEachColumn(*a, f);
}

void RemapColumns(PExpr* e, const std::vector<int>& remap) {
  if (e->kind == PKind::kColumn) e->column = remap[static_cast<size_t>(e->column)];
  for (PExprPtr& a : e->args) RemapColumns(a.get(), remap);
}

PExprPtr SubstituteColumns(const PExpr& e, const std::vector<PExprPtr>& columns) {
  if (e.kind == PKind::kColumn) return CloneExpr(*columns[static_cast<size_t>(e.column)]);
  PExprPtr out = CloneExpr(e);
  for (size_t i = 0; i < e.args.size(); ++i) out->args[i] = SubstituteColumns(*e.args[i], columns);
  return out;
}

namespace {

const char* ArithText(ArithOp op) {
  switch (op) {
    case ArithOp::kAdd:
      return "+";
    case ArithOp::kSub:
      return "-";
    case ArithOp::kMul:
      return "*";
    case ArithOp::kDiv:
      return "/";
    case ArithOp::kMod:
      return "%";
  }
  return "?";
}

std::string TextOpName(const PExpr& e) {
  std::string name = e.negated ? "!" : "";
  switch (e.text_op) {
    case TextOp::kContains:
      name += "contains";
      break;
    case TextOp::kHas:
      name += "has";
      break;
    case TextOp::kStartsWith:
      name += "startswith";
      break;
    case TextOp::kEndsWith:
      name += "endswith";
      break;
  }
  if (e.case_sensitive) name += "_cs";
  return name;
}

std::string ConstantText(const Value& v) {
  if (v.null) return "null";
  switch (v.type) {
    case TypeId::kString:
      return ValueToJson(v);
    case TypeId::kTimestamp:
      return fmt::format("datetime({})", ValueToText(v));
    case TypeId::kDynamic:
      return fmt::format("dynamic({})", v.s);
    default:
      return ValueToText(v);
  }
}

}  // namespace

std::string PExpr::ToString(const Schema& input) const {
  // Operands in parentheses only where TQL's precedence needs them (LANGUAGE.md section 4):
  // or 1, and 2, not 3, comparisons 4, + - 5, * / % 6, unary - 7, everything else 8.
  auto level = [](const PExpr& x) {
    switch (x.kind) {
      case PKind::kOr:
        return 1;
      case PKind::kAnd:
        return 2;
      case PKind::kNot:
        return 3;
      case PKind::kCompare:
      case PKind::kText:
      case PKind::kRegex:
      case PKind::kIn:
        return 4;
      case PKind::kArith:
        return x.arith_op == ArithOp::kAdd || x.arith_op == ArithOp::kSub ? 5 : 6;
      case PKind::kNegate:
        return 7;
      default:
        return 8;
    }
  };
  const int mine = level(*this);
  auto arg = [&](size_t i) {
    const PExpr& a = *args[i];
    std::string s = a.ToString(input);
    const int theirs = level(a);
    // Comparisons do not chain; the right operand of - / % binds tighter than its level.
    const bool needs = theirs < mine || (theirs == mine && (mine == 4 || (i > 0 && mine >= 5)));
    return needs ? "(" + s + ")" : s;
  };
  switch (kind) {
    case PKind::kColumn: {
      if (column < 0 || column >= input.num_fields()) return fmt::format("#{}", column);
      const std::string& name = input.field(column).name;
      bool plain = !name.empty();
      for (char c : name) {
        plain = plain &&
                (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '@');
      }
      return plain ? name : "`" + name + "`";
    }
    case PKind::kConstant:
      return parameter.empty() ? ConstantText(constant) : "$" + parameter;
    case PKind::kCast:
      return fmt::format("to{}({})", TypeName(type), args[0]->ToString(input));
    case PKind::kPath:
      return fmt::format("{}.{}", arg(0), fmt::join(path, "."));
    case PKind::kIndex:
      return fmt::format("{}[{}]", arg(0), args[1]->ToString(input));
    case PKind::kArith:
      return fmt::format("{} {} {}", arg(0), ArithText(arith_op), arg(1));
    case PKind::kNegate:
      return "-" + arg(0);
    case PKind::kCompare:
      return fmt::format("{} {} {}", arg(0), CompareOpText(compare_op), arg(1));
    case PKind::kText:
      return fmt::format("{} {} {}", arg(0), TextOpName(*this), ValueToJson(Value::String(needle)));
    case PKind::kRegex:
      return fmt::format("{} {} {}", arg(0), negated ? "!~" : "=~",
                         ValueToJson(Value::String(regex ? regex->pattern() : "")));
    case PKind::kIn: {
      std::vector<std::string> items;
      for (size_t i = 1; i < args.size(); ++i) items.push_back(args[i]->ToString(input));
      if (set) {
        const size_t n = set->ints.size() + set->floats.size() + set->strings.size() +
                         (set->has_nan ? 1 : 0) + (set->has_null ? 1 : 0);
        items.push_back(fmt::format("hash set of {}", n));
      }
      return fmt::format("{} {} ({})", arg(0), negated ? "!in" : "in", fmt::join(items, ", "));
    }
    case PKind::kAnd:
    case PKind::kOr: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < args.size(); ++i) parts.push_back(arg(i));
      return fmt::format("{}", fmt::join(parts, kind == PKind::kAnd ? " and " : " or "));
    }
    case PKind::kNot:
      return "not " + arg(0);
    case PKind::kIsNull:
      return fmt::format("{}({})", negated ? "isnotnull" : "isnull", args[0]->ToString(input));
    case PKind::kIf: {
      std::vector<std::string> parts;
      for (const PExprPtr& a : args) parts.push_back(a->ToString(input));
      return fmt::format("{}({})", args.size() == 3 ? "iif" : "case", fmt::join(parts, ", "));
    }
    case PKind::kCoalesce:
    case PKind::kCall: {
      std::vector<std::string> parts;
      for (const PExprPtr& a : args) parts.push_back(a->ToString(input));
      return fmt::format("{}({})", kind == PKind::kCoalesce ? "coalesce" : function_name,
                         fmt::join(parts, ", "));
    }
    case PKind::kSearch: {
      std::vector<std::string> cols;
      for (const PExprPtr& a : args) cols.push_back(a->ToString(input));
      return fmt::format(
          "search{}{} {} in ({})", case_sensitive ? " matchcase" : "", regex ? " regex" : "",
          ValueToJson(Value::String(regex ? regex->pattern() : needle)), fmt::join(cols, ", "));
    }
  }
  return "?";
}

}  // namespace tql
