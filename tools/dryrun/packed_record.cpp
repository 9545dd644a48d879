// PackedRecord (see packed_record.h). Layout: a fixed header of the numeric fields and the
// lengths, then the four strings' bytes, the attribute references (key, offset in the attribute
// text, length), the attribute text (the values back to back, whether the record owned or
// borrowed them), and the prefix-block hashes.
#include "tools/dryrun/packed_record.h"

#include <cstddef>
#include <cstring>

#include "tools/dryrun/bytes.h"

namespace tollgate::dryrun {

namespace {

struct Header {
  int64_t ts_ms, attempt, in_tokens, out_tokens, cached_tokens, block_size;
  uint64_t seq, line;
  double logged_cost_usd;
  uint32_t file, n_attrs, attr_bytes, n_hash;
  uint32_t len[4];  // request_id, tenant, model, status
};

struct PackedAttr {
  uint32_t key, off, len;  // value = the attribute text [off, off + len)
};

template <typename T>
void put(char*& p, const T& v) {
  std::memcpy(p, &v, sizeof v);
  p += sizeof v;
}

template <typename T>
T get(const char*& p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}

}  // namespace

void PackedRecord::pack(const LogRecord& r) {
  using Ref = LogRecord::AttrRef;
  const TextField* text[4] = {&r.request_id, &r.tenant, &r.model, &r.status};
  const std::vector<Ref>& refs = r.attrs_.refs;
  // Only the values: bytes of replaced values the record still holds are left behind.
  size_t attr_bytes = 0;
  for (const Ref& a : refs) attr_bytes += a.len;
  size_t need = sizeof(Header) + refs.size() * sizeof(PackedAttr) + attr_bytes +
                r.hash_ids.size() * sizeof(uint64_t);
  for (const TextField* s : text) need += s->size();
  if (need > capacity_) {
    capacity_ = need + need / 2;
    bytes_.reset(new char[capacity_]);
  }
  size_ = need;

  Header h;
  h.ts_ms = r.ts_ms;
  h.attempt = r.attempt;
  h.in_tokens = r.in_tokens;
  h.out_tokens = r.out_tokens;
  h.cached_tokens = r.cached_tokens;
  h.block_size = r.block_size;
  h.seq = r.seq;
  h.line = r.line;
  h.logged_cost_usd = r.logged_cost_usd;
  h.file = r.file;
  h.n_attrs = static_cast<uint32_t>(refs.size());
  h.attr_bytes = static_cast<uint32_t>(attr_bytes);
  h.n_hash = static_cast<uint32_t>(r.hash_ids.size());
  for (int i = 0; i < 4; ++i) h.len[i] = static_cast<uint32_t>(text[i]->size());
  char* p = bytes_.get();
  put(p, h);
  auto bytes = [&p](const void* data, size_t n) {
    if (n) std::memcpy(p, data, n);
    p += n;
  };
  for (const TextField* s : text) {
    copy_bytes(p, s->data(), s->size());
    p += s->size();
  }
  // The one copy of a borrowed value: from the reader's line into the block. Locals, read once:
  // the char stores below may alias anything, so members would be reloaded every value.
  const Ref* ref = refs.data();
  const size_t n_attrs = refs.size();
  const char* own = r.attrs_.own.data();
  char* values = p + n_attrs * sizeof(PackedAttr);
  uint32_t off = 0;
  for (size_t i = 0; i < n_attrs; ++i) {
    const Ref a = ref[i];
    put(p, PackedAttr{a.key, off, a.len});
    copy_bytes(values + off, a.ptr ? a.ptr : own + a.off, a.len);
    off += a.len;
  }
  p = values + attr_bytes;
  bytes(r.hash_ids.data(), r.hash_ids.size() * sizeof(uint64_t));
}

void PackedRecord::unpack(LogRecord* r) const {
  using Ref = LogRecord::AttrRef;
  const char* p = bytes_.get();
  const Header h = get<Header>(p);
  r->ts_ms = h.ts_ms;
  r->attempt = h.attempt;
  r->in_tokens = h.in_tokens;
  r->out_tokens = h.out_tokens;
  r->cached_tokens = h.cached_tokens;
  r->block_size = h.block_size;
  r->seq = h.seq;
  r->line = h.line;
  r->logged_cost_usd = h.logged_cost_usd;
  r->file = h.file;
  // The text fields and attribute values borrow the block: it stays put until this record is
  // popped and replayed.
  TextField* text[4] = {&r->request_id, &r->tenant, &r->model, &r->status};
  for (int i = 0; i < 4; ++i) {
    text[i]->borrow(std::string_view(p, h.len[i]));
    p += h.len[i];
  }
  r->attrs_.own.clear();
  std::vector<Ref>& refs = r->attrs_.refs;
  const char* values = p + h.n_attrs * sizeof(PackedAttr);
  // The lookup index depends only on the sequence of keys: while it is the one *r already holds
  // (consecutive records of a log mostly carry the same attributes in the same order), the index
  // stays as it is and only the views change, in one pass. At the first other key, the index is
  // rebuilt.
  const size_t n = h.n_attrs;
  const char* const attrs = p;
  size_t i = 0;
  bool same_keys = refs.size() == n;
  if (same_keys) {
    Ref* ref = refs.data();
    for (; i < n; ++i) {
      const PackedAttr a = get<PackedAttr>(p);
      if (ref[i].key != a.key) break;
      ref[i].ptr = values + a.off;  // never null: borrowed (the key is right, off unused)
      ref[i].len = a.len;
    }
    same_keys = i == n;
  }
  if (!same_keys) {
    // Refs [0, i) hold this record's values under the keys the index was built from, so
    // unindexing the old sequence is still right.
    r->unindex_attrs();
    refs.resize(n);
    p = attrs + i * sizeof(PackedAttr);
    for (size_t j = i; j < n; ++j) {
      const PackedAttr a = get<PackedAttr>(p);
      refs[j] = Ref{values + a.off, a.key, 0, a.len};
    }
    for (size_t j = 0; j < n; ++j) r->index_attr(j);
  }
  p = values + h.attr_bytes;
  r->hash_ids.resize(h.n_hash);
  if (h.n_hash) std::memcpy(r->hash_ids.data(), p, h.n_hash * sizeof(uint64_t));
}

}  // namespace tollgate::dryrun
