// PackedRecord: a LogRecord survives packing and unpacking field for field (attributes with
// replaced values and repeated keys, prefix hashes, long and empty strings), and unpacking into
// a record that held something else leaves nothing of it behind. Attribute values and text
// fields may be borrowed: packing copies them, unpacking borrows the block, copying owns.
#include <algorithm>
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

TEST_CASE("attribute values: borrowed ones are views, added ones copies, record copies own all") {
  std::string line = R"({"attrs":{"task":"qa","tier":"pro"}})";
  std::string_view view(line);
  std::string temp = "temporary";
  LogRecord r;
  r.borrow_attr(0, view.substr(line.find("qa"), 2));
  r.add_attr(1, temp);
  r.borrow_attr(2, view.substr(line.find("pro"), 3));
  r.borrow_attr(3, std::string_view());                       // a null view borrows a literal ""
  r.set_attr_borrowed(1, view.substr(line.find("task"), 4));  // replaces the copy with a view
  temp = "overwritten";
  REQUIRE(r.attr_count() == 4);
  CHECK(r.attr(0) == std::optional<std::string_view>("qa"));
  CHECK(r.attr(1) == std::optional<std::string_view>("task"));
  CHECK(r.attr(2) == std::optional<std::string_view>("pro"));
  CHECK(r.attr(3) == std::optional<std::string_view>(""));
  CHECK(r.attr_borrowed(0));
  CHECK(r.attr_borrowed(1));
  CHECK(r.attr_borrowed(2));
  CHECK(r.attr_borrowed(3));
  CHECK(r.attr(0)->data() == line.data() + line.find("qa"));
  r.set_attr(2, "copied");  // replaces a view with a copy
  CHECK_FALSE(r.attr_borrowed(2));
  CHECK(r.attr(2) == std::optional<std::string_view>("copied"));

  // A copy owns every value: the lender can change or go away.
  LogRecord copy = r;
  LogRecord assigned;
  assigned.add_attr(9, "old");
  assigned = r;
  // Packed, then the lender changes: the block holds its own bytes, and unpacked values borrow
  // the block.
  PackedRecord p;
  p.pack(r);
  std::string original = line;
  std::fill(line.begin(), line.end(), '#');
  CHECK(r.attr(0) == std::optional<std::string_view>("##"));  // still a view of the line
  for (const LogRecord* c : {&copy, &assigned}) {
    REQUIRE(c->attr_count() == 4);
    for (size_t i = 0; i < c->attr_count(); ++i) CHECK_FALSE(c->attr_borrowed(i));
    CHECK(c->attr(0) == std::optional<std::string_view>("qa"));
    CHECK(c->attr(1) == std::optional<std::string_view>("task"));
    CHECK(c->attr(2) == std::optional<std::string_view>("copied"));
    CHECK(c->attr(3) == std::optional<std::string_view>(""));
    CHECK_FALSE(c->attr(9).has_value());
  }
  LogRecord out;
  out.add_attr(9, "stale");
  p.unpack(&out);
  check_same(copy, out);
  CHECK_FALSE(out.attr(9).has_value());
  for (size_t i = 0; i < out.attr_count(); ++i) CHECK(out.attr_borrowed(i));
  // Copying the unpacked record, then reusing the block for another record, leaves the copy
  // intact.
  LogRecord kept = out;
  LogRecord other;
  other.add_attr(0, std::string(200, 'z'));  // grows the block
  p.pack(other);
  p.unpack(&out);
  check_same(other, out);
  check_same(copy, kept);
  line = original;
}

TEST_CASE("packing leaves replaced values behind and keeps repeated keys in order") {
  LogRecord r;
  std::string lender = "abcdef";
  for (int i = 0; i < 50; ++i) r.set_attr(1, std::string(100, static_cast<char>('a' + i % 26)));
  r.borrow_attr(2, std::string_view(lender).substr(1, 3));
  r.borrow_attr(2, std::string_view(lender).substr(0, 1));  // repeated: the first wins
  PackedRecord p;
  p.pack(r);
  CHECK(p.size() < 400);  // the 49 replaced values are not packed
  LogRecord out;
  p.unpack(&out);
  check_same(r, out);
  CHECK(out.attr(2) == std::optional<std::string_view>("bcd"));
  CHECK(out.attr_value(2) == "a");
}

TEST_CASE("unpacking records with the same keys, other keys, the same keys in another order") {
  // unpack keeps the lookup index when the key sequence is the one the record already holds.
  auto make = [](std::initializer_list<std::pair<uint32_t, const char*>> kv) {
    LogRecord r;
    for (const auto& [k, v] : kv) r.add_attr(k, v);
    return r;
  };
  const LogRecord recs[] = {
      make({{0, "a"}, {1, "b"}, {2, "c"}}),
      make({{0, "d"}, {1, "e"}, {2, "f"}}),            // same keys
      make({{2, "g"}, {1, "h"}, {0, "i"}}),            // same keys, another order
      make({{0, "j"}, {1, "k"}, {3, "l"}}),            // same count, another key
      make({{0, "m"}, {0, "n"}, {3, "o"}}),            // a repeated key
      make({{0, "p"}, {0, "q"}, {3, "r"}}),            // the same, repeated
      make({{5, "s"}}),                                // fewer
      make({}),                                        // none
      make({{0, "t"}, {1, "u"}, {2, "v"}, {4, "w"}}),  // more
  };
  std::vector<PackedRecord> packed(std::size(recs));
  for (size_t i = 0; i < std::size(recs); ++i) packed[i].pack(recs[i]);
  LogRecord out;
  for (size_t i = 0; i < std::size(recs); ++i) {
    INFO("record " << i);
    packed[i].unpack(&out);
    check_same(recs[i], out);
  }
}

TEST_CASE("unpacking keeps the index when keys repeat and rebuilds it from the first new key") {
  // A record that already holds owned values under the same keys gets views; a sequence that
  // starts the same and then differs is reindexed whole.
  LogRecord a, b, out;
  a.add_attr(0, "x");
  a.add_attr(1, "y");
  a.add_attr(2, "z");
  b.add_attr(0, "u");
  b.add_attr(1, "v");
  b.add_attr(3, "w");
  PackedRecord pa, pb;
  pa.pack(a);
  pb.pack(b);
  out.add_attr(0, "own0");
  out.add_attr(1, "own1");
  out.add_attr(2, "own2");
  pa.unpack(&out);
  check_same(a, out);
  for (size_t i = 0; i < out.attr_count(); ++i) CHECK(out.attr_borrowed(i));
  pb.unpack(&out);
  check_same(b, out);
  CHECK_FALSE(out.attr(2).has_value());
  pa.unpack(&out);
  check_same(a, out);
  CHECK_FALSE(out.attr(3).has_value());
}
