#include "tools/trace_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "runtime/time_format.h"
#include "runtime/trace.h"
#include "runtime/value.h"

namespace tql {

namespace {

// Levels of indentation the views show; deeper spans stay at this indentation.
constexpr size_t kMaxIndent = 16;

// The columns the view reads by name (-1: absent or of another type).
struct Columns {
  int timestamp = -1, duration = -1, trace_id = -1, span_id = -1, parent_id = -1;
  int service = -1, name = -1, kind = -1, status = -1, status_message = -1;
  int severity = -1, message = -1;

  Columns(const Schema& s) {
    auto find = [&](std::initializer_list<const char*> names, TypeId type) {
      for (const char* n : names) {
        const int i = s.IndexOf(n);
        if (i >= 0 && s.field(i).type == type) return i;
      }
      return -1;
    };
    timestamp = find({"timestamp"}, TypeId::kTimestamp);
    duration = find({"duration"}, TypeId::kDuration);
    trace_id = s.IndexOf("trace_id");
    span_id = s.IndexOf("span_id");
    parent_id = s.IndexOf("parent_id");
    service = find({"service"}, TypeId::kString);
    name = find({"name"}, TypeId::kString);
    kind = find({"kind"}, TypeId::kString);
    status = find({"status"}, TypeId::kString);
    status_message = find({"status_message"}, TypeId::kString);
    severity = find({"severity", "level"}, TypeId::kString);
    message = find({"message", "body", "msg"}, TypeId::kString);
  }
};

// One row of a table, with its batch.
struct RowRef {
  const Batch* batch = nullptr;
  int64_t row = 0;

  std::string Text(int column) const {
    if (column < 0 || batch->column(column).IsNull(row)) return "";
    Value v;
    ReadValue(batch->column(column), row, &v);
    return ValueToText(v);
  }
  bool Has(int column) const { return column >= 0 && batch->column(column).IsValid(row); }
  int64_t Int(int column) const { return Has(column) ? batch->column(column).GetInt64(row) : 0; }
};

struct LogNode {
  RowRef ref;
  int64_t time = 0;
  bool has_time = false;
  std::string severity, message;
};

struct SpanNode {
  RowRef ref;
  int64_t start = 0, duration = 0;
  bool has_start = false;
  std::string span_id, parent_id, service, name, status, status_message;
  bool error = false, orphan = false;
  std::vector<size_t> children;
  std::vector<size_t> logs;
};

// The trace as a tree: spans linked by the forest, children and roots by start time.
struct Tree {
  std::vector<SpanNode> spans;
  std::vector<size_t> roots;
  std::vector<LogNode> logs;
  std::vector<size_t> loose_logs;  // logs of the trace that name no span of it
  int64_t start = 0, end = 0;
  int64_t total = 0;       // end - start, saturated
  bool has_start = false;  // some span has a timestamp
  int errors = 0, orphans = 0;
  std::set<std::string> services;
};

Result<Tree> BuildTree(const Table& spans, const Table* logs) {
  Tree tree;
  const Columns c(*spans.schema);
  TraceColumns tc;
  tc.trace_id = c.trace_id;
  tc.span_id = c.span_id;
  tc.parent_id = c.parent_id;
  TQL_ASSIGN_OR_RETURN(TraceForest forest, TraceForest::Build(spans.batches, tc, nullptr));
  std::vector<RowRef> rows;
  for (const Batch& b : spans.batches) {
    for (int64_t r = 0; r < b.num_rows(); ++r) rows.push_back({&b, r});
  }
  // Spans in the forest's order: every trace's (one here, unless trace_id is missing).
  std::vector<size_t> node_of_pos(rows.size());
  for (int64_t t = 0; t < forest.num_traces(); ++t) {
    for (int64_t pos = forest.begin(t); pos < forest.end(t); ++pos) {
      SpanNode n;
      n.ref = rows[static_cast<size_t>(forest.row(pos))];
      n.has_start = n.ref.Has(c.timestamp);
      n.start = n.ref.Int(c.timestamp);
      n.duration = std::max<int64_t>(0, n.ref.Int(c.duration));
      int64_t end = 0;
      if (__builtin_add_overflow(n.start, n.duration, &end)) {
        n.duration = std::numeric_limits<int64_t>::max() - n.start;  // ends at the last instant
      }
      n.span_id = n.ref.Text(c.span_id);
      n.parent_id = n.ref.Text(c.parent_id);
      n.service = n.ref.Text(c.service);
      n.name = n.ref.Text(c.name);
      n.status = n.ref.Text(c.status);
      n.status_message = n.ref.Text(c.status_message);
      n.error = n.status == "error";
      n.orphan = forest.orphan(pos);
      node_of_pos[static_cast<size_t>(pos)] = tree.spans.size();
      const int32_t parent = forest.parent(pos);
      if (parent >= 0) {
        tree.spans[node_of_pos[static_cast<size_t>(forest.begin(t) + parent)]].children.push_back(
            tree.spans.size());
      } else {
        tree.roots.push_back(tree.spans.size());
      }
      tree.errors += n.error ? 1 : 0;
      tree.orphans += n.orphan ? 1 : 0;
      if (!n.service.empty()) tree.services.insert(n.service);
      tree.spans.push_back(std::move(n));
    }
  }
  bool first = true;
  for (const SpanNode& n : tree.spans) {
    if (!n.has_start) continue;
    tree.start = first ? n.start : std::min(tree.start, n.start);
    tree.end = first ? n.start + n.duration : std::max(tree.end, n.start + n.duration);
    first = false;
  }
  tree.has_start = !first;
  if (__builtin_sub_overflow(tree.end, tree.start, &tree.total)) {
    tree.total = std::numeric_limits<int64_t>::max();
  }
  auto by_start = [&](size_t a, size_t b) {
    const SpanNode& x = tree.spans[a];
    const SpanNode& y = tree.spans[b];
    if (x.has_start != y.has_start) return x.has_start;
    return x.start < y.start;
  };
  std::stable_sort(tree.roots.begin(), tree.roots.end(), by_start);
  for (SpanNode& n : tree.spans) std::stable_sort(n.children.begin(), n.children.end(), by_start);

  if (logs != nullptr) {
    const Columns lc(*logs->schema);
    std::unordered_map<std::string, size_t> span_index;
    for (size_t i = 0; i < tree.spans.size(); ++i) span_index.emplace(tree.spans[i].span_id, i);
    for (const Batch& b : logs->batches) {
      for (int64_t r = 0; r < b.num_rows(); ++r) {
        LogNode l;
        l.ref = {&b, r};
        l.has_time = l.ref.Has(lc.timestamp);
        l.time = l.ref.Int(lc.timestamp);
        l.severity = l.ref.Text(lc.severity);
        l.message = l.ref.Text(lc.message);
        tree.logs.push_back(std::move(l));
      }
    }
    std::vector<size_t> order(tree.logs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const LogNode& x = tree.logs[a];
      const LogNode& y = tree.logs[b];
      if (x.has_time != y.has_time) return x.has_time;
      return x.time < y.time;
    });
    for (size_t i : order) {
      const std::string span = tree.logs[i].ref.Text(lc.span_id);
      auto it = span.empty() ? span_index.end() : span_index.find(span);
      if (it == span_index.end()) {
        tree.loose_logs.push_back(i);
      } else {
        tree.spans[it->second].logs.push_back(i);
      }
    }
  }
  return tree;
}

// --- text ------------------------------------------------------------------------------------

// Display columns of UTF-8 text (code points; the names in telemetry are not wide).
size_t Width(std::string_view s) {
  size_t w = 0;
  for (unsigned char ch : s) w += (ch & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

// At most `width` columns of `s`, ending in `…` when cut.
std::string Fit(std::string_view s, size_t width) {
  if (Width(s) <= width) return std::string(s);
  std::string out;
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto ch = static_cast<unsigned char>(s[i]);
    if ((ch & 0xC0) != 0x80) {
      if (w + 1 >= width) break;
      ++w;
    }
    out += s[i];
  }
  return out + "…";
}

std::string OneLine(std::string s) {
  for (char& ch : s) {
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  }
  return s;
}

class Painter {
 public:
  explicit Painter(bool on) : on_(on) {}
  std::string operator()(std::string_view code, std::string_view text) const {
    if (!on_ || text.empty()) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }
  // A colour per service, the same on every run.
  std::string Service(std::string_view service, std::string_view text) const {
    static constexpr const char* kPalette[] = {"36", "35", "34", "33", "32", "96", "95", "94"};
    size_t h = 0;
    for (char ch : service) h = h * 31 + static_cast<unsigned char>(ch);
    return (*this)(kPalette[h % (sizeof kPalette / sizeof kPalette[0])], text);
  }
  std::string Severity(std::string_view severity) const {
    std::string upper(severity);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (upper == "ERROR" || upper == "FATAL" || upper == "CRITICAL")
      return (*this)("31;1", severity);
    if (upper == "WARN" || upper == "WARNING") return (*this)("33", severity);
    if (upper == "DEBUG" || upper == "TRACE") return (*this)("2", severity);
    return (*this)("32", severity);
  }

 private:
  bool on_;
};

// t - origin, saturated at the ends of int64.
int64_t Since(int64_t t, int64_t origin) {
  int64_t d = 0;
  if (__builtin_sub_overflow(t, origin, &d)) {
    d = t > origin ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return d;
}

std::string Offset(int64_t nanos) {
  if (nanos == std::numeric_limits<int64_t>::min()) return FormatDuration(nanos);
  return fmt::format("{}{}", nanos < 0 ? '-' : '+',
                     FormatDurationShort(nanos < 0 ? -nanos : nanos));
}

class TextView {
 public:
  TextView(const Tree& tree, const TraceViewOptions& o) : tree_(tree), paint_(o.color) {
    total_ = std::max<int64_t>(1, tree.total);
    // Label widths first: the bars start in one column.
    for (size_t r : tree.roots) Measure(r);
    label_width_ = std::min<size_t>(label_width_, 72);
    bar_width_ =
        static_cast<size_t>(std::clamp<int>(o.width - static_cast<int>(label_width_) - 22, 20, 60));
    width_ = static_cast<size_t>(std::max(o.width, 40));
  }

  std::string Render(const std::string& trace_id) {
    std::string out = paint_("1", "trace " + trace_id) + "\n";
    std::vector<std::string> facts;
    facts.push_back(
        fmt::format("{} span{}", tree_.spans.size(), tree_.spans.size() == 1 ? "" : "s"));
    facts.push_back(
        fmt::format("{} service{}", tree_.services.size(), tree_.services.size() == 1 ? "" : "s"));
    facts.push_back(FormatDurationShort(tree_.total));
    if (tree_.errors > 0) {
      facts.push_back(
          paint_("31;1", fmt::format("{} error{}", tree_.errors, tree_.errors == 1 ? "" : "s")));
    }
    if (tree_.orphans > 0) {
      facts.push_back(fmt::format("{} orphan{} (parent not in the data)", tree_.orphans,
                                  tree_.orphans == 1 ? "" : "s"));
    }
    if (!tree_.logs.empty()) {
      facts.push_back(
          fmt::format("{} log{}", tree_.logs.size(), tree_.logs.size() == 1 ? "" : "s"));
    }
    if (tree_.has_start) facts.push_back("started " + FormatTimestamp(tree_.start));
    out += fmt::format("{}\n\n", fmt::join(facts, " · "));
    // Preorder with an explicit stack: a frame is a span with its line's prefix and the
    // prefix of the lines below it.
    struct Frame {
      size_t node, depth;
      std::string self, below;
    };
    std::vector<Frame> stack;
    for (size_t k = tree_.roots.size(); k-- > 0;) stack.push_back({tree_.roots[k], 0, "", ""});
    while (!stack.empty()) {
      Frame f = std::move(stack.back());
      stack.pop_back();
      Span(f.node, f.depth, f.self, f.below, &out);
      const std::vector<size_t>& children = tree_.spans[f.node].children;
      for (size_t k = children.size(); k-- > 0;) {
        const bool last = k + 1 == children.size();
        if (f.depth + 1 > kMaxIndent) {
          stack.push_back({children[k], f.depth + 1, f.below, f.below});
        } else {
          stack.push_back({children[k], f.depth + 1, f.below + (last ? "└─ " : "├─ "),
                           f.below + (last ? "   " : "│  ")});
        }
      }
    }
    if (!tree_.loose_logs.empty()) {
      out += paint_("2", "logs of the trace without a span of it:") + "\n";
      for (size_t l : tree_.loose_logs) Log(tree_.logs[l], "", &out);
    }
    return out;
  }

 private:
  std::string Label(const SpanNode& n) const {
    std::string label = n.service.empty() ? n.name : n.service + " " + n.name;
    if (n.error) label += " ✗";
    return label;
  }

  // The widest label, indented (iterative: a trace may be a chain of any depth).
  void Measure(size_t root) {
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      const auto [i, depth] = stack.back();
      stack.pop_back();
      const SpanNode& n = tree_.spans[i];
      label_width_ = std::max(label_width_, std::min(depth, kMaxIndent) * 3 +
                                                Width(DepthMark(depth)) + Width(Label(n)));
      for (size_t c : n.children) stack.emplace_back(c, depth + 1);
    }
  }

  // Beyond kMaxIndent levels the tree stops moving right; the label says how deep it is.
  static std::string DepthMark(size_t depth) {
    return depth > kMaxIndent ? fmt::format("[{}] ", depth) : std::string();
  }

  std::string Bar(const SpanNode& n) const {
    std::string bar;
    if (!n.has_start) return std::string(bar_width_, ' ');
    const double scale = static_cast<double>(bar_width_) / static_cast<double>(total_);
    auto from = static_cast<size_t>(static_cast<double>(Since(n.start, tree_.start)) * scale);
    auto to = static_cast<size_t>(
        (static_cast<double>(Since(n.start, tree_.start)) + static_cast<double>(n.duration)) *
            scale +
        0.5);
    from = std::min(from, bar_width_ - 1);
    to = std::clamp(to, from + 1, bar_width_);
    std::string cells;
    for (size_t k = from; k < to; ++k) cells += "█";
    std::string filled = n.error ? paint_("31", cells) : paint_.Service(n.service, cells);
    return std::string(from, ' ') + filled + std::string(bar_width_ - to, ' ');
  }

  // One span's line, its error message and its logs.
  void Span(size_t i, size_t depth, const std::string& self, const std::string& below,
            std::string* out) {
    const SpanNode& n = tree_.spans[i];
    const std::string mark = DepthMark(depth);
    std::string label = mark + Fit(Label(n), label_width_ > Width(self) + Width(mark)
                                                 ? label_width_ - Width(self) - Width(mark)
                                                 : 1);
    const size_t pad =
        label_width_ > Width(self) + Width(label) ? label_width_ - Width(self) - Width(label) : 0;
    // Colour the parts of the label: service, name, the error mark.
    std::string shown = label;
    if (!n.service.empty() &&
        label.compare(mark.size(), n.service.size() + 1, n.service + " ") == 0) {
      shown = mark + paint_.Service(n.service, n.service) +
              label.substr(mark.size() + n.service.size());
    }
    if (n.error) {
      const size_t cross = shown.rfind(" ✗");
      if (cross != std::string::npos && cross + 4 == shown.size()) {
        shown = shown.substr(0, cross) + " " + paint_("31;1", "✗");
      }
    }
    *out += paint_("2", self) + shown + std::string(pad, ' ') + "  " + Bar(n) + "  " +
            fmt::format("{:>8}", FormatDurationShort(n.duration)) + "  " +
            paint_("2", n.has_start ? Offset(Since(n.start, tree_.start)) : "");
    if (n.orphan) *out += paint_("2", fmt::format("  (parent {} not in the data)", n.parent_id));
    *out += "\n";
    const std::string detail = below + (n.children.empty() ? "   " : "│  ");
    if (n.error && !n.status_message.empty()) {
      *out += paint_("2", detail) + paint_("31", "✗ " + OneLine(n.status_message)) + "\n";
    }
    for (size_t l : n.logs) Log(tree_.logs[l], detail, out);
  }

  void Log(const LogNode& l, const std::string& prefix, std::string* out) const {
    const std::string when = l.has_time ? Offset(Since(l.time, tree_.start)) : "";
    const std::string head = fmt::format("· {} {} ", when, l.severity);
    const size_t used = Width(prefix) + Width(head);
    const std::string message = Fit(OneLine(l.message), width_ > used + 10 ? width_ - used : 10);
    *out += paint_("2", prefix) + paint_("2", "· " + when) + " " + paint_.Severity(l.severity) +
            " " + message + "\n";
  }

  const Tree& tree_;
  Painter paint_;
  int64_t total_ = 1;
  size_t label_width_ = 0;
  size_t bar_width_ = 40;
  size_t width_ = 120;
};

// --- JSON ------------------------------------------------------------------------------------

std::string Quote(std::string_view s) {
  Value v = Value::String(std::string(s));
  return ValueToJson(v);
}

// The row's other non-null columns as a JSON object.
std::string Attributes(const RowRef& ref, const std::set<std::string>& skip) {
  std::vector<std::string> items;
  const Schema& schema = *ref.batch->schema();
  Value v;
  for (int i = 0; i < schema.num_fields(); ++i) {
    if (skip.count(schema.field(i).name) > 0 || ref.batch->column(i).IsNull(ref.row)) continue;
    ReadValue(ref.batch->column(i), ref.row, &v);
    std::string json = v.type == TypeId::kDuration ? Quote(FormatDuration(v.i)) : ValueToJson(v);
    items.push_back(fmt::format("{}: {}", Quote(schema.field(i).name), json));
  }
  return fmt::format("{{{}}}", fmt::join(items, ", "));
}

class JsonView {
 public:
  explicit JsonView(const Tree& tree) : tree_(tree) {}

  std::string Render(const std::string& trace_id) {
    std::string out = "{\n";
    out += fmt::format("  \"trace_id\": {},\n", Quote(trace_id));
    out += fmt::format("  \"start\": {},\n",
                       tree_.has_start ? Quote(FormatTimestamp(tree_.start)) : "null");
    out += fmt::format("  \"duration\": {},\n", Quote(FormatDuration(tree_.total)));
    out += fmt::format("  \"duration_ns\": {},\n", tree_.total);
    out += fmt::format("  \"span_count\": {},\n", tree_.spans.size());
    out += fmt::format("  \"error_count\": {},\n", tree_.errors);
    out += fmt::format("  \"orphan_count\": {},\n", tree_.orphans);
    out += "  \"spans\": [";
    for (size_t k = 0; k < tree_.roots.size(); ++k) {
      out += k > 0 ? ",\n" : "\n";
      Subtree(tree_.roots[k], &out);
    }
    out += tree_.roots.empty() ? "],\n" : "\n  ],\n";
    out += "  \"logs\": [";
    for (size_t k = 0; k < tree_.loose_logs.size(); ++k) {
      out += k > 0 ? ",\n" : "\n";
      Log(tree_.logs[tree_.loose_logs[k]], 2, &out);
    }
    out += tree_.loose_logs.empty() ? "]\n" : "\n  ]\n";
    return out + "}\n";
  }

 private:
  // A root and its subtree, depth first with an explicit stack (a trace may be a chain of any
  // depth); the indentation stops growing after kMaxIndent levels.
  void Subtree(size_t root, std::string* out) {
    struct Frame {
      size_t node;
      int depth;
      size_t next = 0;  // the next child to write
    };
    std::vector<Frame> stack{{root, 2}};
    Open(root, 2, out);
    while (!stack.empty()) {
      Frame& f = stack.back();
      const SpanNode& n = tree_.spans[f.node];
      if (f.next < n.children.size()) {
        *out += f.next > 0 ? ",\n" : "\n";
        const size_t child = n.children[f.next++];
        const int depth = std::min(f.depth + 2, static_cast<int>(kMaxIndent) * 2);
        Open(child, depth, out);
        stack.push_back({child, depth});
        continue;
      }
      const std::string pad(static_cast<size_t>(f.depth) * 2, ' ');
      *out += n.children.empty() ? "]\n" : "\n" + pad + "  ]\n";
      *out += pad + "}";
      stack.pop_back();
    }
  }

  // A span's fields up to the opening of its children.
  void Open(size_t i, int depth, std::string* out) {
    const SpanNode& n = tree_.spans[i];
    const std::string pad(static_cast<size_t>(depth) * 2, ' ');
    const std::string in = pad + "  ";
    *out += pad + "{\n";
    *out += fmt::format("{}\"span_id\": {},\n", in, n.span_id.empty() ? "null" : Quote(n.span_id));
    *out += fmt::format("{}\"parent_id\": {},\n", in,
                        n.parent_id.empty() ? "null" : Quote(n.parent_id));
    *out += fmt::format("{}\"service\": {},\n", in, Quote(n.service));
    *out += fmt::format("{}\"name\": {},\n", in, Quote(n.name));
    *out += fmt::format("{}\"status\": {},\n", in, Quote(n.status));
    *out += fmt::format("{}\"error\": {},\n", in, n.error ? "true" : "false");
    *out += fmt::format("{}\"orphan\": {},\n", in, n.orphan ? "true" : "false");
    if (n.has_start) {
      *out += fmt::format("{}\"start\": {},\n", in, Quote(FormatTimestamp(n.start)));
      *out += fmt::format("{}\"offset_ns\": {},\n", in, Since(n.start, tree_.start));
    }
    *out += fmt::format("{}\"duration\": {},\n", in, Quote(FormatDuration(n.duration)));
    *out += fmt::format("{}\"duration_ns\": {},\n", in, n.duration);
    *out += fmt::format("{}\"attributes\": {},\n", in,
                        Attributes(n.ref, {"trace_id", "span_id", "parent_id", "service", "name",
                                           "status", "timestamp", "duration"}));
    *out += in + "\"logs\": [";
    for (size_t k = 0; k < n.logs.size(); ++k) {
      *out += k > 0 ? ",\n" : "\n";
      Log(tree_.logs[n.logs[k]], depth + 2, out);
    }
    *out += n.logs.empty() ? "],\n" : "\n" + in + "],\n";
    *out += in + "\"children\": [";
  }

  void Log(const LogNode& l, int depth, std::string* out) const {
    const std::string pad(static_cast<size_t>(depth) * 2, ' ');
    std::string offset =
        l.has_time ? fmt::format(", \"offset_ns\": {}", Since(l.time, tree_.start)) : "";
    *out += fmt::format(
        "{}{{\"timestamp\": {}{}, \"severity\": {}, \"message\": {}, \"attributes\": {}}}", pad,
        l.has_time ? Quote(FormatTimestamp(l.time)) : "null", offset, Quote(l.severity),
        Quote(l.message),
        Attributes(l.ref, {"timestamp", "trace_id", "span_id", "severity", "level", "message",
                           "body", "msg"}));
  }

  const Tree& tree_;
};

}  // namespace

std::string FormatDurationShort(int64_t nanos) {
  if ((nanos < 1000 && nanos > -1000) || nanos == std::numeric_limits<int64_t>::min()) {
    return FormatDuration(nanos);
  }
  const bool negative = nanos < 0;
  const uint64_t magnitude =
      negative ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  uint64_t factor = 1;
  while (magnitude / factor >= 1000) factor *= 10;
  uint64_t rounded = (magnitude + factor / 2) / factor * factor;
  if (rounded > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) rounded = magnitude;
  const auto value = static_cast<int64_t>(rounded);
  return FormatDuration(negative ? -value : value);
}

Result<std::string> RenderTrace(const std::string& trace_id, const Table& spans, const Table* logs,
                                const TraceViewOptions& options) {
  if (spans.num_rows() == 0) {
    return Status::QueryError(
        "no span has trace_id '{}' (ids match exactly; list some with: tql run --input "
        "spans=FILE 'spans | distinct trace_id | take 10')",
        trace_id);
  }
  TQL_ASSIGN_OR_RETURN(Tree tree, BuildTree(spans, logs));
  if (options.json) return JsonView(tree).Render(trace_id);
  return TextView(tree, options).Render(trace_id);
}

}  // namespace tql
