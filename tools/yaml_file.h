//! A YAML file read with yaml-cpp, keeping where every node came from, and the problems found in
//! it reported at those places as `PATH:LINE:COL: error: MESSAGE`.
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/diagnostics.h"

namespace tql {

// One text substitution made before parsing (`{{ name }}` variables): the bytes
// [text_begin, text_begin + text_length) of the parsed text came from
// [source_begin, source_begin + source_length) of the file.
struct Substitution {
  uint32_t text_begin = 0;
  uint32_t text_length = 0;
  uint32_t source_begin = 0;
  uint32_t source_length = 0;
};

class YamlFile {
 public:
  // Parses `text` (the file `path` after `substitutions`, in order, were made to `source`).
  // A syntax error is reported as a problem and leaves the root null.
  YamlFile(std::string path, std::string source, std::string text,
           std::vector<Substitution> substitutions = {});
  YamlFile(std::string path, std::string text) : YamlFile(path, text, text) {}

  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }
  const YAML::Node& root() const { return root_; }
  bool parsed() const { return parsed_; }

  // Where `node` starts in the parsed text (past its tag and anchor, if any).
  uint32_t Offset(const YAML::Node& node) const;
  // The range of `node` in the file (for a scalar its whole value, else its first character).
  SourceRange Range(const YAML::Node& node) const;
  // The place in the file of the bytes `range` of the scalar's value: a query's diagnostics,
  // made against the text of a block scalar, point inside it.
  SourceRange ValueRange(const YAML::Node& scalar, SourceRange range) const;

  void Error(SourceRange range, std::string message, std::vector<std::string> hints = {});
  void Warning(SourceRange range, std::string message, std::vector<std::string> hints = {});
  void Error(const YAML::Node& node, std::string message, std::vector<std::string> hints = {}) {
    Error(Range(node), std::move(message), std::move(hints));
  }
  void Warning(const YAML::Node& node, std::string message, std::vector<std::string> hints = {}) {
    Warning(Range(node), std::move(message), std::move(hints));
  }
  // Diagnostics whose ranges are offsets into the file (not the parsed text).
  // Once the budget (Charge) is spent, nothing more is added.
  void Add(Diagnostic d) {
    if (budget_ >= 0) diagnostics_.push_back(std::move(d));
  }

  bool HasErrors() const { return tql::HasErrors(diagnostics_); }

  // Counts one more mapping read. YAML aliases let a small file stand for a huge tree; past a
  // budget proportional to the file's size the rest is not read (reported once, at `at`).
  bool Charge(const YAML::Node& at);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  // Every problem in the order of its place in the file.
  std::string FormatProblems() const;

 private:
  uint32_t ToSource(uint32_t text_offset) const;
  // For each byte of the scalar's value, its offset in the parsed text.
  std::vector<uint32_t> ValueMap(const YAML::Node& scalar) const;

  std::string path_;
  std::string source_;
  std::string text_;
  std::vector<Substitution> substitutions_;
  YAML::Node root_;
  bool parsed_ = false;
  uint32_t bom_ = 0;
  int64_t budget_ = 0;  // the byte-order mark's length, which yaml-cpp's marks leave out
  std::vector<Diagnostic> diagnostics_;
};

// The value of a scalar node written as a YAML null (`~`, `null`, nothing).
bool IsNullValue(const YAML::Node& node);

// The entries of a mapping in the order written, duplicates kept (yaml-cpp's `node[key]`
// would hide a second one).
struct MapEntry {
  YAML::Node key;
  YAML::Node value;
};
std::vector<MapEntry> Entries(const YAML::Node& map);

// "did you mean 'x'?" for the candidate nearest to `name`, if one is near.
std::vector<std::string> DidYouMean(const std::string& name,
                                    const std::vector<std::string>& candidates);
// 'a', 'b' or 'c'
std::string QuotedList(const std::vector<std::string>& words);

// The keys of one YAML mapping, read once: unknown and repeated keys are reported (with "did
// you mean"), and a missing or empty value is reported at its key.
class MapReader {
 public:
  // `what` names the mapping in messages ("an alert"); `known`: the keys it may have.
  MapReader(YamlFile* file, const YAML::Node& map, std::string what,
            std::vector<std::string> known);

  const MapEntry* Find(const std::string& key) const;
  // A single value: null (and reported) when it is missing and `required`, empty, or a
  // mapping or list.
  const MapEntry* Scalar(const std::string& key, bool required);
  // A list (null counts as an empty list): null when missing or not a list.
  const MapEntry* List(const std::string& key, bool required);
  // A mapping: null when missing or not a mapping.
  const MapEntry* Map(const std::string& key, bool required);
  // A boolean (`true`/`false`), `fallback` when missing; wrong values are reported.
  bool Bool(const std::string& key, bool fallback);
  // Where to report what the whole mapping lacks: its first key.
  YAML::Node Anchor() const;
  const std::string& what() const { return what_; }

 private:
  YamlFile* file_;
  // The entry, or null (reported as missing when `required`).
  const MapEntry* Present(const std::string& key, bool required);

  YAML::Node map_;
  std::string what_;
  std::vector<std::string> known_;
  std::vector<MapEntry> entries_;
};

// The ids of one kind of resource (queries, alerts, ...), unique across the files of a
// project: a repeat is reported where it is, pointing back at the first.
class IdSet {
 public:
  explicit IdSet(std::string kind) : kind_(std::move(kind)) {}
  // Records `id`, written at `node` of `file`; false (reported) when it is invalid or a repeat.
  bool Add(YamlFile* file, const std::string& id, const YAML::Node& node);
  bool Has(const std::string& id) const { return first_.count(id) > 0; }
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  std::string kind_;
  std::map<std::string, std::pair<std::string, int>> first_;  // id -> (path, line)
  std::vector<std::string> ids_;
};

// Is `value` (written at `node`) one of `allowed`? If not, reports "unknown WHAT 'value'" with
// "did you mean" and the list: `what` is e.g. "channel type".
bool CheckOneOf(YamlFile* file, const YAML::Node& node, const std::string& value,
                const std::vector<std::string>& allowed, const std::string& what);

// Ids: letters, digits, `_` and `-`.
bool IsValidId(const std::string& id);

}  // namespace tql
