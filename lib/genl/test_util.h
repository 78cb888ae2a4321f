// SPDX-License-Identifier: GPL-2.0-or-later
// Test helper: builds netlink byte vectors by hand, field by field, from
// the layout in docs/formats/genl.md (independent of the encoder), and a
// deterministic "fill every field" request builder for round trips.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lib/genl/codec.h"

namespace drbd::genl::testing {

class Bytes {
 public:
  Bytes& U8(uint8_t v) { return Raw(&v, 1); }
  Bytes& U16(uint16_t v) { return Raw(&v, 2); }
  Bytes& U32(uint32_t v) { return Raw(&v, 4); }
  Bytes& U64(uint64_t v) { return Raw(&v, 8); }
  Bytes& Str(std::string_view s) { return Raw(s.data(), s.size()); }
  Bytes& Zeros(size_t n) {
    b_.insert(b_.end(), n, 0);
    return *this;
  }
  Bytes& Raw(const void* p, size_t n) {
    const uint8_t* c = static_cast<const uint8_t*>(p);
    b_.insert(b_.end(), c, c + n);
    return *this;
  }
  // Pads to a multiple of 4 with zeros.
  Bytes& Align() { return Zeros((4 - b_.size() % 4) % 4); }
  // nlattr header: len (header + payload, unpadded) and type.
  Bytes& Nla(uint16_t len, uint16_t type) { return U16(len).U16(type); }
  // Patches a u32 at offset (e.g. nlmsg_len once the size is known).
  Bytes& PatchU32(size_t off, uint32_t v) {
    std::memcpy(b_.data() + off, &v, 4);
    return *this;
  }
  size_t size() const { return b_.size(); }
  const std::vector<uint8_t>& vec() const { return b_; }

 private:
  std::vector<uint8_t> b_;
};

// A value for every field of `set`, deterministic in (set, nr, salt):
// numbers spread over their width, strings of max_len - 1 bytes (or 40 for
// unbounded), binaries of max_len bytes.
inline void FillEveryField(Tla& t, int salt) {
  for (const AttrDesc& a : GetSet(t.set).attrs) {
    uint64_t v = 0x0102030405060708ull * (a.nr + salt) ^ (static_cast<uint64_t>(t.set) << 40);
    switch (a.type) {
      case AttrType::kU32: t.PutU32(a.key(), static_cast<uint32_t>(v)); break;
      case AttrType::kS32: t.PutS32(a.key(), -static_cast<int32_t>(v & 0x7FFFFFF)); break;
      case AttrType::kU64: t.PutU64(a.key(), v); break;
      case AttrType::kFlag: t.PutFlag(a.key(), ((a.nr + salt) & 1) != 0); break;
      case AttrType::kStr: {
        size_t n = a.max_len ? a.max_len - 1 : 40;
        std::string s;
        for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + (i + a.nr + salt) % 26));
        t.PutStr(a.key(), s);
        break;
      }
      case AttrType::kBin: {
        std::vector<uint8_t> b(a.max_len);
        for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 7 + a.nr + salt);
        t.PutBin(a.key(), b);
        break;
      }
    }
  }
}

}  // namespace drbd::genl::testing
