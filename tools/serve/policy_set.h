// The policies a server serves: one file, or every *.pol of a directory (one policy per customer),
// each addressed by its `policy NAME`. refresh() re-reads the files and, per file, installs a
// version that compiles and keeps the old one serving when it does not (the error stays visible
// in /v1/policies and /metrics until a good version replaces it). Names are only ever looked up
// in the table, never turned into paths.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tollgate/policy_handle.hpp"
#include "tollgate/tollgate.hpp"

namespace tollgate::serve {

struct ServedPolicy {
  uint64_t serial = 0;  // unique per ServedPolicy in the process (per-thread caches key on it)
  std::string name;
  std::string file;
  std::unique_ptr<PolicyHandle> handle;
  std::atomic<uint64_t> reloads_ok{0};
  std::atomic<uint64_t> reloads_failed{0};

  // What the last refresh saw; guarded by mu.
  mutable std::mutex mu;
  std::string last_error;  // diagnostics of the last failed reload; "" once a good one landed
  int64_t last_reload_ms = 0;
  std::string candidate_file;
  std::string candidate_error;

  std::string error() const {
    std::lock_guard<std::mutex> lock(mu);
    return last_error;
  }
};

// A file that has never compiled, so it serves nothing yet.
struct FileError {
  std::string file;
  std::string error;
};

struct RefreshReport {
  int added = 0, reloaded = 0, unchanged = 0, failed = 0, removed = 0;
  int candidates = 0, candidate_errors = 0;
  std::vector<std::string> messages;  // one line each, for the log
};

class PolicySet {
 public:
  // `root`: a .pol file or a directory of them; `candidate_root`: "" or a directory of shadow
  // versions, matched to the live policies by name.
  PolicySet(Engine& engine, std::string root, std::string candidate_root);

  // Reads every file again and applies what changed. Serialized: concurrent calls run one after
  // the other. Never throws.
  RefreshReport refresh();

  std::shared_ptr<const ServedPolicy> find(std::string_view name) const;
  // The policy when exactly one is served (what /v1/decide without a name decides), else null.
  std::shared_ptr<const ServedPolicy> sole() const;
  std::vector<std::shared_ptr<const ServedPolicy>> list() const;  // by name
  std::vector<FileError> file_errors() const;
  size_t size() const;

  uint64_t refreshes() const { return refreshes_.load(); }
  const std::string& root() const { return root_; }
  bool is_directory() const { return is_dir_; }

 private:
  struct FileState {
    uint64_t source_hash = 0;
    std::string name;  // policy served from this file, "" when it never compiled
  };
  std::vector<std::string> policy_files(const std::string& root, bool* is_dir) const;
  void refresh_file(const std::string& path, const std::string& source, RefreshReport* report);
  void refresh_candidates(RefreshReport* report);

  Engine& engine_;
  std::string root_;
  std::string candidate_root_;
  bool is_dir_ = false;

  std::mutex refresh_mu_;  // one refresh at a time; guards files_ and candidates_
  std::map<std::string, FileState> files_;
  std::map<std::string, uint64_t> candidates_;  // candidate file -> source hash
  std::atomic<uint64_t> refreshes_{0};

  mutable std::shared_mutex mu_;  // guards policies_ and errors_
  std::map<std::string, std::shared_ptr<ServedPolicy>, std::less<>> policies_;
  std::map<std::string, std::string> errors_;  // file -> error, for files serving nothing
};

}  // namespace tollgate::serve
