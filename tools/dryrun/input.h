// Streaming input for the log readers: a file (or "-" for stdin), transparently decompressed when
// it starts with the gzip or zstd magic, split into lines (LF or CRLF; a last line without a
// newline still counts). Memory is one read buffer, whatever the file size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tollgate::dryrun {

enum class Compression { None, Gzip, Zstd };

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to n bytes; returns the count, 0 at end. Sets error() on a corrupt stream.
  virtual size_t read(char* buf, size_t n) = 0;
  const std::string& error() const { return error_; }
  // Bytes consumed from the underlying file (for progress), and its size (0 when unknown).
  virtual uint64_t raw_offset() const = 0;
  uint64_t raw_size = 0;

 protected:
  std::string error_;
};

// Opens `path`; detects compression by magic bytes. Null with *error on failure.
std::unique_ptr<ByteSource> open_source(const std::string& path, std::string* error,
                                        Compression* detected = nullptr);
// In-memory source (tests, whole-document formats).
std::unique_ptr<ByteSource> memory_source(std::string data);

class LineReader {
 public:
  explicit LineReader(std::unique_ptr<ByteSource> src);
  // Next line without its terminator; valid until the next call. False at end of input.
  bool next(std::string_view* line);
  uint64_t line_no() const { return line_no_; }
  // Puts the line just returned back (format detection peeks at the first line).
  void unread() {
    begin_ = last_begin_;
    --line_no_;
  }
  const ByteSource& source() const { return *src_; }
  // Reads everything that is left (for formats that are one JSON document).
  std::string rest();

 private:
  bool fill();
  std::unique_ptr<ByteSource> src_;
  std::string buf_;
  size_t begin_ = 0, end_ = 0, last_begin_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
};

}  // namespace tollgate::dryrun
