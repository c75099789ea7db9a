#include "runtime/functions.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <unordered_map>

#include "runtime/group_table.h"
#include "runtime/table_builder.h"
#include "runtime/time_format.h"

namespace tql {

namespace {

using Fn = ScalarFunction;

bool AnyNull(const Value* a, int n) {
  for (int i = 0; i < n; ++i) {
    if (a[i].null) return true;
  }
  return false;
}

std::string Text(const Value& v) {
  return v.type == TypeId::kString ? v.s : ValueToText(v);
}

double Num(const Value& v) {
  if (v.type == TypeId::kFloat) return v.f;
  if (v.type == TypeId::kDynamic || v.type == TypeId::kString) {
    Value f = CastValue(v, TypeId::kFloat);
    return f.null ? std::nan("") : f.f;
  }
  return static_cast<double>(v.i);
}

// The argument read as `type` (dynamic and mismatched arguments converted).
Value As(const Value& v, TypeId type) {
  return v.type == type ? v : CastValue(v, type);
}

bool IsIntegral(TypeId t) {
  return IsInt64Backed(t);
}

// Code points of valid UTF-8: the byte offset of each character start, plus the end.
std::vector<size_t> CharStarts(std::string_view s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(s.size());
  return starts;
}

int64_t CharCount(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// -- math -------------------------------------------------------------------------------------

Value Abs(const Value* a, int, const EvalContext&, const PExpr& call) {
  if (a[0].null) return Value::Null(call.type);
  if (call.type == TypeId::kFloat) return Value::Float(std::fabs(Num(a[0])));
  Value v = As(a[0], call.type);
  if (v.null) return v;
  v.i = v.i < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(v.i)) : v.i;
  return v;
}

double RoundHalfAway(double x, int64_t digits) {
  if (digits == 0) return std::round(x);
  if (digits > 308) return x;                            // finer than any double
  if (digits < -308) return std::isfinite(x) ? 0.0 : x;  // coarser than any double
  const double scale = std::pow(10.0, static_cast<double>(digits));
  const double r = std::round(x * scale) / scale;
  return std::isfinite(r) ? r : x;
}

Value Round(const Value* a, int n, const EvalContext&, const PExpr& call) {
  if (AnyNull(a, n)) return Value::Null(call.type);
  const int64_t digits = n > 1 ? As(a[1], TypeId::kInt).i : 0;
  if (IsIntegral(call.type)) {
    Value v = As(a[0], call.type);
    if (v.null || digits >= 0) return v;
    // Negative digits round integers to tens, hundreds, ...
    if (digits < -18) {
      v.i = 0;
      return v;
    }
    int64_t p = 1;
    for (int64_t k = 0; k < -digits; ++k) p *= 10;
    const int64_t q = v.i / p, r = v.i % p;
    int64_t out = q * p;  // |q * p| <= |v.i|: no overflow
    if ((r >= 0 && r >= p - r) && __builtin_add_overflow(out, p, &out))
      return Value::Null(call.type);
    if ((r < 0 && -r >= p + r) && __builtin_sub_overflow(out, p, &out))
      return Value::Null(call.type);
    v.i = out;
    return v;
  }
  return Value::Float(RoundHalfAway(Num(a[0]), digits));
}

template <double (*F)(double)>
Value FloorCeil(const Value* a, int, const EvalContext&, const PExpr& call) {
  if (a[0].null) return Value::Null(call.type);
  if (IsIntegral(call.type)) return As(a[0], call.type);
  return Value::Float(F(Num(a[0])));
}

double FloorD(double x) {
  return std::floor(x);
}
double CeilD(double x) {
  return std::ceil(x);
}

template <double (*F)(double), bool kPositiveOnly, bool kNonNegative>
Value MathFn(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kFloat);
  const double x = Num(a[0]);
  if (kPositiveOnly && !(x > 0)) return Value::Null(TypeId::kFloat);
  if (kNonNegative && x < 0) return Value::Null(TypeId::kFloat);
  return Value::Float(F(x));
}

double SqrtD(double x) {
  return std::sqrt(x);
}
double ExpD(double x) {
  return std::exp(x);
}
double LogD(double x) {
  return std::log(x);
}
double Log10D(double x) {
  return std::log10(x);
}

Value Pow(const Value* a, int n, const EvalContext&, const PExpr&) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kFloat);
  return Value::Float(std::pow(Num(a[0]), Num(a[1])));
}

template <bool kMax>
Value MinMaxOf(const Value* a, int n, const EvalContext&, const PExpr& call) {
  Value best = Value::Null(call.type);
  for (int i = 0; i < n; ++i) {
    if (a[i].null) continue;
    Value v = As(a[i], call.type);
    if (v.null) continue;
    if (best.null || (kMax ? CompareValues(v, best) > 0 : CompareValues(v, best) < 0)) best = v;
  }
  return best;
}

// -- strings ----------------------------------------------------------------------------------

Value Strlen(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kInt);
  return Value::Int(CharCount(Text(a[0])));
}

Value ToLower(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kString);
  return Value::String(Utf8Lower(Text(a[0])));
}

Value ToUpper(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kString);
  return Value::String(Utf8Upper(Text(a[0])));
}

Value Substring(const Value* a, int n, const EvalContext&, const PExpr&) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kString);
  const std::string s = Text(a[0]);
  const std::vector<size_t> starts = CharStarts(s);
  const auto chars = static_cast<int64_t>(starts.size()) - 1;
  Value start_v = As(a[1], TypeId::kInt);
  if (start_v.null) return Value::Null(TypeId::kString);
  const int64_t start = std::clamp<int64_t>(start_v.i, 0, chars);
  int64_t end = chars;
  if (n > 2) {
    Value len_v = As(a[2], TypeId::kInt);
    if (len_v.null) return Value::Null(TypeId::kString);
    const int64_t len = std::max<int64_t>(len_v.i, 0);
    end = len >= chars - start ? chars : start + len;
  }
  const size_t b = starts[static_cast<size_t>(start)], e = starts[static_cast<size_t>(end)];
  return Value::String(s.substr(b, e - b));
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Value Trim(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kString);
  std::string s = Text(a[0]);
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return Value::String(s.substr(b, e - b));
}

Value Strcat(const Value* a, int n, const EvalContext&, const PExpr&) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (!a[i].null) out += Text(a[i]);
  }
  return Value::String(std::move(out));
}

Value Replace(const Value* a, int n, const EvalContext&, const PExpr&) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kString);
  const std::string s = Text(a[0]), find = Text(a[1]), with = Text(a[2]);
  if (find.empty()) return Value::String(s);
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(find, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += with;
    pos = hit + find.size();
  }
  out.append(s, pos, std::string::npos);
  return Value::String(std::move(out));
}

// The call's compiled regex when its pattern is a constant, else the row's (cached per thread).
const RE2* RegexFor(const PExpr& call, const std::string& pattern) {
  const Regex* re = call.regex ? call.regex.get() : CachedRegex(pattern);
  return re ? &re->re2() : nullptr;
}

Value ReplaceRegex(const Value* a, int n, const EvalContext&, const PExpr& call) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kString);
  const RE2* re = RegexFor(call, Text(a[1]));
  if (re == nullptr) return Value::Null(TypeId::kString);
  std::string s = Text(a[0]);
  RE2::GlobalReplace(&s, *re, Text(a[2]));
  return Value::String(std::move(s));
}

Value Extract(const Value* a, int n, const EvalContext&, const PExpr& call) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kString);
  const RE2* re = RegexFor(call, Text(a[0]));
  Value group = As(a[1], TypeId::kInt);
  if (re == nullptr || group.null || group.i < 0 || group.i > re->NumberOfCapturingGroups()) {
    return Value::Null(TypeId::kString);
  }
  const std::string s = Text(a[2]);
  std::vector<re2::StringPiece> groups(static_cast<size_t>(group.i) + 1);
  if (!re->Match(s, 0, s.size(), RE2::UNANCHORED, groups.data(), static_cast<int>(groups.size()))) {
    return Value::Null(TypeId::kString);
  }
  const re2::StringPiece& g = groups[static_cast<size_t>(group.i)];
  if (g.data() == nullptr) return Value::Null(TypeId::kString);
  return Value::String(std::string(g.data(), g.size()));
}

Value Split(const Value* a, int n, const EvalContext&, const PExpr&) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kDynamic);
  const std::string s = Text(a[0]), sep = Text(a[1]);
  std::string out = "[";
  auto add = [&](std::string_view part) {
    if (out.size() > 1) out += ',';
    AppendJsonString(&out, part);
  };
  if (sep.empty()) {
    add(s);
  } else {
    size_t pos = 0;
    while (true) {
      const size_t hit = s.find(sep, pos);
      if (hit == std::string::npos) break;
      add(std::string_view(s).substr(pos, hit - pos));
      pos = hit + sep.size();
    }
    add(std::string_view(s).substr(pos));
  }
  out += ']';
  return Value::Dynamic(std::move(out));
}

Value IndexOf(const Value* a, int n, const EvalContext&, const PExpr&) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kInt);
  const std::string s = Text(a[0]), find = Text(a[1]);
  const size_t hit = s.find(find);
  if (hit == std::string::npos) return Value::Int(-1);
  return Value::Int(CharCount(std::string_view(s).substr(0, hit)));
}

Value IsEmpty(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Bool(true);
  if (a[0].type == TypeId::kString) return Value::Bool(a[0].s.empty());
  if (a[0].type == TypeId::kDynamic) return Value::Bool(a[0].s.empty() || a[0].s == "\"\"");
  return Value::Bool(false);
}

Value IsNotEmpty(const Value* a, int n, const EvalContext& ctx, const PExpr& call) {
  return Value::Bool(IsEmpty(a, n, ctx, call).i == 0);
}

Value ParseJsonFn(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kDynamic);
  if (a[0].type == TypeId::kDynamic) return a[0];
  const std::string s = Text(a[0]);
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(s.data(), s.size()).get(e) != simdjson::SUCCESS) {
    return Value::Null(TypeId::kDynamic);
  }
  if (e.is_null()) return Value::Null(TypeId::kDynamic);
  return Value::Dynamic(simdjson::minify(e));
}

// -- time -------------------------------------------------------------------------------------

int64_t FloorDiv(int64_t x, int64_t y) {
  int64_t q = x / y;
  if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
  return q;
}

Value Bin(const Value* a, int n, const EvalContext&, const PExpr& call) {
  if (AnyNull(a, n)) return Value::Null(call.type);
  if (call.type == TypeId::kFloat) {
    const double size = Num(a[1]);
    if (!(size > 0)) return Value::Null(call.type);
    return Value::Float(std::floor(Num(a[0]) / size) * size);
  }
  Value x = As(a[0], call.type);
  Value size = As(a[1], TypeId::kInt);
  if (x.null || size.null || size.i <= 0) return Value::Null(call.type);
  // The bin of a value near the bottom of the range may lie below it: null, not a wrap.
  if (__builtin_mul_overflow(FloorDiv(x.i, size.i), size.i, &x.i)) return Value::Null(call.type);
  return x;
}

Value DatetimeFn(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kTimestamp);
  return CastValue(As(a[0], TypeId::kString), TypeId::kTimestamp);
}

struct Civil {
  int64_t year;
  unsigned month, day;
  int64_t hour, minute, second, nanos, days;
};

Civil ToCivil(int64_t ts) {
  Civil c{};
  c.days = FloorDiv(ts, kNanosPerDay);
  const int64_t in_day = ts - c.days * kNanosPerDay;
  CivilFromDays(c.days, &c.year, &c.month, &c.day);
  c.hour = in_day / kNanosPerHour;
  c.minute = in_day / kNanosPerMinute % 60;
  c.second = in_day / kNanosPerSecond % 60;
  c.nanos = in_day % kNanosPerSecond;
  return c;
}

Value DatetimePart(const Value* a, int n, const EvalContext&, const PExpr&) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kInt);
  const std::string part = AsciiLower(Text(a[0]));
  Value ts = As(a[1], TypeId::kTimestamp);
  if (ts.null) return Value::Null(TypeId::kInt);
  const Civil c = ToCivil(ts.i);
  if (part == "year") return Value::Int(c.year);
  if (part == "month") return Value::Int(c.month);
  if (part == "day") return Value::Int(c.day);
  if (part == "hour") return Value::Int(c.hour);
  if (part == "minute") return Value::Int(c.minute);
  if (part == "second") return Value::Int(c.second);
  if (part == "millisecond") return Value::Int(c.nanos / kNanosPerMilli);
  if (part == "microsecond") return Value::Int(c.nanos / kNanosPerMicro);
  if (part == "nanosecond") return Value::Int(c.nanos);
  // 1970-01-01 was a Thursday (4).
  if (part == "weekday") return Value::Int(((c.days % 7) + 7 + 4) % 7);
  if (part == "dayofyear") return Value::Int(c.days - DaysFromCivil(c.year, 1, 1) + 1);
  return Value::Null(TypeId::kInt);
}

Value FormatDatetime(const Value* a, int n, const EvalContext&, const PExpr&) {
  if (AnyNull(a, n)) return Value::Null(TypeId::kString);
  Value ts = As(a[0], TypeId::kTimestamp);
  if (ts.null) return Value::Null(TypeId::kString);
  const std::string f = Text(a[1]);
  const Civil c = ToCivil(ts.i);
  std::string out;
  for (size_t i = 0; i < f.size();) {
    auto starts = [&](const char* token) { return f.compare(i, std::strlen(token), token) == 0; };
    if (starts("yyyy")) {
      out += fmt::format("{:04}", c.year);
      i += 4;
    } else if (starts("MM")) {
      out += fmt::format("{:02}", c.month);
      i += 2;
    } else if (starts("dd")) {
      out += fmt::format("{:02}", c.day);
      i += 2;
    } else if (starts("HH")) {
      out += fmt::format("{:02}", c.hour);
      i += 2;
    } else if (starts("mm")) {
      out += fmt::format("{:02}", c.minute);
      i += 2;
    } else if (starts("ss")) {
      out += fmt::format("{:02}", c.second);
      i += 2;
    } else if (starts("fff")) {
      out += fmt::format("{:03}", c.nanos / kNanosPerMilli);
      i += 3;
    } else {
      out += f[i++];
    }
  }
  return Value::String(std::move(out));
}

Value StartOfDay(const Value* a, int, const EvalContext&, const PExpr&) {
  Value ts = a[0].null ? a[0] : As(a[0], TypeId::kTimestamp);
  if (ts.null) return Value::Null(TypeId::kTimestamp);
  return Value::Timestamp(FloorDiv(ts.i, kNanosPerDay) * kNanosPerDay);
}

Value Now(const Value*, int, const EvalContext& ctx, const PExpr&) {
  return Value::Timestamp(ctx.now);
}

Value Ago(const Value* a, int, const EvalContext& ctx, const PExpr&) {
  Value d = a[0].null ? a[0] : As(a[0], TypeId::kDuration);
  if (d.null) return Value::Null(TypeId::kTimestamp);
  return Value::Timestamp(
      static_cast<int64_t>(static_cast<uint64_t>(ctx.now) - static_cast<uint64_t>(d.i)));
}

Value Hash(const Value* a, int, const EvalContext&, const PExpr&) {
  if (a[0].null) return Value::Null(TypeId::kInt);
  return Value::Int(HashValue(a[0]));
}

}  // namespace

int64_t HashValue(const Value& v) {
  uint64_t h = 0;
  switch (v.type) {
    case TypeId::kString:
    case TypeId::kDynamic: {
      h = 0xcbf29ce484222325ULL;  // FNV-1a over the bytes, then a final mix
      for (char c : v.s) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
      }
      break;
    }
    case TypeId::kFloat: {
      double d = v.f == 0 ? 0.0 : v.f;  // -0.0 hashes as 0.0
      std::memcpy(&h, &d, sizeof h);
      break;
    }
    default:
      h = static_cast<uint64_t>(v.i);
      break;
  }
  return static_cast<int64_t>(HashWord(h ^ (static_cast<uint64_t>(v.type) << 56)));
}

ScalarFunction FindScalarFunction(std::string_view name) {
  static const std::unordered_map<std::string_view, Fn> kFunctions = {
      {"abs", Abs},
      {"round", Round},
      {"floor", FloorCeil<FloorD>},
      {"ceil", FloorCeil<CeilD>},
      {"sqrt", MathFn<SqrtD, false, true>},
      {"exp", MathFn<ExpD, false, false>},
      {"log", MathFn<LogD, true, false>},
      {"log10", MathFn<Log10D, true, false>},
      {"pow", Pow},
      {"min_of", MinMaxOf<false>},
      {"max_of", MinMaxOf<true>},
      {"strlen", Strlen},
      {"tolower", ToLower},
      {"toupper", ToUpper},
      {"substring", Substring},
      {"trim", Trim},
      {"strcat", Strcat},
      {"replace", Replace},
      {"replace_regex", ReplaceRegex},
      {"extract", Extract},
      {"split", Split},
      {"indexof", IndexOf},
      {"isempty", IsEmpty},
      {"isnotempty", IsNotEmpty},
      {"parse_json", ParseJsonFn},
      {"bin", Bin},
      {"now", Now},
      {"ago", Ago},
      {"datetime", DatetimeFn},
      {"datetime_part", DatetimePart},
      {"format_datetime", FormatDatetime},
      {"startofday", StartOfDay},
      {"hash", Hash},
  };
  auto it = kFunctions.find(name);
  return it == kFunctions.end() ? nullptr : it->second;
}

}  // namespace tql
