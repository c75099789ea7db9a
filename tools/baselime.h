//! Baselime observability-as-code files (../shared/BASELIME.md, docs/observability-as-code.md):
//! the single `.baselime.yml` file and the `.baselime/` folder (index.yml, `!ref`,
//! `{{ variables }}`), read with positions and translated to TQL queries and a `.tql.yaml`
//! manifest. A construct that has no faithful translation is an error at its place in the
//! file, never a different query.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/types.h"
#include "tools/manifest.h"
#include "tools/yaml_file.h"

namespace tql {

struct BaselimeQuery {
  std::string id;
  std::string name;
  std::string description;
  YamlFile* file = nullptr;
  YAML::Node id_node;
  std::string tql;                   // the translation; empty when it failed
  std::string first_calculation;     // the result column an alert's threshold compares
  std::vector<std::string> columns;  // the result's column names, in order
  std::vector<Field> result;         // and their types, from checking the translation
};

struct BaselimeChannel {
  std::string id;
  std::string type;
  std::vector<std::string> targets;
};

struct BaselimeAlert {
  std::string id;
  std::string name;
  std::string description;
  std::string query_id;
  std::string condition;  // `COLUMN OP N`, COLUMN the query's first calculation
  std::string window;     // a TQL duration
  std::string every;      // a TQL duration or a cron expression
  bool enabled = true;
  std::vector<std::string> channels;  // channel ids
};

struct BaselimePanel {
  std::string query_id;
  std::string type;
  std::string title;
};

struct BaselimeDashboard {
  std::string id;
  std::string title;
  std::vector<BaselimePanel> panels;
};

struct BaselimeProject {
  std::string service;
  std::string description;
  std::vector<std::unique_ptr<YamlFile>> files;  // every file read, with its problems
  std::vector<std::string> path_errors;          // `PATH: error: ...` lines (unreadable paths)
  std::vector<BaselimeQuery> queries;
  std::vector<BaselimeAlert> alerts;
  std::vector<BaselimeChannel> channels;
  std::vector<BaselimeDashboard> dashboards;

  bool HasErrors() const;
  std::string FormatProblems() const;  // each file's problems, in file order
  const BaselimeQuery* FindQuery(const std::string& id) const;
};

// Reads `path`: a `.baselime/` folder, a file inside one (the whole folder is read), or one
// file (`.baselime.yml`, or a resource file of the folder layout). `sample` as in
// CheckQueryText: the translated queries are checked against it. Unreadable paths are
// reported as problems of the project.
std::unique_ptr<BaselimeProject> LoadBaselime(const std::string& path, const SchemaPtr& sample);

// Is `path` a Baselime file or folder by its name (`.baselime.yml`, `.baselime/`, or a
// `.yml`/`.yaml` file inside a `.baselime/` folder)?
bool IsBaselimePath(const std::string& path);
// The `.baselime/` folder that holds `path`, or empty.
std::string BaselimeFolderOf(const std::string& path);

// The manifest (YAML text) of a project: its queries inline, or as `file: ID.tql` when
// `query_files` is set; alerts, channels and dashboards.
std::string FormatManifest(const BaselimeProject& project, bool query_files);

}  // namespace tql
