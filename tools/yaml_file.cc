#include "tools/yaml_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <set>
#include <tuple>

#include "frontend/suggest.h"
#include "runtime/expression.h"

namespace tql {

namespace {

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

// The number of UTF-8 bytes of code point `cp`.
int Utf8Length(uint32_t cp) {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

uint32_t HexValue(std::string_view digits) {
  uint32_t v = 0;
  for (char c : digits) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
    if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
  }
  return v;
}

}  // namespace

YamlFile::YamlFile(std::string path, std::string source, std::string text,
                   std::vector<Substitution> substitutions)
    : path_(std::move(path)),
      source_(std::move(source)),
      text_(std::move(text)),
      substitutions_(std::move(substitutions)) {
  budget_ = 100000 + static_cast<int64_t>(text_.size());
  // yaml-cpp's marks do not count a byte-order mark.
  if (text_.starts_with("\xEF\xBB\xBF")) bom_ = 3;
  try {
    root_ = YAML::Load(text_);
    parsed_ = true;
  } catch (const YAML::DeepRecursion& e) {
    const uint32_t at = e.mark.pos < 0 ? 0 : static_cast<uint32_t>(e.mark.pos) + bom_;
    Add(MakeDiagnostic(Severity::kError, {ToSource(at), ToSource(at) + 1},
                       "invalid YAML: nested too deeply"));
    root_ = YAML::Node();
  } catch (const YAML::Exception& e) {
    // yaml-cpp's marks are 0-based; a mark of -1 means "unknown", the end of the text.
    const uint32_t at = e.mark.pos < 0 ? static_cast<uint32_t>(text_.size())
                                       : std::min(static_cast<uint32_t>(e.mark.pos) + bom_,
                                                  static_cast<uint32_t>(text_.size()));
    std::string message = e.msg.empty() ? std::string("invalid YAML") : e.msg;
    Add(MakeDiagnostic(Severity::kError, {ToSource(at), ToSource(at) + 1},
                       fmt::format("invalid YAML: {}", message)));
    root_ = YAML::Node();
  } catch (const std::exception& e) {
    Add(MakeDiagnostic(Severity::kError, {0, 1}, fmt::format("invalid YAML: {}", e.what())));
    root_ = YAML::Node();
  }
}

uint32_t YamlFile::ToSource(uint32_t text_offset) const {
  // Offsets after a substitution move by the difference in length; inside one, they point at
  // its start (the `{{` in the file).
  int64_t delta = 0;
  for (const Substitution& s : substitutions_) {
    if (text_offset < s.text_begin) break;
    if (text_offset < s.text_begin + s.text_length) return s.source_begin;
    delta = static_cast<int64_t>(s.source_begin + s.source_length) -
            static_cast<int64_t>(s.text_begin + s.text_length);
  }
  const int64_t at = static_cast<int64_t>(text_offset) + delta;
  return static_cast<uint32_t>(std::clamp<int64_t>(at, 0, static_cast<int64_t>(source_.size())));
}

uint32_t YamlFile::Offset(const YAML::Node& node) const {
  const int pos = node.Mark().pos;
  if (pos < 0 || static_cast<size_t>(pos) + bom_ >= text_.size()) {
    return static_cast<uint32_t>(text_.size());
  }
  size_t p = static_cast<size_t>(pos) + bom_;
  // Skip a tag (`!ref`) and an anchor (`&name`) written before the value, and the line break
  // and indentation when the value starts on the next line.
  while (p < text_.size() && (text_[p] == '!' || text_[p] == '&')) {
    while (p < text_.size() && !IsBlank(text_[p]) && text_[p] != '\n' && text_[p] != '\r') ++p;
    const bool empty = node.IsScalar() && node.Scalar().empty();
    while (p < text_.size() &&
           (IsBlank(text_[p]) || (!empty && (text_[p] == '\r' || text_[p] == '\n')))) {
      ++p;
    }
  }
  return static_cast<uint32_t>(p);
}

std::vector<uint32_t> YamlFile::ValueMap(const YAML::Node& scalar) const {
  const std::string& value = scalar.Scalar();
  std::vector<uint32_t> map(value.size(), 0);
  const size_t start = Offset(scalar);
  if (start >= text_.size()) {
    std::fill(map.begin(), map.end(), static_cast<uint32_t>(start));
    return map;
  }
  const char style = text_[start];
  size_t j = start;
  size_t indent = 0;  // block scalars: the indentation of their content
  if (style == '|' || style == '>') {
    // Skip the header line; the content's indentation is that of its first non-empty line.
    while (j < text_.size() && text_[j] != '\n') ++j;
    if (j < text_.size()) ++j;
    // With an indentation indicator (`|2`) the value keeps some of those spaces: subtract the
    // ones its first non-empty line starts with.
    size_t kept = 0;
    for (size_t v = value.find_first_not_of('\n');
         v != std::string::npos && v < value.size() && value[v] == ' '; ++v) {
      ++kept;
    }
    for (size_t k = j; k < text_.size();) {
      size_t spaces = 0;
      while (k + spaces < text_.size() && text_[k + spaces] == ' ') ++spaces;
      if (k + spaces < text_.size() && text_[k + spaces] != '\n' && text_[k + spaces] != '\r') {
        indent = spaces >= kept ? spaces - kept : 0;
        break;
      }
      k += spaces + 1;
    }
  } else if (style == '"' || style == '\'') {
    ++j;
  }
  bool line_start = style == '|' || style == '>';
  for (size_t i = 0; i < value.size();) {
    if (j >= text_.size()) {
      std::fill(map.begin() + static_cast<std::ptrdiff_t>(i), map.end(),
                static_cast<uint32_t>(start));
      break;
    }
    if (line_start) {
      // The indentation of a block scalar's line is not part of the value.
      size_t spaces = 0;
      while (spaces < indent && j + spaces < text_.size() && text_[j + spaces] == ' ') ++spaces;
      j += spaces;
      line_start = false;
      continue;
    }
    const char c = value[i];
    const char s = text_[j];
    if (style == '"' && s == '\\' && j + 1 < text_.size()) {
      const char e = text_[j + 1];
      if (e == '\n') {  // a line continuation: nothing in the value
        j += 2;
        while (j < text_.size() && IsBlank(text_[j])) ++j;
        continue;
      }
      size_t escape_length = 2;
      int bytes = 1;
      const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
      if (digits > 0 && j + 2 + digits <= text_.size()) {
        escape_length += digits;
        bytes = Utf8Length(HexValue(std::string_view(text_).substr(j + 2, digits)));
      } else if (e == 'N' || e == '_') {
        bytes = 2;  // U+0085, U+00A0
      } else if (e == 'L' || e == 'P') {
        bytes = 3;  // U+2028, U+2029
      }
      for (int b = 0; b < bytes && i < value.size(); ++b) map[i++] = static_cast<uint32_t>(j);
      j += escape_length;
      continue;
    }
    if (style == '\'' && s == '\'' && j + 1 < text_.size() && text_[j + 1] == '\'' && c == '\'') {
      map[i++] = static_cast<uint32_t>(j);
      j += 2;
      continue;
    }
    if (c == '\n' && s == '\r' && j + 1 < text_.size() && text_[j + 1] == '\n') {
      map[i++] = static_cast<uint32_t>(j);  // the line's end is where its \r is
      j += 2;
      line_start = style == '|' || style == '>';
      continue;
    }
    if (s == c) {
      map[i++] = static_cast<uint32_t>(j);
      ++j;
      if (c == '\n') line_start = style == '|' || style == '>';
      continue;
    }
    if (s == '\n' && c == ' ') {  // a folded line break
      map[i++] = static_cast<uint32_t>(j);
      ++j;
      line_start = style == '>';
      if (style != '>') {
        while (j < text_.size() && IsBlank(text_[j])) ++j;
      }
      continue;
    }
    // Text that is not part of the value (indentation of a flow scalar's next line, a folded
    // empty line): step over it.
    if (s == '\n') line_start = style == '|' || style == '>';
    ++j;
  }
  return map;
}

SourceRange YamlFile::ValueRange(const YAML::Node& scalar, SourceRange range) const {
  if (!scalar.IsScalar()) {
    const uint32_t at = ToSource(Offset(scalar));
    return {at, at + 1};
  }
  const std::vector<uint32_t> map = ValueMap(scalar);
  if (map.empty()) {
    const uint32_t at = ToSource(Offset(scalar));
    return {at, at + 1};
  }
  auto at = [&](uint32_t offset) { return offset < map.size() ? map[offset] : map.back() + 1; };
  const uint32_t begin = ToSource(at(range.begin));
  uint32_t end = range.end > range.begin ? ToSource(at(range.end - 1)) + 1 : begin;
  if (end < begin) end = begin;
  return {begin, end};
}

SourceRange YamlFile::Range(const YAML::Node& node) const {
  const uint32_t begin = ToSource(Offset(node));
  if (!node.IsScalar()) return {begin, begin + 1};
  // The whole value when it is on one line; else its first line.
  uint32_t end = begin;
  const char style = begin < source_.size() ? source_[begin] : ' ';
  if (style == '|' || style == '>') return {begin, begin + 1};
  while (end < source_.size() && source_[end] != '\n') ++end;
  const std::string& v = node.Scalar();
  const uint32_t quoted = style == '"' || style == '\'' ? 2 : 0;
  if (v.find('\n') == std::string::npos && begin + v.size() + quoted <= end) {
    end = begin + static_cast<uint32_t>(v.size()) + quoted;
  }
  while (end > begin + 1 && IsBlank(source_[end - 1])) --end;
  return {begin, std::max(end, begin + 1)};
}

void YamlFile::Error(SourceRange range, std::string message, std::vector<std::string> hints) {
  Add(MakeDiagnostic(Severity::kError, range, std::move(message), std::move(hints)));
}

void YamlFile::Warning(SourceRange range, std::string message, std::vector<std::string> hints) {
  Add(MakeDiagnostic(Severity::kWarning, range, std::move(message), std::move(hints)));
}

bool YamlFile::Charge(const YAML::Node& at) {
  if (budget_ > 0) {
    --budget_;
    return true;
  }
  if (budget_ == 0) {
    Error(at,
          "the file expands to too many entries to check (YAML aliases?): the rest is not read");
    budget_ = -1;  // and nothing more is reported
  }
  return false;
}

std::string YamlFile::FormatProblems() const {
  std::vector<Diagnostic> sorted = diagnostics_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.range.begin < b.range.begin;
  });
  // A YAML alias repeats its anchor's nodes, and their problems, at the same place: once is
  // enough.
  std::set<std::tuple<uint32_t, uint32_t, std::string>> seen;
  sorted.erase(std::remove_if(sorted.begin(), sorted.end(),
                              [&](const Diagnostic& d) {
                                return !seen.emplace(d.range.begin, d.range.end, d.message).second;
                              }),
               sorted.end());
  return FormatDiagnostics(source_, sorted, path_);
}

bool IsNullValue(const YAML::Node& node) {
  return !node.IsDefined() || node.IsNull();
}

std::vector<MapEntry> Entries(const YAML::Node& map) {
  std::vector<MapEntry> out;
  if (!map.IsMap()) return out;
  for (const auto& kv : map) out.push_back({kv.first, kv.second});
  return out;
}

std::vector<std::string> DidYouMean(const std::string& name,
                                    const std::vector<std::string>& candidates) {
  if (auto near = ClosestName(name, candidates)) return {fmt::format("did you mean '{}'?", *near)};
  return {};
}

std::string QuotedList(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += fmt::format("'{}'", words[i]);
  }
  return out;
}

MapReader::MapReader(YamlFile* file, const YAML::Node& map, std::string what,
                     std::vector<std::string> known)
    : file_(file), map_(map), what_(std::move(what)), known_(std::move(known)) {
  if (!file_->Charge(map)) return;
  std::set<std::string> seen;
  for (const MapEntry& e : Entries(map)) {
    if (!e.key.IsScalar()) {
      file_->Error(e.key, fmt::format("a key of {} must be a plain name", what_));
      continue;
    }
    const std::string& key = e.key.Scalar();
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      std::vector<std::string> hints = DidYouMean(key, known_);
      if (hints.empty()) {
        hints.push_back(fmt::format("the keys of {} are {}", what_, QuotedList(known_)));
      }
      file_->Error(e.key, fmt::format("unknown key '{}' in {}", key, what_), std::move(hints));
      continue;
    }
    if (!seen.insert(key).second) {
      file_->Error(e.key, fmt::format("'{}' is given twice in {}", key, what_));
      continue;
    }
    entries_.push_back(e);
  }
}

const MapEntry* MapReader::Find(const std::string& key) const {
  for (const MapEntry& e : entries_) {
    if (e.key.Scalar() == key) return &e;
  }
  return nullptr;
}

const MapEntry* MapReader::Present(const std::string& key, bool required) {
  const MapEntry* e = Find(key);
  if (e == nullptr && required) file_->Error(Anchor(), fmt::format("no '{}' in {}", key, what_));
  return e;
}

const MapEntry* MapReader::Scalar(const std::string& key, bool required) {
  const MapEntry* e = Present(key, required);
  if (e == nullptr) return nullptr;
  if (IsNullValue(e->value)) {
    file_->Error(e->key, fmt::format("'{}' has no value", key));
    return nullptr;
  }
  if (!e->value.IsScalar()) {
    file_->Error(e->value, fmt::format("'{}' must be a single value, not a {}", key,
                                       e->value.IsMap() ? "mapping" : "list"));
    return nullptr;
  }
  return e;
}

const MapEntry* MapReader::List(const std::string& key, bool required) {
  const MapEntry* e = Present(key, required);
  if (e == nullptr) return nullptr;
  if (IsNullValue(e->value)) return e;
  if (!e->value.IsSequence()) {
    file_->Error(e->value, fmt::format("'{}' must be a list", key));
    return nullptr;
  }
  return e;
}

const MapEntry* MapReader::Map(const std::string& key, bool required) {
  const MapEntry* e = Present(key, required);
  if (e == nullptr) return nullptr;
  if (!e->value.IsMap()) {
    file_->Error(IsNullValue(e->value) ? e->key : e->value,
                 fmt::format("'{}' must be a mapping", key));
    return nullptr;
  }
  return e;
}

bool MapReader::Bool(const std::string& key, bool fallback) {
  const MapEntry* e = Scalar(key, false);
  if (e == nullptr) return fallback;
  const std::string v = AsciiLower(e->value.Scalar());
  if (v == "true") return true;
  if (v == "false") return false;
  file_->Error(e->value, fmt::format("'{}' is true or false, not '{}'", key, e->value.Scalar()));
  return fallback;
}

YAML::Node MapReader::Anchor() const {
  for (const auto& kv : map_) return kv.first;
  return map_;
}

bool CheckOneOf(YamlFile* file, const YAML::Node& node, const std::string& value,
                const std::vector<std::string>& allowed, const std::string& what) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return true;
  std::vector<std::string> hints = DidYouMean(value, allowed);
  hints.push_back(fmt::format("a {} is {}", what, QuotedList(allowed)));
  file->Error(node, fmt::format("unknown {} '{}'", what, value), std::move(hints));
  return false;
}

bool IsValidId(const std::string& id) {
  if (id.empty() || id.size() > 256) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool IdSet::Add(YamlFile* file, const std::string& id, const YAML::Node& node) {
  if (!IsValidId(id)) {
    file->Error(node, fmt::format("'{}' is not a valid {} id: use letters, digits, '_' and '-'", id,
                                  kind_));
    return false;
  }
  const int line = LocateOffset(file->source(), file->Range(node).begin).line;
  auto [it, inserted] = first_.emplace(id, std::make_pair(file->path(), line));
  if (!inserted) {
    const auto& [path, first_line] = it->second;
    file->Error(node, fmt::format("{} id '{}' is used twice", kind_, id),
                {path == file->path() ? fmt::format("the first is on line {}", first_line)
                                      : fmt::format("the first is at {}:{}", path, first_line)});
    return false;
  }
  ids_.push_back(id);
  return true;
}

}  // namespace tql
