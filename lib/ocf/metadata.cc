// SPDX-License-Identifier: GPL-2.0-or-later
// Generation of the OCF 1.1 meta-data document; see metadata.h.
#include "lib/ocf/metadata.h"

#include <fmt/format.h>

#include "lib/base/strings.h"
#include "lib/ocf/params.h"

namespace drbd::ocf {

namespace {

std::string_view TypeName(ParamType t) {
  switch (t) {
    case ParamType::kString:
      return "string";
    case ParamType::kBoolean:
      return "boolean";
    case ParamType::kInteger:
      return "integer";
  }
  return "string";
}

}  // namespace

std::string MetaDataXml() {
  std::string x;
  x += "<?xml version=\"1.0\"?>\n";
  // ra-api-1.dtd plus an internal subset for what OCF 1.1 added and the DTD
  // lacks: the reload-agent action (see kDtdActionNames) and the parameters'
  // reloadable attribute.
  x += "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\" [\n<!ATTLIST action name (";
  for (std::string_view n : kDtdActionNames) {
    if (n != kDtdActionNames[0]) x += '|';
    x += n;
  }
  x += ") #REQUIRED>\n<!ATTLIST parameter reloadable (1|0) #IMPLIED>\n]>\n";
  x += fmt::format("<resource-agent name=\"drbd\" version=\"{}\">\n", kAgentVersion);
  x += "<version>1.1</version>\n";
  x += "<longdesc lang=\"en\">\n"
       "Manages one DRBD resource as a promotable clone: the Promoted instance is "
       "DRBD Primary, Unpromoted instances are Secondary. Promotion scores follow "
       "the local and peer disk states; state is read from drbdsetup's "
       "machine-readable output.\n"
       "</longdesc>\n";
  x += "<shortdesc lang=\"en\">Manages a DRBD resource as a promotable clone</shortdesc>\n";
  x += "<parameters>\n";
  for (const ParamSpec& p : kParamSpecs) {
    x += fmt::format("<parameter name=\"{}\"", p.name);
    if (p.unique) x += " unique=\"1\"";
    if (p.required) x += " required=\"1\"";
    if (p.reloadable) x += " reloadable=\"1\"";
    x += ">\n";
    x += fmt::format("<longdesc lang=\"en\">\n{}\n</longdesc>\n", XmlEscape(p.longdesc));
    x += fmt::format("<shortdesc lang=\"en\">{}</shortdesc>\n", XmlEscape(p.shortdesc));
    if (p.default_value.empty()) {
      x += fmt::format("<content type=\"{}\"/>\n", TypeName(p.type));
    } else {
      x += fmt::format("<content type=\"{}\" default=\"{}\"/>\n", TypeName(p.type),
                       XmlEscape(p.default_value));
    }
    x += "</parameter>\n";
  }
  x += "</parameters>\n";
  x += "<actions>\n";
  for (const ActionSpec& a : kActions) {
    x += fmt::format("<action name=\"{}\" timeout=\"{}s\"", a.name, a.timeout_s);
    if (a.interval_s > 0) x += fmt::format(" interval=\"{}s\"", a.interval_s);
    if (!a.role.empty()) x += fmt::format(" role=\"{}\"", a.role);
    if (a.depth >= 0) x += fmt::format(" depth=\"{}\"", a.depth);
    x += "/>\n";
  }
  x += "</actions>\n";
  x += "</resource-agent>\n";
  return x;
}

std::string ParamsMarkdownTable() {
  std::string t = "| parameter | type | default | meaning |\n|---|---|---|---|\n";
  for (const ParamSpec& p : kParamSpecs) {
    std::string def = p.required                ? std::string("(required)")
                      : p.default_value.empty() ? std::string("(none)")
                                                : fmt::format("`{}`", p.default_value);
    t += fmt::format("| `{}` | {} | {} | {} |\n", p.name, TypeName(p.type), def, p.shortdesc);
  }
  return t;
}

}  // namespace drbd::ocf
