// A LogRecord packed into one contiguous block of bytes. The replay's reorder window holds
// thousands of records between reading and replaying them; as LogRecords (strings, attribute
// vector, lookup index: a dozen cache lines in several heap blocks each) they crowd the core's
// caches, packed they take about three lines and are walked in order.
#pragma once

#include <cstddef>
#include <memory>

#include "tools/dryrun/record.h"

namespace tollgate::dryrun {

class PackedRecord {
 public:
  // Replaces the contents with `rec` (keeping the block when it is large enough), copying its
  // text fields and attribute values whether rec owns or borrows them. rec must not borrow from
  // this block (a record unpacked from it): the block is overwritten or freed meanwhile.
  void pack(const LogRecord& rec);
  // Rebuilds the record into *out, reusing its storage. Its text fields and attribute values
  // borrow this block's bytes: they are valid until the next pack() (or this is destroyed).
  void unpack(LogRecord* out) const;
  size_t size() const { return size_; }
  // Asks for the block's cache lines ahead of unpack().
  void prefetch() const {
    for (size_t off = 0; off < size_; off += 64) __builtin_prefetch(bytes_.get() + off);
  }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_ = 0, capacity_ = 0;
};

}  // namespace tollgate::dryrun
