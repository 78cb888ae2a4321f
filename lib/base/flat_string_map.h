// SPDX-License-Identifier: GPL-2.0-or-later
// FlatStringMap: an insert-and-find map from strings to small values, for
// registries that only grow while a file is read (drbd.conf uniqueness keys:
// 170 000 of them for 10 000 resources). Keys are stored back to back in one
// buffer and found through an open-addressing slot array that holds part of
// each key's hash, so a lookup touches one slot (one cache line) and compares
// key bytes only when the hash bits agree; there is no node per entry.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace drbd {

template <typename V>
class FlatStringMap {
 public:
  // Adds key → value unless key is present. Returns the stored value (the
  // new one, or the one present) and whether it was added. The pointer is
  // valid until the next insertion.
  std::pair<V*, bool> TryEmplace(std::string_view key, V value) {
    if ((entries_.size() + 1) * 4 > slots_.size() * 3) Grow(entries_.size() + 1);
    const uint64_t h = Hash(key);
    const uint32_t tag = Tag(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.entry == 0) {
        entries_.push_back(Entry{h, static_cast<uint32_t>(keys_.size()),
                                 static_cast<uint32_t>(key.size()), std::move(value)});
        keys_.append(key);
        s = Slot{tag, static_cast<uint32_t>(entries_.size())};
        return {&entries_.back().value, true};
      }
      if (s.tag == tag && KeyOf(entries_[s.entry - 1]) == key) {
        return {&entries_[s.entry - 1].value, false};
      }
    }
  }

  // The value stored for key, or nullptr.
  const V* Find(std::string_view key) const {
    if (entries_.empty()) return nullptr;
    const uint64_t h = Hash(key);
    const uint32_t tag = Tag(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.entry == 0) return nullptr;
      if (s.tag == tag && KeyOf(entries_[s.entry - 1]) == key) return &entries_[s.entry - 1].value;
    }
  }

  // Makes room for n keys in all without growing again.
  void Reserve(size_t n) {
    if (n * 4 > slots_.size() * 3) Grow(n);
    entries_.reserve(n);
  }

  void Clear() {
    entries_.clear();
    keys_.clear();
    std::fill(slots_.begin(), slots_.end(), Slot{});
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Slot {
    uint32_t tag = 0;    // high half of the key's hash
    uint32_t entry = 0;  // index into entries_ + 1; 0 = empty slot
  };
  struct Entry {
    uint64_t hash;
    uint32_t key_offset;  // into keys_ (keys of a config file: far below 4 GiB)
    uint32_t key_size;
    V value;
  };

  static uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  static uint32_t Tag(uint64_t h) { return static_cast<uint32_t>(h >> 32); }
  std::string_view KeyOf(const Entry& e) const {
    return std::string_view(keys_).substr(e.key_offset, e.key_size);
  }

  // Resizes the slot array to a power of two of at least 4n/3 slots (load <= 3/4)
  // and re-places every entry by its stored hash.
  void Grow(size_t n) {
    size_t cap = 16;
    while (cap * 3 < n * 4) cap *= 2;
    if (cap <= slots_.size()) return;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    for (size_t k = 0; k < entries_.size(); ++k) {
      size_t i = entries_[k].hash & mask_;
      while (slots_[i].entry != 0) i = (i + 1) & mask_;
      slots_[i] = Slot{Tag(entries_[k].hash), static_cast<uint32_t>(k + 1)};
    }
  }

  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  std::string keys_;
  size_t mask_ = 0;
};

}  // namespace drbd
