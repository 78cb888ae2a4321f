// SPDX-License-Identifier: GPL-2.0-or-later
// HeapOptional<T>: an optional value kept on the heap, for a large member
// that most objects leave empty (a drbd.conf endpoint's `via proxy` section:
// about 300 bytes, set in few configurations). Empty it costs one pointer
// where std::optional<T> would reserve the whole T in every object. It reads
// like std::optional (bool test, has_value, *, ->, emplace, reset) and copies
// its value deeply.
#pragma once

#include <memory>
#include <utility>

namespace drbd {

template <typename T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(const T& v) : p_(std::make_unique<T>(v)) {}        // NOLINT: like optional
  HeapOptional(T&& v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT: like optional
  HeapOptional(const HeapOptional& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const T& v) {
    emplace(v);
    return *this;
  }
  HeapOptional& operator=(T&& v) {
    emplace(std::move(v));
    return *this;
  }

  template <typename... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return p_ != nullptr; }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }

 private:
  std::unique_ptr<T> p_;
};

}  // namespace drbd
