// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/config/diag.h"

#include <cstdlib>
#include <string_view>

namespace drbd::cfg {

DiagStyle DiagStyleFromEnv() {
  const char* s = std::getenv("DRBDADM_ERROR_STYLE");
  if (s != nullptr && std::string_view(s) == "drbd-utils") return DiagStyle::kDrbdUtils;
  return DiagStyle::kGnu;
}

std::string Render(const Diagnostic& d, DiagStyle style) {
  std::string out;
  if (style == DiagStyle::kDrbdUtils && !d.compat.empty()) {
    out = d.compat;
  } else {
    if (!d.file.empty()) {
      out += d.file;
      out += ':';
      if (d.line > 0) {
        out += std::to_string(d.line);
        out += ':';
        if (d.col > 0) {
          out += std::to_string(d.col);
          out += ':';
        }
      }
      out += ' ';
    }
    switch (d.severity) {
      case Severity::kError: out += "error: "; break;
      case Severity::kWarning: out += "warning: "; break;
      case Severity::kNote: out += "note: "; break;
    }
    out += d.text;
  }
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

void DiagSink::Emit(const Diagnostic& d) {
  if (d.severity == Severity::kError) ++errors_;
  out_ << Render(d, style_);
}

void DiagSink::Fatal(const Diagnostic& d, ExitCode code) {
  Emit(d);
  out_.flush();
  throw FatalConfigError(code, d.text);
}

}  // namespace drbd::cfg
