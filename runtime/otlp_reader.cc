#include "runtime/otlp_reader.h"

#include <fmt/format.h>

#include <charconv>
#include <string>
#include <utility>
#include <vector>

namespace tql {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Field lookups that treat a missing or mistyped field as absent: OTLP exporters differ in
// which defaults they omit, and a missing field is not an error.
std::optional<element> JsonField(object o, std::string_view key) {
  auto r = o[key];
  if (r.error()) return std::nullopt;
  return r.value_unsafe();
}
std::optional<object> ObjectField(object o, std::string_view key) {
  auto f = JsonField(o, key);
  if (!f || !f->is_object()) return std::nullopt;
  return f->get_object().value_unsafe();
}
std::optional<array> ArrayField(object o, std::string_view key) {
  auto f = JsonField(o, key);
  if (!f || !f->is_array()) return std::nullopt;
  return f->get_array().value_unsafe();
}
std::string_view StringField(object o, std::string_view key) {
  auto f = JsonField(o, key);
  if (!f || !f->is_string()) return {};
  return f->get_string().value_unsafe();
}

// OTLP/JSON writes 64-bit integers as decimal strings; some exporters write numbers, and
// JavaScript ones may write {low, high} halves.
std::optional<int64_t> ToInt64(element e) {
  if (e.is_int64()) return e.get_int64().value_unsafe();
  if (e.is_uint64()) return static_cast<int64_t>(e.get_uint64().value_unsafe());
  if (e.is_double()) return static_cast<int64_t>(e.get_double().value_unsafe());
  if (e.is_string()) {
    std::string_view s = e.get_string().value_unsafe();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
    return std::nullopt;
  }
  if (e.is_object()) {
    object o = e.get_object().value_unsafe();
    auto low = JsonField(o, "low");
    auto high = JsonField(o, "high");
    if (!low || !high) return std::nullopt;
    auto l = ToInt64(*low);
    auto h = ToInt64(*high);
    if (!l || !h) return std::nullopt;
    return static_cast<int64_t>((static_cast<uint64_t>(*h) << 32) | static_cast<uint32_t>(*l));
  }
  return std::nullopt;
}

std::optional<int64_t> IntField(object o, std::string_view key) {
  auto f = JsonField(o, key);
  if (!f) return std::nullopt;
  return ToInt64(*f);
}

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Trace and span ids: OTLP/JSON specifies hex; protobuf-JSON mappings write base64. Returns
// lowercase hex, or empty for an absent or all-zero id.
std::string NormalizeId(std::string_view id, size_t bytes) {
  std::string hex;
  const bool is_hex = id.size() == bytes * 2 &&
                      id.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
  if (is_hex) {
    hex.reserve(id.size());
    for (char c : id) hex.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c));
  } else {
    uint32_t acc = 0;
    int nbits = 0;
    for (char c : id) {
      if (c == '=') break;
      const int d = Base64Digit(c);
      if (d < 0) return std::string(id);  // neither hex nor base64: keep as written
      acc = (acc << 6) | static_cast<uint32_t>(d);
      nbits += 6;
      if (nbits >= 8) {
        nbits -= 8;
        hex += fmt::format("{:02x}", (acc >> nbits) & 0xff);
      }
    }
    if (hex.size() != bytes * 2) return std::string(id);
  }
  if (hex.find_first_not_of('0') == std::string::npos) return {};
  return hex;
}

void AppendAnyValueJson(std::string* out, element any);

void AppendPlainJson(std::string* out, element e) {
  *out += simdjson::minify(e);
}

// An AnyValue as plain JSON: {"stringValue":"x"} → "x", arrays and kvlists recursively.
void AppendAnyValueJson(std::string* out, element any) {
  if (!any.is_object()) {
    AppendPlainJson(out, any);
    return;
  }
  object o = any.get_object().value_unsafe();
  if (auto v = JsonField(o, "stringValue"); v) return AppendPlainJson(out, *v);
  if (auto v = JsonField(o, "boolValue"); v) return AppendPlainJson(out, *v);
  if (auto v = JsonField(o, "intValue"); v) {
    auto i = ToInt64(*v);
    *out += i ? fmt::format("{}", *i) : "null";
    return;
  }
  if (auto v = JsonField(o, "doubleValue"); v) {
    if (v->is_number()) return AppendPlainJson(out, *v);
    *out += "null";
    return;
  }
  if (auto v = JsonField(o, "bytesValue"); v) return AppendPlainJson(out, *v);
  if (auto arr = ObjectField(o, "arrayValue"); arr) {
    *out += '[';
    bool first = true;
    if (auto values = ArrayField(*arr, "values"); values) {
      for (element item : *values) {
        if (!first) *out += ',';
        first = false;
        AppendAnyValueJson(out, item);
      }
    }
    *out += ']';
    return;
  }
  if (auto kv = ObjectField(o, "kvlistValue"); kv) {
    *out += '{';
    bool first = true;
    if (auto values = ArrayField(*kv, "values"); values) {
      for (element item : *values) {
        if (!item.is_object()) continue;
        object entry = item.get_object().value_unsafe();
        if (!first) *out += ',';
        first = false;
        AppendJsonString(out, StringField(entry, "key"));
        *out += ':';
        auto value = JsonField(entry, "value");
        if (value) {
          AppendAnyValueJson(out, *value);
        } else {
          *out += "null";
        }
      }
    }
    *out += '}';
    return;
  }
  *out += "null";
}

// Writes OTLP attributes as columns; kvlist values nest as dotted names like NDJSON objects.
class AttributeWriter {
 public:
  explicit AttributeWriter(TableBuilder* b) : b_(b) {}

  // `rename` maps attribute names to column names (service.name → service).
  void Write(std::optional<array> attributes, std::string_view prefix = {}) {
    if (!attributes) return;
    for (element item : *attributes) {
      if (!item.is_object()) continue;
      object kv = item.get_object().value_unsafe();
      std::string name(prefix);
      if (!name.empty()) name += '.';
      name += StringField(kv, "key");
      if (prefix.empty() && name == "service.name") name = "service";
      auto value = JsonField(kv, "value");
      WriteValue(name, value);
    }
  }

  void WriteValue(const std::string& name, std::optional<element> value) {
    const int col = b_->Column(name);
    if (!value || !value->is_object()) {
      b_->SetNull(col);
      return;
    }
    object o = value->get_object().value_unsafe();
    if (auto v = JsonField(o, "stringValue"); v && v->is_string()) {
      b_->SetString(col, v->get_string().value_unsafe());
    } else if (auto bv = JsonField(o, "boolValue"); bv && bv->is_bool()) {
      b_->SetBool(col, bv->get_bool().value_unsafe());
    } else if (auto iv = JsonField(o, "intValue"); iv) {
      auto i = ToInt64(*iv);
      i ? b_->SetInt(col, *i) : b_->SetNull(col);
    } else if (auto dv = JsonField(o, "doubleValue"); dv) {
      dv->is_number() ? b_->SetFloat(col, dv->get_double().value_unsafe()) : b_->SetNull(col);
    } else if (auto by = JsonField(o, "bytesValue"); by && by->is_string()) {
      b_->SetString(col, by->get_string().value_unsafe());
    } else if (auto kv = ObjectField(o, "kvlistValue"); kv) {
      Write(ArrayField(*kv, "values"), name);
    } else if (JsonField(o, "arrayValue")) {
      std::string json;
      AppendAnyValueJson(&json, *value);
      b_->SetDynamic(col, json);
    } else {
      b_->SetNull(col);
    }
  }

 private:
  TableBuilder* b_;
};

// Resource and scope context shared by the records below them.
struct Context {
  std::optional<array> resource_attributes;
  std::string_view scope_name;
  std::string_view scope_version;
};

void WriteContext(TableBuilder* b, const Context& ctx) {
  AttributeWriter(b).Write(ctx.resource_attributes);
  if (!ctx.scope_name.empty()) b->SetString(b->Column("scope.name"), ctx.scope_name);
  if (!ctx.scope_version.empty()) b->SetString(b->Column("scope.version"), ctx.scope_version);
}

void SetIdOrNull(TableBuilder* b, int col, std::string_view id, size_t bytes) {
  std::string hex = NormalizeId(id, bytes);
  hex.empty() ? b->SetNull(col) : b->SetString(col, hex);
}

std::string_view SpanKindName(element kind) {
  static constexpr std::string_view kNames[] = {"unspecified", "internal", "server",
                                                "client",      "producer", "consumer"};
  if (kind.is_string()) {
    std::string_view s = kind.get_string().value_unsafe();
    for (size_t i = 0; i < std::size(kNames); ++i) {
      std::string upper = "SPAN_KIND_";
      for (char c : kNames[i]) upper.push_back(static_cast<char>(c - 32));
      if (s == upper) return kNames[i];
    }
    return "unspecified";
  }
  auto v = ToInt64(kind);
  return v && *v >= 0 && *v < 6 ? kNames[*v] : "unspecified";
}

std::string_view OtlpStatusName(std::optional<element> code) {
  if (!code) return "unset";
  if (code->is_string()) {
    std::string_view s = code->get_string().value_unsafe();
    if (s == "STATUS_CODE_OK") return "ok";
    if (s == "STATUS_CODE_ERROR") return "error";
    return "unset";
  }
  auto v = ToInt64(*code);
  return !v ? "unset" : *v == 1 ? "ok" : *v == 2 ? "error" : "unset";
}

std::string EventsJson(array events) {
  std::string out = "[";
  bool first = true;
  for (element e : events) {
    if (!e.is_object()) continue;
    object ev = e.get_object().value_unsafe();
    if (!first) out += ',';
    first = false;
    out += "{\"name\":";
    AppendJsonString(&out, StringField(ev, "name"));
    if (auto t = IntField(ev, "timeUnixNano"); t) out += fmt::format(",\"time_unix_nano\":{}", *t);
    out += ",\"attributes\":{";
    bool first_attr = true;
    if (auto attrs = ArrayField(ev, "attributes"); attrs) {
      for (element a : *attrs) {
        if (!a.is_object()) continue;
        object kv = a.get_object().value_unsafe();
        if (!first_attr) out += ',';
        first_attr = false;
        AppendJsonString(&out, StringField(kv, "key"));
        out += ':';
        auto value = JsonField(kv, "value");
        if (value) {
          AppendAnyValueJson(&out, *value);
        } else {
          out += "null";
        }
      }
    }
    out += "}}";
  }
  out += ']';
  return out;
}

// Visits every record of `request` (resourceX → scopeX → records) with its context.
template <typename Visit>
Status ForEachRecord(element request, std::string_view resource_key, std::string_view scope_key,
                     std::string_view record_key, Visit visit) {
  if (!request.is_object()) return Status::InvalidInput("OTLP request is not a JSON object");
  auto resources = ArrayField(request.get_object().value_unsafe(), resource_key);
  if (!resources) return Status::Ok();
  for (element r : *resources) {
    if (!r.is_object()) continue;
    object res = r.get_object().value_unsafe();
    Context ctx;
    if (auto resource = ObjectField(res, "resource"); resource) {
      ctx.resource_attributes = ArrayField(*resource, "attributes");
    }
    auto scopes = ArrayField(res, scope_key);
    if (!scopes) continue;
    for (element s : *scopes) {
      if (!s.is_object()) continue;
      object sc = s.get_object().value_unsafe();
      if (auto scope = ObjectField(sc, "scope"); scope) {
        ctx.scope_name = StringField(*scope, "name");
        ctx.scope_version = StringField(*scope, "version");
      } else {
        ctx.scope_name = ctx.scope_version = {};
      }
      auto records = ArrayField(sc, record_key);
      if (!records) continue;
      for (element rec : *records) {
        if (!rec.is_object())
          return Status::InvalidInput("OTLP {} entry is not an object", record_key);
        TQL_RETURN_IF_ERROR(visit(ctx, rec.get_object().value_unsafe()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status AppendOtlpTraces(element request, TableBuilder* b, int64_t* rows) {
  // Conventional columns first, in the documented order.
  const int c_timestamp = b->Column("timestamp");
  const int c_duration = b->Column("duration");
  const int c_trace = b->Column("trace_id");
  const int c_span = b->Column("span_id");
  const int c_parent = b->Column("parent_id");
  const int c_name = b->Column("name");
  const int c_service = b->Column("service");
  const int c_kind = b->Column("kind");
  const int c_status = b->Column("status");
  const int c_message = b->Column("status_message");
  return ForEachRecord(
      request, "resourceSpans", "scopeSpans", "spans",
      [&](const Context& ctx, object span) -> Status {
        auto start = IntField(span, "startTimeUnixNano");
        auto end = IntField(span, "endTimeUnixNano");
        start ? b->SetTimestamp(c_timestamp, *start) : b->SetNull(c_timestamp);
        start&& end ? b->SetDuration(c_duration, *end - *start) : b->SetNull(c_duration);
        SetIdOrNull(b, c_trace, StringField(span, "traceId"), 16);
        SetIdOrNull(b, c_span, StringField(span, "spanId"), 8);
        SetIdOrNull(b, c_parent, StringField(span, "parentSpanId"), 8);
        b->SetString(c_name, StringField(span, "name"));
        b->SetNull(c_service);  // a resource's service.name fills it in below
        auto kind = JsonField(span, "kind");
        b->SetString(c_kind, kind ? SpanKindName(*kind) : "unspecified");
        auto status = ObjectField(span, "status");
        b->SetString(c_status, OtlpStatusName(status ? JsonField(*status, "code") : std::nullopt));
        std::string_view message = status ? StringField(*status, "message") : std::string_view{};
        message.empty() ? b->SetNull(c_message) : b->SetString(c_message, message);
        WriteContext(b, ctx);
        AttributeWriter(b).Write(ArrayField(span, "attributes"));  // span attributes win
        if (auto events = ArrayField(span, "events"); events && events->size() > 0) {
          b->SetDynamic(b->Column("events"), EventsJson(*events));
        }
        b->EndRow();
        ++*rows;
        return Status::Ok();
      });
}

namespace {

std::string_view SeverityFromNumber(int64_t n) {
  if (n <= 0) return {};
  if (n <= 4) return "TRACE";
  if (n <= 8) return "DEBUG";
  if (n <= 12) return "INFO";
  if (n <= 16) return "WARN";
  if (n <= 20) return "ERROR";
  return "FATAL";
}

}  // namespace

Status AppendOtlpLogs(element request, TableBuilder* b, int64_t* rows) {
  const int c_timestamp = b->Column("timestamp");
  const int c_trace = b->Column("trace_id");
  const int c_span = b->Column("span_id");
  const int c_severity = b->Column("severity");
  const int c_service = b->Column("service");
  const int c_message = b->Column("message");
  return ForEachRecord(
      request, "resourceLogs", "scopeLogs", "logRecords",
      [&](const Context& ctx, object log) -> Status {
        auto time = IntField(log, "timeUnixNano");
        if (!time || *time == 0) time = IntField(log, "observedTimeUnixNano");
        time&&* time != 0 ? b->SetTimestamp(c_timestamp, *time) : b->SetNull(c_timestamp);
        SetIdOrNull(b, c_trace, StringField(log, "traceId"), 16);
        SetIdOrNull(b, c_span, StringField(log, "spanId"), 8);
        std::string_view severity = StringField(log, "severityText");
        if (severity.empty()) {
          auto n = IntField(log, "severityNumber");
          if (auto f = JsonField(log, "severityNumber"); f && f->is_string()) {
            // Enum-name form: SEVERITY_NUMBER_ERROR2 → ERROR
            std::string_view s = f->get_string().value_unsafe();
            for (std::string_view level : {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}) {
              if (s.find(level) != std::string_view::npos) severity = level;
            }
          } else if (n) {
            severity = SeverityFromNumber(*n);
          }
        }
        severity.empty() ? b->SetNull(c_severity) : b->SetString(c_severity, severity);
        b->SetNull(c_service);
        auto body = JsonField(log, "body");
        if (body && body->is_object()) {
          object bo = body->get_object().value_unsafe();
          if (auto sv = JsonField(bo, "stringValue"); sv && sv->is_string()) {
            b->SetString(c_message, sv->get_string().value_unsafe());
          } else {
            // Structured bodies keep their JSON text; paths reach into it (message.key).
            std::string json;
            AppendAnyValueJson(&json, *body);
            json == "null" ? b->SetNull(c_message) : b->SetString(c_message, json);
          }
        } else {
          b->SetNull(c_message);
        }
        WriteContext(b, ctx);
        AttributeWriter(b).Write(ArrayField(log, "attributes"));
        b->EndRow();
        ++*rows;
        return Status::Ok();
      });
}

}  // namespace tql
