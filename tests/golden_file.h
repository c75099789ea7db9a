//! Golden test files: cases of input text and the exact output expected for it.
//!
//!   # a comment
//!   query                      <- a header: the kind of case (and an optional title)
//!   spans | where x > 1        <- the input, up to the line `----`
//!   ----
//!   spans                      <- the expected output, up to the next header or the end
//!   | where x > 1
//!
//! Trailing blank lines of a section are ignored. With TQL_UPDATE_GOLDEN=1 in the
//! environment, a run rewrites each file with the outputs it produced.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tql::test {

struct GoldenCase {
  std::string kind;   // the header's first word: "query", "error", ...
  std::string title;  // the rest of the header line
  int line = 0;       // line of the header in the file
  std::string input;
  std::string expected;
  std::string actual;  // filled in by the test
};

struct GoldenFile {
  std::string path;
  std::vector<std::string> preamble;  // comment lines before each case, kept on update
  std::vector<GoldenCase> cases;
  std::vector<std::vector<std::string>> comments;  // comments[i] precede cases[i]
};

inline std::string TrimTrailingNewlines(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Output as compared: trailing spaces of each line and trailing blank lines do not count.
inline std::string NormalizeOutput(const std::string& s) {
  std::string out, line;
  std::istringstream in(s);
  while (std::getline(in, line)) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return TrimTrailingNewlines(out);
}

// `kinds` are the header words this file type uses.
inline GoldenFile ReadGoldenFile(const std::string& path, const std::vector<std::string>& kinds) {
  GoldenFile file;
  file.path = path;
  std::ifstream in(path);
  std::string line;
  int number = 0;
  enum { kOutside, kInput, kExpected } state = kOutside;
  std::vector<std::string> pending_comments;
  auto is_header = [&kinds](const std::string& l) {
    const std::string word = l.substr(0, l.find(' '));
    for (const std::string& k : kinds) {
      if (word == k) return true;
    }
    return false;
  };
  while (std::getline(in, line)) {
    ++number;
    if (state != kInput && is_header(line)) {
      GoldenCase c;
      const size_t space = line.find(' ');
      c.kind = line.substr(0, space);
      c.title = space == std::string::npos ? "" : line.substr(space + 1);
      c.line = number;
      file.cases.push_back(std::move(c));
      file.comments.push_back(std::move(pending_comments));
      pending_comments.clear();
      state = kInput;
      continue;
    }
    if (state == kInput) {
      if (line == "----") {
        state = kExpected;
      } else {
        file.cases.back().input += line + "\n";
      }
      continue;
    }
    if (state == kExpected && !line.starts_with("#")) {
      file.cases.back().expected += line + "\n";
      continue;
    }
    if (line.starts_with("#") || !line.empty()) pending_comments.push_back(line);
  }
  for (GoldenCase& c : file.cases) {
    c.input = TrimTrailingNewlines(c.input);
    c.expected = NormalizeOutput(c.expected);
  }
  return file;
}

inline void WriteGoldenFile(const GoldenFile& file) {
  std::ofstream out(file.path, std::ios::trunc);
  for (size_t i = 0; i < file.cases.size(); ++i) {
    const GoldenCase& c = file.cases[i];
    if (i > 0) out << "\n";
    for (const std::string& comment : file.comments[i]) out << comment << "\n";
    out << c.kind << (c.title.empty() ? "" : " " + c.title) << "\n";
    out << c.input << "\n----\n" << NormalizeOutput(c.actual) << "\n";
  }
}

// The *.test files of a directory, sorted.
inline std::vector<std::string> ListGoldenFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline bool UpdatingGoldenFiles() {
  const char* v = std::getenv("TQL_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

// Runs every case of `path` through `run` (input case -> actual output) and returns the cases
// whose output differs from the expected one; with TQL_UPDATE_GOLDEN=1 it rewrites the file
// with the actual outputs instead.
template <typename Run>
std::vector<GoldenCase> CheckGoldenFile(const std::string& path,
                                        const std::vector<std::string>& kinds, Run run) {
  GoldenFile file = ReadGoldenFile(path, kinds);
  std::vector<GoldenCase> failed;
  for (GoldenCase& c : file.cases) {
    c.actual = run(c);
    if (!UpdatingGoldenFiles() && c.expected != NormalizeOutput(c.actual)) failed.push_back(c);
  }
  if (UpdatingGoldenFiles()) WriteGoldenFile(file);
  if (file.cases.empty()) {
    GoldenCase none;
    none.title = "(the file has no cases)";
    failed.push_back(none);
  }
  return failed;
}

// What a failed case prints: where it is, its input, and both outputs.
inline std::string DescribeGoldenFailure(const std::string& path, const GoldenCase& c) {
  return path + ":" + std::to_string(c.line) + ": " + c.kind + " " + c.title + "\n" + c.input +
         "\nexpected:\n" + c.expected + "\nactual:\n" + NormalizeOutput(c.actual);
}

// A gtest parameter name for a golden file: its stem with non-alphanumerics as '_'.
inline std::string GoldenTestName(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  for (char& ch : stem) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return stem;
}

}  // namespace tql::test
