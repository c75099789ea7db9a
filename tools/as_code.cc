#include "tools/as_code.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "runtime/json_reader.h"
#include "runtime/time_format.h"
#include "tools/alert_eval.h"
#include "tools/baselime.h"
#include "tools/cli_support.h"
#include "tools/inputs.h"
#include "tools/manifest.h"
#include "tools/query_check.h"

namespace tql {

namespace fs = std::filesystem;

namespace {

bool IsManifestName(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  return name == "tql.yaml" || name == "tql.yml" || name.ends_with(".tql.yaml") ||
         name.ends_with(".tql.yml");
}

enum class FileKind { kQuery, kManifest, kBaselime, kUnknown };

FileKind KindOf(const std::string& path) {
  if (path.ends_with(".tql")) return FileKind::kQuery;
  if (IsManifestName(path)) return FileKind::kManifest;
  if (IsBaselimePath(path)) return FileKind::kBaselime;
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".yml" || ext == ".yaml") return FileKind::kBaselime;  // named explicitly
  return FileKind::kUnknown;
}

struct CheckUnit {
  FileKind kind;
  std::string path;  // a file, or a .baselime folder
};

// The files and folders that `paths` name, directories searched recursively for .tql files,
// manifests, .baselime.yml files and .baselime folders, in a stable order.
std::vector<CheckUnit> CollectUnits(const std::vector<std::string>& paths,
                                    std::vector<std::string>* errors) {
  std::vector<CheckUnit> units;
  std::set<std::string> folders;
  auto add_baselime = [&](const std::string& p) {
    const std::string folder = BaselimeFolderOf(p);
    if (folder.empty()) {
      units.push_back({FileKind::kBaselime, p});
    } else if (folders.insert(fs::path(folder).lexically_normal().string()).second) {
      units.push_back({FileKind::kBaselime, folder});
    }
  };
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      if (!BaselimeFolderOf(p).empty()) {
        add_baselime(p);
        continue;
      }
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (it->is_directory() && name == ".baselime") {
          found.push_back(it->path().string());
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_directory() && !name.empty() && name[0] == '.' && name != "." && name != "..") {
          it.disable_recursion_pending();  // .git and the like
          continue;
        }
        if (!it->is_regular_file()) continue;
        const std::string f = it->path().string();
        if (f.ends_with(".tql") || IsManifestName(f) || IsBaselimePath(f)) found.push_back(f);
      }
      std::sort(found.begin(), found.end());
      for (const std::string& f : found) {
        const FileKind kind = KindOf(f);
        if (kind == FileKind::kBaselime) {
          add_baselime(f);
        } else {
          units.push_back({kind, f});
        }
      }
    } else if (fs::exists(p, ec)) {
      const FileKind kind = KindOf(p);
      if (kind == FileKind::kBaselime) {
        add_baselime(p);
      } else {
        units.push_back({kind, p});
      }
    } else {
      errors->push_back(fmt::format("{}: error: no such file or directory", p));
    }
  }
  return units;
}

std::string Key(const std::string& path) {
  return fs::path(path).lexically_normal().string();
}

}  // namespace

int CheckCommand(const std::vector<std::string>& paths, const std::string& schema_file) {
  std::vector<std::string> errors;
  std::vector<CheckUnit> units = CollectUnits(paths, &errors);
  for (const std::string& e : errors) fmt::print(stderr, "{}\n", e);
  SchemaPtr sample;
  if (!schema_file.empty()) {
    Result<Table> t = ReadJsonFile(schema_file);
    if (!t.ok()) return UsageError(t.status().message());
    sample = t->schema;
  }
  bool failed = !errors.empty();
  // A .tql file is reported once, whether named directly or by a manifest's `file:`.
  std::set<std::string> reported;
  for (const CheckUnit& u : units) {
    if (u.kind == FileKind::kQuery) reported.insert(Key(u.path));
  }
  for (const CheckUnit& u : units) {
    switch (u.kind) {
      case FileKind::kQuery: {
        std::string text;
        if (!ReadSourceFile(u.path, &text)) {
          failed = true;
          break;
        }
        QueryCheck check = CheckQueryText(text, sample);
        fmt::print(stderr, "{}", FormatDiagnostics(text, check.diagnostics, u.path));
        failed = failed || !check.ok();
        break;
      }
      case FileKind::kManifest: {
        std::string text;
        if (!ReadSourceFile(u.path, &text)) {
          failed = true;
          break;
        }
        YamlFile file(u.path, text);
        Manifest m = LoadManifest(&file, sample);
        fmt::print(stderr, "{}", file.FormatProblems());
        failed = failed || file.HasErrors();
        for (const ManifestQuery& q : m.queries) {
          if (q.query.file.empty()) continue;
          failed = failed || !q.query.check.ok();
          if (reported.insert(Key(q.query.file)).second) {
            fmt::print(
                stderr, "{}",
                FormatDiagnostics(q.query.file_text, q.query.check.diagnostics, q.query.file));
          }
        }
        break;
      }
      case FileKind::kBaselime: {
        std::unique_ptr<BaselimeProject> project = LoadBaselime(u.path, sample);
        fmt::print(stderr, "{}", project->FormatProblems());
        failed = failed || project->HasErrors();
        break;
      }
      case FileKind::kUnknown:
        fmt::print(stderr,
                   "{}: error: not a query (.tql), a manifest (.tql.yaml) or a Baselime file "
                   "(.baselime.yml, .baselime/)\n",
                   u.path);
        failed = true;
        break;
    }
  }
  return failed ? kExitQueryError : kExitOk;
}

int ImportCommand(const ImportOptions& o) {
  std::error_code ec;
  if (!fs::exists(o.path, ec)) {
    return UsageError(fmt::format("{}: no such file or directory", o.path));
  }
  std::unique_ptr<BaselimeProject> project = LoadBaselime(o.path, nullptr);
  fmt::print(stderr, "{}", project->FormatProblems());
  if (project->HasErrors()) return kExitQueryError;
  if (!o.query.empty()) {
    const BaselimeQuery* q = project->FindQuery(o.query);
    if (q == nullptr) {
      std::vector<std::string> ids;
      for (const BaselimeQuery& each : project->queries) ids.push_back(each.id);
      std::vector<std::string> hints = DidYouMean(o.query, ids);
      return UsageError(fmt::format("{}: no query '{}'{}", o.path, o.query,
                                    hints.empty() ? "" : fmt::format(" ({})", hints[0])));
    }
    fmt::print("{}\n", q->tql);
    return kExitOk;
  }
  const std::string manifest = FormatManifest(*project, /*query_files=*/!o.out.empty());
  if (o.out.empty()) {
    fmt::print("{}", manifest);
    return kExitOk;
  }
  fs::create_directories(o.out, ec);
  if (ec) return UsageError(fmt::format("cannot create '{}': {}", o.out, ec.message()));
  auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = (fs::path(o.out) / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
    fmt::print("{}\n", path);
    return true;
  };
  for (const BaselimeQuery& q : project->queries) {
    if (!write(q.id + ".tql", q.tql + "\n")) {
      return UsageError(fmt::format("cannot write '{}'", q.id + ".tql"));
    }
  }
  if (!write("tql.yaml", manifest)) return UsageError("cannot write 'tql.yaml'");
  return kExitOk;
}

int AlertEvalCommand(const AlertEvalOptions& o) {
  if (o.format != "table" && o.format != "json") {
    return UsageError(fmt::format("unknown --format '{}'", o.format));
  }
  std::string text;
  if (!ReadTextFile(o.manifest, &text)) {
    return UsageError(fmt::format("cannot read '{}'", o.manifest));
  }
  YamlFile file(o.manifest, text);
  Manifest manifest = LoadManifest(&file, nullptr);
  fmt::print(stderr, "{}", file.FormatProblems());
  bool failed = file.HasErrors();
  for (const ManifestQuery& q : manifest.queries) {
    if (q.query.file.empty() || q.query.check.ok()) continue;
    fmt::print(stderr, "{}",
               FormatDiagnostics(q.query.file_text, q.query.check.diagnostics, q.query.file));
    failed = true;
  }
  if (failed) return kExitQueryError;
  Result<LoadedInputs> inputs = LoadInputs(o.inputs, /*skip_bad_lines=*/false);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  int64_t at = 0;
  if (!o.at.empty()) {
    auto t = ParseTimestamp(o.at);
    if (!t) return UsageError(fmt::format("--at '{}' is not an RFC 3339 time", o.at));
    at = *t;
  } else if (auto latest = LatestTimestamp(*inputs)) {
    at = *latest;
  } else {
    return UsageError("the inputs have no timestamps to take the time from; give --at TIME");
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ExecOptions exec;
  exec.compiler = o.compiler;
  exec.adaptive = o.adaptive;
  Result<std::vector<AlertOutcome>> outcomes = EvaluateAlerts(manifest, *inputs, at, now, exec);
  if (!outcomes.ok()) {
    fmt::print(stderr, "tql: {}\n", outcomes.status().message());
    return kExitQueryError;
  }
  if (o.explain) {
    for (const AlertOutcome& a : *outcomes) {
      if (a.query.empty()) continue;
      fmt::print(stderr, "alert {}:\n{}\nplan:\n{}\n", a.id, a.query, a.plan);
    }
  }
  if (o.format == "json") {
    fmt::print("[");
    for (size_t i = 0; i < outcomes->size(); ++i) {
      const AlertOutcome& a = (*outcomes)[i];
      // Ids are letters, digits, '_' and '-': nothing to escape.
      fmt::print("{}\n  {{\"id\": \"{}\", \"state\": \"{}\", \"rows\": {}}}", i > 0 ? "," : "",
                 a.id, a.state, a.rows);
    }
    fmt::print("{}]\n", outcomes->empty() ? "" : "\n");
    return kExitOk;
  }
  size_t width = 5;
  for (const AlertOutcome& a : *outcomes) width = std::max(width, a.id.size());
  fmt::print("{:<{}}  {:<8}  {:>6}  {}\n", "alert", width, "state", "rows", "window");
  for (const AlertOutcome& a : *outcomes) {
    fmt::print("{:<{}}  {:<8}  {:>6}  {} .. {}\n", a.id, width, a.state, a.rows,
               FormatTimestamp(a.from), FormatTimestamp(a.to));
  }
  return kExitOk;
}

}  // namespace tql
