// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdadm/registry.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace drbd::adm {

namespace {

std::string MinorLink(int minor) {
  return std::string(kDrbdRunDir) + "/drbd-minor-" + std::to_string(minor) + ".conf";
}

std::string ResourceLink(const std::string& name) {
  return std::string(kDrbdRunDir) + "/drbd-resource-" + name + ".conf";
}

std::optional<std::string> ReadLink(const std::string& link) {
  char buf[PATH_MAX];
  ssize_t n = readlink(link.c_str(), buf, sizeof buf);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

bool RegisterPath(const std::string& link, const std::string& path, std::ostream& err) {
  if (path.empty() || path[0] != '/') {
    err << "File " << path << ": absolute path expected; won't register relative path.";
    return false;
  }
  // Never link into the run directory itself (symlink loops).
  std::string dir_slash = std::string(kDrbdRunDir) + "/";
  if (path.compare(0, dir_slash.size(), dir_slash) == 0) return false;
  if (auto target = ReadLink(link); target && *target == path) return true;
  if (unlink(link.c_str()) != 0 && errno != ENOENT) {
    err << link << ": " << std::strerror(errno) << "\n";
    return false;
  }
  if (mkdir(kDrbdRunDir, S_IRWXU) != 0 && errno != EEXIST) {
    err << kDrbdRunDir << ": " << std::strerror(errno) << "\n";
    return false;
  }
  if (symlink(path.c_str(), link.c_str()) != 0) {
    err << "symlink(" << path << ", " << link << "): " << std::strerror(errno) << "\n";
    return false;
  }
  return true;
}

std::optional<std::string> Lookup(const std::string& link) {
  struct stat sb {};
  if (stat(link.c_str(), &sb) != 0) return std::nullopt;
  return ReadLink(link);
}

}  // namespace

bool RegisterMinor(int minor, const std::string& path, std::ostream& err) {
  return RegisterPath(MinorLink(minor), path, err);
}

bool RegisterResource(const std::string& name, const std::string& path, std::ostream& err) {
  return RegisterPath(ResourceLink(name), path, err);
}

std::optional<std::string> LookupMinor(int minor) { return Lookup(MinorLink(minor)); }

std::optional<std::string> LookupResource(const std::string& name) {
  return Lookup(ResourceLink(name));
}

}  // namespace drbd::adm
