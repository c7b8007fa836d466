// libFuzzer target for every wire-message decoder (reliability plan T15).
//
// Built only with -DSCALEOUT_BUILD_FUZZERS=ON and clang, e.g.
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
//     -DSCALEOUT_BUILD_FUZZERS=ON -DSCALEOUT_SANITIZE=address,undefined
//   cmake --build build/fuzz --target protocol_fuzz
//   build/fuzz/bin/protocol_fuzz -rss_limit_mb=512 -max_len=65536 -timeout=5 corpus/
// Run with -runs=0 and SCALEOUT_PROTOCOL_FUZZ_SEEDS=<dir> set to write one
// encoded sample of every message type into <dir> as a seed corpus.
//
// Besides "no crash, no leak, no timeout", it checks that whatever decodes
// survives a re-encode unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/protocol/codec.h"
#include "tests/core/protocol/samples.h"

namespace {

namespace p = scaleout::core::protocol;

void WriteSeeds(const char* dir) {
  int n = 0;
  for (const std::string& sample : p::testing::AllEncodedSamples()) {
    const std::string path = std::string(dir) + "/seed-" + std::to_string(n++);
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(sample.data(), 1, sample.size(), f);
      std::fclose(f);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("SCALEOUT_PROTOCOL_FUZZ_SEEDS")) WriteSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bool stable = true;
  (void)p::testing::DecodeAny(bytes, p::DecodeLimits{}, &stable);
  if (!stable) std::abort();  // a decoded value did not round-trip
  return 0;
}
