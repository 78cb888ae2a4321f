// SPDX-License-Identifier: GPL-2.0-or-later
// Diagnostics for drbd.conf processing.
//
// Every diagnostic carries a position and two renderings of the same fact:
//  - `text`: our message, printed as `FILE:LINE:COL: error: TEXT` (GNU style),
//    saying what was expected and what was found;
//  - `compat`: the exact text drbd-utils 9.22 prints for the same condition
//    (including its own `FILE:LINE: ` prefix if it has one).
// Which one is printed is chosen by the sink's Style; drbd-utils style is for
// scripts that parse drbdadm's error text (env DRBDADM_ERROR_STYLE=drbd-utils,
// documented in docs/compat.md).
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>

#include "lib/base/exit_codes.h"

namespace drbd::cfg {

enum class Severity { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;  // as drbd-utils would name it (path as given/included)
  int line = 0;      // 1-based; 0 = no position
  int col = 0;       // 1-based; 0 = unknown
  std::string text;
  std::string compat;  // may be empty: then `text` is used in both styles
};

enum class DiagStyle { kGnu, kDrbdUtils };

// Picks the style from the environment (DRBDADM_ERROR_STYLE).
DiagStyle DiagStyleFromEnv();

// Renders one diagnostic, with a trailing newline.
std::string Render(const Diagnostic& d, DiagStyle style);

// Thrown inside lib/config to abort processing at a fatal error (drbd-utils
// exits at once at these points). Never escapes the lib/config API: the
// entry points catch it and return the code.
struct FatalConfigError : std::runtime_error {
  FatalConfigError(ExitCode c, const std::string& what) : std::runtime_error(what), code(c) {}
  ExitCode code;
};

// Where diagnostics go.
class DiagSink {
 public:
  DiagSink(std::ostream& out, DiagStyle style) : out_(out), style_(style) {}
  void Emit(const Diagnostic& d);
  // Emits and throws FatalConfigError(code).
  [[noreturn]] void Fatal(const Diagnostic& d, ExitCode code = ExitCode::kConfigInvalid);
  // Raw text, printed as is in both styles (notes such as
  // "found __DRBD_NODE__ in environment").
  void Raw(const std::string& text) { out_ << text; }
  int error_count() const { return errors_; }
  DiagStyle style() const { return style_; }
  std::ostream& stream() { return out_; }

 private:
  std::ostream& out_;
  DiagStyle style_;
  int errors_ = 0;
};

}  // namespace drbd::cfg
