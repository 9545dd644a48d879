// PolicySet: the served policies and their hot reload (see policy_set.h).
#include "tools/serve/policy_set.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>

#include "tools/cli.h"

namespace tollgate::serve {

namespace fs = std::filesystem;

namespace {

uint64_t hash_source(const std::string& s) {
  return std::hash<std::string>{}(s);
}

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

// The *.pol files directly in `dir` (tests, hidden and temporary files excluded), sorted.
std::vector<std::string> pol_files_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !ends_with(name, ".pol") || ends_with(name, "_test.pol"))
      continue;
    std::error_code fe;
    if (!it->is_regular_file(fe)) continue;
    out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

PolicySet::PolicySet(Engine& engine, std::string root, std::string candidate_root)
    : engine_(engine), root_(std::move(root)), candidate_root_(std::move(candidate_root)) {
  std::error_code ec;
  is_dir_ = fs::is_directory(root_, ec);
}

std::vector<std::string> PolicySet::policy_files(const std::string& root, bool* is_dir) const {
  std::error_code ec;
  *is_dir = fs::is_directory(root, ec);
  if (*is_dir) return pol_files_in(root);
  if (fs::exists(root, ec)) return {root};
  return {};
}

RefreshReport PolicySet::refresh() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  RefreshReport report;
  refreshes_.fetch_add(1);
  bool is_dir = false;
  std::vector<std::string> files = policy_files(root_, &is_dir);
  is_dir_ = is_dir;
  if (files.empty() && !is_dir) report.messages.push_back(root_ + ": no such file");

  for (const std::string& path : files) {
    std::string source;
    if (!cli::read_file(path, &source)) {
      // Mid-rename or unreadable: keep whatever serves from it, try again next time.
      report.messages.push_back(path + ": cannot read; the served version stays");
      continue;
    }
    refresh_file(path, source, &report);
  }

  // Files that went away stop serving their policy.
  for (auto it = files_.begin(); it != files_.end();) {
    if (std::find(files.begin(), files.end(), it->first) != files.end()) {
      ++it;
      continue;
    }
    std::unique_lock<std::shared_mutex> w(mu_);
    if (!it->second.name.empty()) {
      policies_.erase(it->second.name);
      ++report.removed;
      report.messages.push_back(it->first + ": removed; policy " + it->second.name +
                                " no longer served");
    }
    errors_.erase(it->first);
    it = files_.erase(it);
  }
  if (!candidate_root_.empty()) refresh_candidates(&report);
  return report;
}

void PolicySet::refresh_file(const std::string& path, const std::string& source,
                             RefreshReport* report) {
  FileState& state = files_[path];
  const uint64_t h = hash_source(source);
  if (state.source_hash == h && (state.source_hash != 0)) {
    ++report->unchanged;
    return;
  }
  state.source_hash = h;

  CompileResult cr;
  try {
    cr = engine_.compile(source, path);
  } catch (const std::exception& e) {
    cr.rendered = path + ": compile failed: " + e.what();
  }
  std::shared_ptr<ServedPolicy> current;
  if (!state.name.empty()) {
    std::shared_lock<std::shared_mutex> r(mu_);
    auto it = policies_.find(state.name);
    if (it != policies_.end()) current = it->second;
  }

  if (!cr.ok()) {
    ++report->failed;
    std::string err = cr.rendered.empty() ? path + ": does not compile" : cr.rendered;
    if (current) {
      current->reloads_failed.fetch_add(1);
      std::lock_guard<std::mutex> l(current->mu);
      current->last_error = err;
      current->last_reload_ms = wall_ms();
      report->messages.push_back(path + ": reload failed; policy " + current->name +
                                 " keeps serving its previous version");
    } else {
      std::unique_lock<std::shared_mutex> w(mu_);
      errors_[path] = err;
      report->messages.push_back(path + ": does not compile; nothing served from it");
    }
    return;
  }

  Policy policy = std::move(*cr.policy);
  const std::string name = policy.name();
  if (current && current->name == name) {
    current->handle->swap(std::move(policy));
    current->reloads_ok.fetch_add(1);
    std::lock_guard<std::mutex> l(current->mu);
    current->last_error.clear();
    current->last_reload_ms = wall_ms();
    ++report->reloaded;
    report->messages.push_back(path + ": reloaded policy " + name + " (version " +
                               current->handle->current().version_hash() + ")");
    return;
  }

  // A new policy, or the file now declares another name.
  std::unique_lock<std::shared_mutex> w(mu_);
  auto clash = policies_.find(name);
  if (clash != policies_.end() && clash->second != current) {
    errors_[path] = path + ": policy " + name + " is already served from " + clash->second->file;
    ++report->failed;
    report->messages.push_back(errors_[path]);
    state.source_hash = 0;  // retry once the other file changes
    return;
  }
  if (current) policies_.erase(current->name);
  static std::atomic<uint64_t> next_serial{1};
  auto served = std::make_shared<ServedPolicy>();
  served->serial = next_serial.fetch_add(1);
  served->name = name;
  served->file = path;
  served->handle = std::make_unique<PolicyHandle>(engine_, std::move(policy));
  served->last_reload_ms = wall_ms();
  policies_[name] = served;
  errors_.erase(path);
  state.name = name;
  ++report->added;
  report->messages.push_back(path + ": serving policy " + name + " (version " +
                             served->handle->current().version_hash() + ")");
}

void PolicySet::refresh_candidates(RefreshReport* report) {
  for (const std::string& path : pol_files_in(candidate_root_)) {
    std::string source;
    if (!cli::read_file(path, &source)) continue;
    const uint64_t h = hash_source(source);
    auto seen = candidates_.find(path);
    if (seen != candidates_.end() && seen->second == h) continue;
    candidates_[path] = h;
    CompileResult cr;
    try {
      cr = engine_.compile(source, path);
    } catch (const std::exception& e) {
      cr.rendered = path + ": compile failed: " + e.what();
    }
    if (!cr.ok()) {
      ++report->candidate_errors;
      report->messages.push_back(path + ": candidate does not compile");
      continue;
    }
    std::shared_ptr<ServedPolicy> live;
    {
      std::shared_lock<std::shared_mutex> r(mu_);
      auto it = policies_.find(cr.policy->name());
      if (it != policies_.end()) live = it->second;
    }
    if (!live) {
      ++report->candidate_errors;
      report->messages.push_back(path + ": candidate for policy " + cr.policy->name() +
                                 ", which is not served");
      continue;
    }
    live->handle->set_candidate(std::move(*cr.policy));
    {
      std::lock_guard<std::mutex> l(live->mu);
      live->candidate_file = path;
    }
    ++report->candidates;
    report->messages.push_back(path + ": shadowing policy " + live->name);
  }
}

std::shared_ptr<const ServedPolicy> PolicySet::find(std::string_view name) const {
  std::shared_lock<std::shared_mutex> r(mu_);
  auto it = policies_.find(name);
  return it == policies_.end() ? nullptr : it->second;
}

std::shared_ptr<const ServedPolicy> PolicySet::sole() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  return policies_.size() == 1 ? policies_.begin()->second : nullptr;
}

std::vector<std::shared_ptr<const ServedPolicy>> PolicySet::list() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  std::vector<std::shared_ptr<const ServedPolicy>> out;
  out.reserve(policies_.size());
  for (const auto& [name, p] : policies_) out.push_back(p);
  return out;
}

std::vector<FileError> PolicySet::file_errors() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  std::vector<FileError> out;
  for (const auto& [file, err] : errors_) out.push_back({file, err});
  return out;
}

size_t PolicySet::size() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  return policies_.size();
}

}  // namespace tollgate::serve
