// The binary program container (program.h) and program files.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "isa/program.h"

namespace clonesim::isa {

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(p[i]) << (8 * i);
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

std::string src_name(const std::string& source) { return source.empty() ? std::string("<input>") : source; }

[[noreturn]] void fail_at(const std::string& source, uint64_t offset, const std::string& what) {
  throw Error(src_name(source) + ": offset " + std::to_string(offset) + ": " + what);
}

bool starts_with_magic(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}

// Offset of the first byte that is not valid UTF-8 (or is NUL), or -1.
long long first_non_text_byte(const std::vector<uint8_t>& b, const char** why) {
  size_t i = 0;
  const size_t n = b.size();
  while (i < n) {
    const uint8_t c = b[i];
    if (c == 0) {
      *why = "NUL byte";
      return static_cast<long long>(i);
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      *why = "invalid UTF-8";
      return static_cast<long long>(i);
    }
    if (i + len > n) {
      *why = "invalid UTF-8";
      return static_cast<long long>(i);
    }
    for (size_t k = 1; k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) {
        *why = "invalid UTF-8";
        return static_cast<long long>(i);
      }
      cp = (cp << 6) | (b[i + k] & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *why = "invalid UTF-8";
      return static_cast<long long>(i);
    }
    i += len;
  }
  return -1;
}

}  // namespace

std::vector<uint8_t> to_binary(const Program& p) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderBytes + p.code.size() * kInstrBytes);
  out.insert(out.end(), kMagic, kMagic + sizeof kMagic);
  put_u32(out, kFormatVersion);
  if (p.code.size() > 0xFFFFFFFFull) throw Error(src_name(p.source) + ": too many instructions for the container");
  put_u32(out, static_cast<uint32_t>(p.code.size()));
  for (size_t i = 0; i < p.code.size(); ++i) {
    Word256 w;
    try {
      w = encode(p.code[i]);
    } catch (const Error& e) {
      throw Error(src_name(p.source) + ": instruction " + std::to_string(i) + ": " + e.what());
    }
    for (uint64_t x : w) put_u64(out, x);
  }
  return out;
}

Program from_binary(const std::vector<uint8_t>& bytes, const std::string& source) {
  const uint64_t size = bytes.size();
  // Magic: compare what is there; a short file that matches so far is truncated.
  const size_t have = size < sizeof kMagic ? size_t(size) : sizeof kMagic;
  if (size == 0 || std::memcmp(bytes.data(), kMagic, have) != 0)
    fail_at(source, 0, "bad magic (not a clonesim program binary; expected \"CLONEISA\")");
  if (size < kHeaderBytes)
    fail_at(source, size,
            "truncated header: file is " + std::to_string(size) + " bytes, the header needs " +
                std::to_string(kHeaderBytes));
  const uint32_t version = get_u32(bytes.data() + 8);
  if (version != kFormatVersion)
    fail_at(source, 8,
            "unsupported version " + std::to_string(version) + " (this build reads version " +
                std::to_string(kFormatVersion) + ")");
  const uint64_t count = get_u32(bytes.data() + 12);
  const uint64_t expect = kHeaderBytes + count * kInstrBytes;
  if (size < expect) {
    const uint64_t complete = (size - kHeaderBytes) / kInstrBytes;
    fail_at(source, kHeaderBytes + complete * kInstrBytes,
            "truncated: instruction " + std::to_string(complete) + " of the " + std::to_string(count) +
                " the header declares is incomplete (file ends at byte " + std::to_string(size) + ", needs " +
                std::to_string(expect) + ")");
  }
  if (size > expect)
    fail_at(source, expect,
            "trailing bytes: " + std::to_string(size - expect) + " bytes after the " + std::to_string(count) +
                " instructions the header declares");
  Program p;
  p.source = source;
  p.code.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t off = kHeaderBytes + i * kInstrBytes;
    Word256 w;
    for (unsigned k = 0; k < kInstrWords; ++k) w[k] = get_u64(bytes.data() + off + 8 * k);
    try {
      p.code.push_back(decode(w, off));
    } catch (const Error& e) {
      throw Error(src_name(source) + ": " + e.what());
    }
  }
  return p;
}

Program load_program(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot open");
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  bool bad = false;
  while (true) {
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    bytes.insert(bytes.end(), buf, buf + n);
    if (n < sizeof buf) {
      bad = std::ferror(f) != 0;
      break;
    }
  }
  std::fclose(f);
  if (bad) throw Error(path + ": cannot read");
  if (starts_with_magic(bytes)) return from_binary(bytes, path);
  const char* why = "";
  const long long at = first_non_text_byte(bytes, &why);
  if (at >= 0)
    throw Error(path + ": not an assembly file (" + why + " at offset " + std::to_string(at) +
                ") and not a program binary (no CLONEISA magic)");
  return assemble(std::string(bytes.begin(), bytes.end()), path);
}

void save_binary(const Program& p, const std::string& path) {
  const std::vector<uint8_t> bytes = to_binary(p);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Error(path + ": cannot open for writing");
  const size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const bool wrote = n == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!wrote || !closed) throw Error(path + ": cannot write");
}

}  // namespace clonesim::isa
