// Ledger snapshots: the settled spend of every counter as versioned JSON, so a restarted host
// does not forget this month's spend. Reservations are not saved (their calls died with the
// process); counters of windows that ended by load time are dropped.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tollgate/ledger.hpp"

namespace tollgate {
namespace {

constexpr int kSnapshotVersion = 1;
constexpr const char* kFormat = "tollgate-ledger";

bool parse_unit(const std::string& s, BudgetUnit* u) {
  if (s == "usd")
    *u = BudgetUnit::Usd;
  else if (s == "tokens")
    *u = BudgetUnit::Tokens;
  else if (s == "requests")
    *u = BudgetUnit::Requests;
  else
    return false;
  return true;
}
bool parse_window(const std::string& s, BudgetWindow* w) {
  if (s == "minute")
    *w = BudgetWindow::Minute;
  else if (s == "hour")
    *w = BudgetWindow::Hour;
  else if (s == "day")
    *w = BudgetWindow::Day;
  else if (s == "month")
    *w = BudgetWindow::Month;
  else
    return false;
  return true;
}

}  // namespace

bool Ledger::save(const std::string& path, std::string* error) const {
  try {
    std::vector<CounterEntry> entries;
    backend_->entries(&entries);
    nlohmann::json counters = nlohmann::json::array();
    for (const CounterEntry& e : entries) {
      if (e.committed == 0) continue;
      counters.push_back({{"budget", e.budget},
                          {"unit", to_string(e.unit)},
                          {"window", to_string(e.window)},
                          {"key", e.key},
                          {"window_start_ms", e.window_start},
                          {"units", e.committed},
                          {"spent", from_units(e.unit, e.committed)}});
    }
    nlohmann::json doc = {{"format", kFormat},
                          {"version", kSnapshotVersion},
                          {"saved_at_ms", wall_clock_ms()},
                          {"usd_units_per_dollar", kUsdUnitsPerDollar},
                          {"counters", std::move(counters)}};
    const std::string tmp = path + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      if (!f) {
        if (error) *error = "cannot write " + tmp;
        return false;
      }
      f << doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      f.flush();
      if (!f) {
        if (error) *error = "write failed: " + tmp;
        return false;
      }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      if (error) *error = "cannot rename " + tmp + " to " + path;
      std::remove(tmp.c_str());
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    if (error) *error = std::string("ledger save: ") + e.what();
    return false;
  }
}

bool Ledger::load(const std::string& path, int64_t now_ms, LedgerLoadStats* stats,
                  std::string* error) {
  LedgerLoadStats st;
  try {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
      if (error) *error = "cannot open " + path;
      return false;
    }
    nlohmann::json doc = nlohmann::json::parse(f);
    if (!doc.is_object() || doc.value("format", "") != kFormat) {
      if (error) *error = path + ": not a tollgate ledger snapshot";
      return false;
    }
    int version = doc.value("version", 0);
    if (version != kSnapshotVersion) {
      if (error) *error = path + ": unsupported snapshot version " + std::to_string(version);
      return false;
    }
    if (now_ms == 0) now_ms = wall_clock_ms();
    // Validate everything before changing the ledger, so a bad file changes nothing.
    std::vector<CounterEntry> keep;
    for (const auto& c : doc.at("counters")) {
      CounterEntry e;
      e.budget = c.at("budget").get<std::string>();
      e.key = c.at("key").get<std::string>();
      if (!parse_unit(c.at("unit").get<std::string>(), &e.unit) ||
          !parse_window(c.at("window").get<std::string>(), &e.window)) {
        if (error) *error = path + ": bad unit or window in counter " + e.budget;
        return false;
      }
      e.window_start = c.at("window_start_ms").get<int64_t>();
      e.committed = c.at("units").get<int64_t>();
      if (e.window_start == window_start(e.window, now_ms)) {
        keep.push_back(std::move(e));
      } else {
        ++st.expired;
      }
    }
    for (const CounterEntry& e : keep) {
      CounterId id{e.budget, e.unit, e.window, e.key};
      backend_->add(id, e.window_start, e.committed, 0);
      ++st.restored;
    }
    if (stats) *stats = st;
    return true;
  } catch (const std::exception& e) {
    if (error) *error = path + ": " + e.what();
    return false;
  }
}

}  // namespace tollgate
