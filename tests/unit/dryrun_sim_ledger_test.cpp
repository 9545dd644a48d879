// The dry-run's simulated ledger: calendar windows (memoised per budget) across minute, day and
// month boundaries, late records, counters shared by budget name, and keys told apart by their
// bytes wherever they live (one reused buffer, a string reassigned in place, temporaries).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "tools/dryrun/sim_ledger.h"

using namespace tollgate;
using namespace tollgate::dryrun;

namespace {

BudgetInfo budget(const char* name, BudgetWindow w) {
  BudgetInfo b;
  b.name = name;
  b.window = w;
  b.unit = BudgetUnit::Usd;
  return b;
}

// 2024-01-31T23:59:00Z and friends, in ms since the epoch.
constexpr int64_t kJan31Late = 1706745540000;
constexpr int64_t kFeb1 = 1706745600000;
constexpr int64_t kFeb29 = 1709164800000;
constexpr int64_t kMar1 = 1709251200000;

}  // namespace

TEST_CASE("sim ledger: month windows roll over on the 1st, leap February included") {
  std::vector<BudgetInfo> budgets{budget("monthly", BudgetWindow::Month)};
  SimLedger l;
  l.bind(budgets);
  const BudgetInfo& m = budgets[0];
  l.add(m, "acme", kJan31Late, 5);
  CHECK(l.spent(m, "acme", kJan31Late + 59999) == 5);
  CHECK(l.spent(m, "acme", kFeb1) == 0);  // a new month
  l.add(m, "acme", kFeb1, 2);
  CHECK(l.spent(m, "acme", kFeb29 + 86399999) == 2);  // still February (leap day, last ms)
  CHECK(l.spent(m, "acme", kMar1) == 0);
  l.add(m, "acme", kMar1, 1);
  CHECK(l.spent(m, "acme", kMar1 + 1) == 1);
  // A late record from a closed window neither reads nor charges the current one.
  l.add(m, "acme", kJan31Late, 100);
  CHECK(l.spent(m, "acme", kMar1 + 2) == 1);
  CHECK(l.spent(m, "acme", kJan31Late) == 0);
}

TEST_CASE("sim ledger: minute, hour and day windows; keys are separate") {
  std::vector<BudgetInfo> budgets{budget("m", BudgetWindow::Minute),
                                  budget("h", BudgetWindow::Hour), budget("d", BudgetWindow::Day)};
  SimLedger l;
  l.bind(budgets);
  for (const BudgetInfo& b : budgets) {
    l.add(b, "a", kFeb1 + 1000, 1);
    l.add(b, "b", kFeb1 + 2000, 10);
  }
  CHECK(l.spent(budgets[0], "a", kFeb1 + 59999) == 1);
  CHECK(l.spent(budgets[0], "a", kFeb1 + 60000) == 0);
  CHECK(l.spent(budgets[1], "b", kFeb1 + 3599999) == 10);
  CHECK(l.spent(budgets[1], "b", kFeb1 + 3600000) == 0);
  CHECK(l.spent(budgets[2], "a", kFeb1 + 86399999) == 1);
  CHECK(l.spent(budgets[2], "a", kFeb1 + 86400000) == 0);
  // Going back in time (out-of-order lookups) still answers by the asked time's window.
  CHECK(l.spent(budgets[0], "b", kFeb1 + 2000) == 10);
  CHECK(l.counters() == 6);
}

TEST_CASE("sim ledger: a copy of a BudgetInfo shares the counters of its name") {
  std::vector<BudgetInfo> budgets{budget("monthly", BudgetWindow::Month)};
  SimLedger l;
  l.bind(budgets);
  BudgetInfo copy = budgets[0];
  l.add(copy, "acme", kFeb1, 3);
  CHECK(l.spent(budgets[0], "acme", kFeb1) == 3);
}

TEST_CASE("sim ledger: keys are matched by content, not by where their bytes live") {
  std::vector<BudgetInfo> budgets{budget("per_user", BudgetWindow::Day),
                                  budget("per_org", BudgetWindow::Day)};
  SimLedger l;
  l.bind(budgets);
  char buf[32];
  auto key = [&buf](const char* text) {
    std::strcpy(buf, text);
    return std::string_view(buf, std::strlen(text));
  };
  // Two number keys of equal length written into the same buffer.
  l.add(budgets[0], key("11"), kFeb1, 1);
  l.add(budgets[1], key("22"), kFeb1, 2);
  CHECK(l.spent(budgets[0], key("11"), kFeb1) == 1);
  CHECK(l.spent(budgets[0], key("22"), kFeb1) == 0);
  CHECK(l.spent(budgets[1], key("22"), kFeb1) == 2);
  CHECK(l.spent(budgets[1], key("11"), kFeb1) == 0);

  // A string reassigned in place, and temporaries that may share a stack address.
  std::vector<BudgetInfo> tb{budget("monthly", BudgetWindow::Month)};
  SimLedger s;
  s.bind(tb);
  std::string tenant = "acme";
  s.add(tb[0], tenant, kFeb1, 5);
  CHECK(s.spent(tb[0], tenant, kFeb1) == 5);
  tenant = "beta";  // same length, same buffer
  CHECK(s.spent(tb[0], tenant, kFeb1) == 0);
  s.add(tb[0], tenant, kFeb1, 7);
  CHECK(s.spent(tb[0], std::string("acme"), kFeb1) == 5);
  CHECK(s.spent(tb[0], std::string("beta"), kFeb1) == 7);
}

TEST_CASE("sim ledger: an empty key is one key, whether or not its view has bytes") {
  std::vector<BudgetInfo> budgets{budget("global", BudgetWindow::Day)};
  SimLedger l;
  l.bind(budgets);
  l.add(budgets[0], std::string_view(), kFeb1, 3);  // a view of no bytes at all
  l.add(budgets[0], "", kFeb1, 4);
  CHECK(l.spent(budgets[0], std::string_view(), kFeb1) == 7);
  CHECK(l.spent(budgets[0], "x", kFeb1) == 0);
  CHECK(l.counters() == 1);
}

TEST_CASE("sim ledger: add_bound charges the budget at that position, like add") {
  std::vector<BudgetInfo> budgets{budget("daily", BudgetWindow::Day),
                                  budget("monthly", BudgetWindow::Month)};
  SimLedger l;
  l.bind(budgets);
  uint32_t acme = l.key_id("acme"), beta = l.key_id("beta");
  CHECK(acme != beta);
  CHECK(l.key_id(std::string("acme")) == acme);
  l.add_bound(1, acme, kFeb1, 3);
  l.add_bound(1, acme, kFeb29, 4);
  l.add(budgets[1], "acme", kFeb29, 1);  // the same counter through the other entry
  l.add_bound(0, beta, kFeb29, 2);
  CHECK(l.spent(budgets[1], "acme", kFeb29) == 8);
  CHECK(l.spent(budgets[0], "acme", kFeb29) == 0);
  CHECK(l.spent(budgets[0], "beta", kFeb29) == 2);
  CHECK(l.spent(budgets[1], "beta", kFeb29) == 0);
  l.add_bound(1, acme, kMar1, 1);  // a new month resets; a late record does not count
  l.add_bound(1, acme, kFeb29, 100);
  CHECK(l.spent(budgets[1], "acme", kMar1) == 1);
}

TEST_CASE("Interner: keys of every length, one byte apart, are told apart and found again") {
  Interner ids;
  std::vector<std::string> keys;
  for (size_t len = 0; len <= 40; ++len) {
    std::string base(len, 'k');
    keys.push_back(base);
    for (size_t at = 0; at < len; ++at) {  // the same length, one byte changed anywhere
      std::string k = base;
      k[at] = static_cast<char>('a' + at % 7);
      keys.push_back(k);
    }
  }
  std::vector<uint32_t> first;
  for (const std::string& k : keys) first.push_back(ids.id(k));
  std::sort(keys.begin(), keys.end());
  size_t distinct = static_cast<size_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
  CHECK(ids.size() == distinct);
  for (size_t i = keys.size(); i-- > 0;) {  // found again, in another order, from other buffers
    std::string copy = keys[i];
    uint32_t id = ids.id(copy);
    CHECK(id < ids.size());
  }
  CHECK(ids.size() == distinct);
  // The hash spreads short keys: no two of 100k tenant-like names share all 64 bits.
  StrHash h;
  std::vector<size_t> hashes;
  for (int i = 0; i < 100000; ++i) hashes.push_back(h("t-" + std::to_string(i)));
  std::sort(hashes.begin(), hashes.end());
  CHECK(std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end());
}
