// Reading a project to deploy: a directory or an .ispac-style zip archive.
//
// Every regular file becomes a package (named by its path relative to the
// project root, '/'-separated). An optional `project.json` at the root
// describes the project and is not deployed itself:
//
//   {"description": "nightly loads",
//    "entry_points": ["load.sh"],            // default: every file
//    "parameters": [{"name": "Server", "data_type": "String", "default": "db1",
//                    "required": false, "sensitive": false,
//                    "package": "load.sh"}]} // "package": a package parameter (30)
//
// Zip archives may be stored or deflated (no zip64, no encryption); when
// every entry sits under one top folder, that folder is the project root.
//
// Pure functions of their input; thread-safe.
#ifndef SCALEOUT_CORE_MANAGEMENT_PROJECT_SOURCE_H_
#define SCALEOUT_CORE_MANAGEMENT_PROJECT_SOURCE_H_

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/base64.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::management {

struct ProjectFile {
  std::string name;  // "load.sh", "sql/step1.sql"
  std::string content;
};

inline constexpr std::string_view kProjectManifest = "project.json";

// The files of a directory or zip file, manifest included, sorted by name.
// Errors: kNotFound, kInvalidArgument (not a directory nor a zip, a corrupt
// or unsupported archive, an unsafe entry name such as "../x").
sdk::Result<std::vector<ProjectFile>> ReadProjectFiles(const std::filesystem::path& path);

// Reads the files of an archive held in memory.
sdk::Result<std::vector<ProjectFile>> ReadZipArchive(std::string_view bytes);

// The deploy_project arguments for `files` (packages as base64, the
// manifest's description, entry points and parameters). Errors:
// kInvalidArgument for a bad manifest (naming the key), an entry point that is
// not a file, or a project with no packages.
sdk::Result<nlohmann::json> BuildDeployArguments(const std::vector<ProjectFile>& files,
                                                 const std::string& folder_name,
                                                 const std::string& project_name);

// Package content as deploy_project carries it: core::EncodeBase64, and
// back (whitespace ignored) with kInvalidArgument naming `what` when it is
// not base64.
sdk::Result<std::string> DecodeBase64Argument(std::string_view what, std::string_view text);

// The files of get_project's answer, as `scaleout manage project export`
// writes them: each package, and a project.json with the description, the
// entry points and the parameters (a sensitive one without its default,
// which never leaves the catalog), so that deploying them makes the same
// version again. kInvalidArgument for an answer of another shape.
sdk::Result<std::vector<ProjectFile>> ProjectFilesFromExport(const nlohmann::json& exported);

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_PROJECT_SOURCE_H_
