// SPDX-License-Identifier: GPL-2.0-or-later
// Runs LLVMFuzzerTestOneInput over files and directories (recursively) without
// libFuzzer: the seed corpus as a regression test with any compiler, and with
// the sanitizer build. Usage: config_parser_fuzz_replay PATH...
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::filesystem::path& p) {
  // FUZZ_REPLAY_VERBOSE=1 names each input first, to find the one a
  // sanitizer report belongs to.
  static const bool verbose = std::getenv("FUZZ_REPLAY_VERBOSE") != nullptr;
  if (verbose) std::cerr << "replay: " << p.string() << std::endl;
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    std::cerr << "cannot read " << p << "\n";
    return 1;
  }
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int errors = 0;
  int inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg, ec)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        errors += RunFile(f);
        ++inputs;
      }
    } else {
      errors += RunFile(arg);
      ++inputs;
    }
  }
  std::cout << "replayed " << inputs << " inputs, " << errors << " unreadable\n";
  return errors == 0 && inputs > 0 ? 0 : 1;
}
