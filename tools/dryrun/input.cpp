// File, gzip (zlib) and zstd byte sources and the line splitter.
#include "tools/dryrun/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <vector>

namespace tollgate::dryrun {

namespace {

class FdSource : public ByteSource {
 public:
  FdSource(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~FdSource() override {
    if (owned_) ::close(fd_);
  }
  size_t read(char* buf, size_t n) override {
    // Bytes peeked for magic detection are served first.
    if (pos_ < peek_.size()) {
      size_t k = std::min(n, peek_.size() - pos_);
      std::memcpy(buf, peek_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        error_ = std::string("read error: ") + std::strerror(errno);
        return 0;
      }
      offset_ += static_cast<uint64_t>(r);
      return static_cast<size_t>(r);
    }
  }
  uint64_t raw_offset() const override { return offset_; }
  // Reads up to n bytes to sniff the format; they are replayed by read().
  const std::string& peek(size_t n) {
    peek_.resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(fd_, &peek_[got], n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    peek_.resize(got);
    offset_ += got;
    return peek_;
  }

 private:
  int fd_;
  bool owned_;
  std::string peek_;
  size_t pos_ = 0;
  uint64_t offset_ = 0;
};

class GzipSource : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<FdSource> in) : in_(std::move(in)), inbuf_(1 << 16) {
    std::memset(&zs_, 0, sizeof zs_);
    inflateInit2(&zs_, 15 + 32);  // gzip or zlib header
  }
  ~GzipSource() override { inflateEnd(&zs_); }
  size_t read(char* buf, size_t n) override {
    if (done_) return 0;
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out == n) {
      if (zs_.avail_in == 0) {
        size_t r = in_->read(inbuf_.data(), inbuf_.size());
        if (r == 0) {
          if (!in_->error().empty())
            error_ = in_->error();
          else if (!stream_end_)
            error_ = "gzip stream truncated";
          done_ = true;
          break;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(inbuf_.data());
        zs_.avail_in = static_cast<uInt>(r);
      }
      stream_end_ = false;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
        inflateReset(&zs_);  // concatenated gzip members
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = std::string("gzip: ") + (zs_.msg ? zs_.msg : "corrupt stream");
        done_ = true;
        break;
      }
    }
    return n - zs_.avail_out;
  }
  uint64_t raw_offset() const override { return in_->raw_offset(); }

 private:
  std::unique_ptr<FdSource> in_;
  std::vector<char> inbuf_;
  z_stream zs_;
  bool done_ = false;
  bool stream_end_ = false;
};

class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<FdSource> in)
      : in_(std::move(in)), inbuf_(ZSTD_DStreamInSize()), ds_(ZSTD_createDStream()) {
    ZSTD_initDStream(ds_);
  }
  ~ZstdSource() override { ZSTD_freeDStream(ds_); }
  size_t read(char* buf, size_t n) override {
    if (done_) return 0;
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (in_pos_ == in_size_) {
        in_size_ = in_->read(inbuf_.data(), inbuf_.size());
        in_pos_ = 0;
        if (in_size_ == 0) {
          if (!in_->error().empty())
            error_ = in_->error();
          else if (last_rc_ != 0)
            error_ = "zstd stream truncated";
          done_ = true;
          break;
        }
      }
      ZSTD_inBuffer inb{inbuf_.data(), in_size_, in_pos_};
      size_t rc = ZSTD_decompressStream(ds_, &out, &inb);
      in_pos_ = inb.pos;
      if (ZSTD_isError(rc)) {
        error_ = std::string("zstd: ") + ZSTD_getErrorName(rc);
        done_ = true;
        break;
      }
      last_rc_ = rc;
    }
    return out.pos;
  }
  uint64_t raw_offset() const override { return in_->raw_offset(); }

 private:
  std::unique_ptr<FdSource> in_;
  std::vector<char> inbuf_;
  ZSTD_DStream* ds_;
  size_t in_size_ = 0, in_pos_ = 0;
  size_t last_rc_ = 0;
  bool done_ = false;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string d) : data_(std::move(d)) { raw_size = data_.size(); }
  size_t read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  uint64_t raw_offset() const override { return pos_; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<ByteSource> open_source(const std::string& path, std::string* error,
                                        Compression* detected) {
  int fd = 0;
  bool owned = false;
  uint64_t size = 0;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *error = "cannot open " + path + ": " + std::strerror(errno);
      return nullptr;
    }
    owned = true;
    struct stat st;
    if (::fstat(fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        *error = path + " is a directory";
        return nullptr;
      }
      size = static_cast<uint64_t>(st.st_size);
    }
  }
  auto fds = std::make_unique<FdSource>(fd, owned);
  const std::string& magic = fds->peek(4);
  Compression c = Compression::None;
  if (magic.size() >= 2 && static_cast<unsigned char>(magic[0]) == 0x1f &&
      static_cast<unsigned char>(magic[1]) == 0x8b)
    c = Compression::Gzip;
  else if (magic.size() >= 4 && static_cast<unsigned char>(magic[0]) == 0x28 &&
           static_cast<unsigned char>(magic[1]) == 0xb5 &&
           static_cast<unsigned char>(magic[2]) == 0x2f &&
           static_cast<unsigned char>(magic[3]) == 0xfd)
    c = Compression::Zstd;
  if (detected) *detected = c;
  std::unique_ptr<ByteSource> out;
  if (c == Compression::Gzip)
    out = std::make_unique<GzipSource>(std::move(fds));
  else if (c == Compression::Zstd)
    out = std::make_unique<ZstdSource>(std::move(fds));
  else
    out = std::move(fds);
  out->raw_size = size;
  return out;
}

std::unique_ptr<ByteSource> memory_source(std::string data) {
  return std::make_unique<MemorySource>(std::move(data));
}

LineReader::LineReader(std::unique_ptr<ByteSource> src) : src_(std::move(src)) {
  buf_.resize(1 << 20);
}

bool LineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {  // compact
    std::memmove(&buf_[0], &buf_[begin_], end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
  size_t r = src_->read(&buf_[end_], buf_.size() - end_);
  if (r == 0) {
    eof_ = true;
    return false;
  }
  end_ += r;
  return true;
}

bool LineReader::next(std::string_view* line) {
  size_t scanned = begin_;
  for (;;) {
    const char* base = buf_.data();
    const void* nl = std::memchr(base + scanned, '\n', end_ - scanned);
    if (nl) {
      size_t pos = static_cast<const char*>(nl) - base;
      size_t len = pos - begin_;
      if (len > 0 && base[pos - 1] == '\r') --len;
      *line = std::string_view(base + begin_, len);
      last_begin_ = begin_;
      begin_ = pos + 1;
      ++line_no_;
      return true;
    }
    size_t consumed = end_ - begin_;
    if (!fill()) {
      if (begin_ == end_) return false;
      // Last line without a newline.
      const char* b = buf_.data();
      size_t len = end_ - begin_;
      if (len > 0 && b[begin_ + len - 1] == '\r') --len;
      *line = std::string_view(b + begin_, len);
      last_begin_ = begin_;
      begin_ = end_;
      ++line_no_;
      return true;
    }
    scanned = begin_ + consumed;  // fill() compacted: begin_ is 0 now
  }
}

std::string LineReader::rest() {
  std::string out(buf_.data() + begin_, end_ - begin_);
  begin_ = end_;
  char tmp[1 << 16];
  while (size_t r = src_->read(tmp, sizeof tmp)) out.append(tmp, r);
  eof_ = true;
  return out;
}

}  // namespace tollgate::dryrun
