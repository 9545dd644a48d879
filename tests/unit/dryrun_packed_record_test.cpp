// PackedRecord: a LogRecord survives packing and unpacking field for field (attributes with
// replaced values and repeated keys, prefix hashes, long and empty strings), and unpacking into
// a record that held something else leaves nothing of it behind.
#include <catch2/catch.hpp>
#include <string>

#include "tools/dryrun/packed_record.h"

using namespace tollgate::dryrun;

namespace {

void check_same(const LogRecord& a, const LogRecord& b) {
  CHECK(a.ts_ms == b.ts_ms);
  CHECK(a.seq == b.seq);
  CHECK(a.file == b.file);
  CHECK(a.line == b.line);
  CHECK(a.request_id == b.request_id);
  CHECK(a.tenant == b.tenant);
  CHECK(a.model == b.model);
  CHECK(a.status == b.status);
  CHECK(a.attempt == b.attempt);
  CHECK(a.in_tokens == b.in_tokens);
  CHECK(a.out_tokens == b.out_tokens);
  CHECK(a.cached_tokens == b.cached_tokens);
  CHECK(a.hash_ids == b.hash_ids);
  CHECK(a.block_size == b.block_size);
  CHECK(a.logged_cost_usd == b.logged_cost_usd);
  REQUIRE(a.attr_count() == b.attr_count());
  for (size_t i = 0; i < a.attr_count(); ++i) {
    CHECK(a.attr_key(i) == b.attr_key(i));
    CHECK(a.attr_value(i) == b.attr_value(i));
  }
  for (uint32_t k = 0; k < 12; ++k) CHECK(a.attr(k) == b.attr(k));
}

}  // namespace

TEST_CASE("packed records round-trip every field") {
  LogRecord r;
  r.ts_ms = 1700000000123;
  r.seq = 42;
  r.file = 3;
  r.line = 99;
  r.request_id = "req-" + std::string(40, 'x');  // longer than the short-string buffer
  r.tenant = "acme";
  r.model = "claude-3-5-sonnet-20241022";
  r.status = "throttled";
  r.attempt = 2;
  r.in_tokens = 12000;
  r.out_tokens = 345;
  r.cached_tokens = 512;
  r.hash_ids = {1, 2, 0xFFFFFFFFFFFFFFFFULL};
  r.block_size = 256;
  r.logged_cost_usd = 0.0125;
  r.add_attr(0, "qa");
  r.add_attr(5, "");  // present, empty
  r.add_attr(2, "pro");
  r.set_attr(0, "chat");   // replaced
  r.add_attr(2, "other");  // a repeated key: the first value wins on lookup
  REQUIRE(r.attr(0) == std::optional<std::string_view>("chat"));
  REQUIRE(r.attr(5) == std::optional<std::string_view>(""));
  REQUIRE(r.attr(2) == std::optional<std::string_view>("pro"));
  REQUIRE_FALSE(r.attr(1).has_value());

  PackedRecord p;
  p.pack(r);
  LogRecord out;
  // A record that held more, and other keys, before.
  out.add_attr(7, "stale");
  out.add_attr(11, "stale too");
  out.hash_ids = {9, 9, 9, 9};
  out.tenant = "someone else";
  p.unpack(&out);
  check_same(r, out);
  CHECK_FALSE(out.attr(7).has_value());
  CHECK_FALSE(out.attr(11).has_value());

  // Reusing the block for a smaller record, and an empty one.
  LogRecord small;
  small.ts_ms = -5;
  small.add_attr(1, "x");
  p.pack(small);
  p.unpack(&out);
  check_same(small, out);
  LogRecord empty;
  p.pack(empty);
  p.unpack(&out);
  check_same(empty, out);
}

TEST_CASE("text fields: assigned bytes are owned, borrowed ones are not, copies always own") {
  std::string lender = "borrowed";
  TextField f;
  f.borrow(lender);
  CHECK(f == "borrowed");
  CHECK(f.data() == lender.data());
  TextField copy = f;  // owns its bytes
  CHECK(copy == "borrowed");
  CHECK(copy.data() != lender.data());
  lender[0] = 'X';
  CHECK(f == "Xorrowed");
  CHECK(copy == "borrowed");
  // Assigning from its own bytes (a substring of itself) is safe.
  copy = std::string_view(copy).substr(2, 4);
  CHECK(copy == "rrow");
  copy.clear();
  CHECK(copy.empty());
  copy = "again";
  CHECK(copy.str() == "again");
}
