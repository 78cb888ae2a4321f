// SPDX-License-Identifier: GPL-2.0-or-later
// Errors of the genl layer as values: a code to branch on, a message for
// humans (never branched on), an errno where a syscall failed, and the
// process exit code drbd-utils uses for the situation. Result<T> carries a
// value or an Error; no exceptions leave lib/genl.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "lib/base/exit_codes.h"

namespace drbd::genl {

enum class ErrorCode {
  kMalformed,        // bytes are not a well-formed message of the family
  kBadAttribute,     // a known attribute with a bad length / type / string
  kUnknownMandatory, // unknown attribute carrying the mandatory bit
  kEncode,           // a value does not fit (string too long, wrong type)
  kNoFamily,         // "drbd" family not registered (module not loaded)
  kNoDaemon,         // drbd-simd socket absent / refused
  kApiMismatch,      // family version or header size differ from ours
  kIo,               // send/receive failed
  kTimeout,          // nothing arrived in time
  kClosed,           // peer closed the connection
  kNetlinkError,     // NLMSG_ERROR with a nonzero errno from the other side
};

struct Error {
  ErrorCode code;
  std::string message;  // one line, no trailing newline
  int sys_errno = 0;    // errno (positive) for kIo / kNetlinkError / kNoDaemon
  // drbd-utils' exit code for this failure: 20 (kExecError) for everything
  // the genl layer reports.
  ExitCode exit_code() const { return ExitCode::kExecError; }
};

// Ok or an Error.
class Status {
 public:
  Status() = default;
  Status(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  const Error& error() const { return err_; }

 private:
  Error err_{ErrorCode::kMalformed, {}};
  bool ok_ = true;
};

// A value or an Error.
template <typename T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}      // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace drbd::genl
