// PackedRecord (see packed_record.h). Layout: a fixed header of the numeric fields and the
// lengths, then the four strings' bytes, the attribute references (key, offset in the attribute
// text, length), the attribute text (the values back to back, whether the record owned or
// borrowed them), and the prefix-block hashes.
#include "tools/dryrun/packed_record.h"

#include <cstring>

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
  for (const TextField* s : text) bytes(s->data(), s->size());
  // The one copy of a borrowed value: from the reader's line into the block.
  char* values = p + refs.size() * sizeof(PackedAttr);
  uint32_t off = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    std::string_view v = r.attrs_.value(i);
    put(p, PackedAttr{refs[i].key, off, refs[i].len});
    if (!v.empty()) std::memcpy(values + off, v.data(), v.size());
    off += refs[i].len;
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
  r->unindex_attrs();
  r->attrs_.own.clear();
  std::vector<Ref>& refs = r->attrs_.refs;
  refs.resize(h.n_attrs);
  const char* values = p + h.n_attrs * sizeof(PackedAttr);
  for (size_t i = 0; i < h.n_attrs; ++i) {
    const PackedAttr a = get<PackedAttr>(p);
    refs[i] = Ref{values + a.off, a.key, 0, a.len};  // never null: borrowed
    r->index_attr(i);
  }
  p = values + h.attr_bytes;
  r->hash_ids.resize(h.n_hash);
  if (h.n_hash) std::memcpy(r->hash_ids.data(), p, h.n_hash * sizeof(uint64_t));
}

}  // namespace tollgate::dryrun
