// A deterministic mutation fuzz loop over every decoder: valid messages are
// mutated (bit flips, msgpack type bytes, big lengths, cuts, splices) with a
// fixed seed and decoded. Nothing may crash, hang or leak (the sanitizer
// build runs it too), failures must carry a decoder error code, and whatever
// decodes must survive a re-encode unchanged.
//
// SCALEOUT_PROTOCOL_FUZZ_ITERATIONS overrides the iteration count (200000;
// 20000 under sanitizers, which are ~10x slower).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/protocol/codec.h"
#include "tests/core/protocol/samples.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCALEOUT_FUZZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALEOUT_FUZZ_SANITIZED 1
#endif
#endif

namespace scaleout::core::protocol {
namespace {

using namespace ::scaleout::core::protocol::testing;  // NOLINT(build/namespaces)

std::size_t Iterations() {
  if (const char* env = std::getenv("SCALEOUT_PROTOCOL_FUZZ_ITERATIONS")) {
    return static_cast<std::size_t>(std::strtoull(env, nullptr, 10));
  }
#ifdef SCALEOUT_FUZZ_SANITIZED
  return 20'000;
#else
  return 200'000;
#endif
}

// splitmix64: tiny, and the same sequence on every platform (unlike the
// standard distributions).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t Below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(Next() % n); }

 private:
  std::uint64_t state_;
};

// msgpack type bytes and boundaries that exercise the parser's branches.
constexpr unsigned char kInteresting[] = {
    0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4,
    0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2,
    0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};

void Mutate(Rng& rng, const std::vector<std::string>& samples, std::string* bytes) {
  const std::size_t size = bytes->size();
  const std::size_t at = rng.Below(size);
  switch (rng.Below(9)) {
    case 0:
      if (size > 0) (*bytes)[at] = static_cast<char>((*bytes)[at] ^ (1u << rng.Below(8)));
      break;
    case 1:
      if (size > 0) (*bytes)[at] = static_cast<char>(rng.Next());
      break;
    case 2:
      if (size > 0) (*bytes)[at] = static_cast<char>(kInteresting[rng.Below(sizeof(kInteresting))]);
      break;
    case 3: bytes->erase(at, 1 + rng.Below(16)); break;
    case 4: {
      std::string noise(1 + rng.Below(8), '\0');
      for (char& c : noise) c = static_cast<char>(rng.Next());
      bytes->insert(at, noise);
      break;
    }
    case 5: bytes->insert(at, bytes->substr(rng.Below(size), 1 + rng.Below(32))); break;
    case 6: bytes->resize(at); break;
    case 7: {  // splice another message's tail
      const std::string& other = samples[rng.Below(samples.size())];
      *bytes = bytes->substr(0, at) + other.substr(rng.Below(other.size()));
      break;
    }
    default: {  // a big-endian length or count of 0, 2^15, 2^16-1, 2^31-1 or 2^32-1
      static constexpr std::uint32_t kLengths[] = {0, 0x8000, 0xffff, 0x7fffffff, 0xffffffff};
      const std::uint32_t v = kLengths[rng.Below(5)];
      for (int i = 0; i < 4 && at + static_cast<std::size_t>(i) < size; ++i) {
        (*bytes)[at + i] = static_cast<char>(v >> (24 - 8 * i));
      }
      break;
    }
  }
}

// Decodes `bytes` as the type with index `which`, to also hit type mismatches.
sdk::Status DecodeAs(std::size_t which, sdk::ByteView bytes, const DecodeLimits& limits) {
  auto as = [&](auto value) { return Decode(bytes, &value, limits); };
  switch (which % 6) {
    case 0: return as(RegisterRequest{});
    case 1: return as(RequestTasksReply{});
    case 2: return as(TaskHeartbeatReply{});
    case 3: return as(ReportEventsRequest{});
    case 4: return as(GetProjectReply{});
    default: return as(ErrorReply{});
  }
}

bool IsDecoderError(sdk::StatusCode code) {
  return code == sdk::StatusCode::kInvalidArgument || code == sdk::StatusCode::kResourceExhausted ||
         code == sdk::StatusCode::kUnimplemented;
}

TEST(ProtocolFuzzTest, MutatedMessagesNeverCrashAndDecodedOnesAreStable) {
  const std::vector<std::string> samples = AllEncodedSamples();
  DecodeLimits tight;  // small limits for a quarter of the inputs, to reach the limit paths
  tight.max_depth = 4;
  tight.max_array = 8;
  tight.max_map = 8;
  tight.max_str = 64;
  tight.max_bin = 16;
  tight.max_items = 64;
  tight.max_tasks_per_reply = 1;
  tight.max_events_per_batch = 1;
  Rng rng(20240611);
  std::size_t decoded = 0;
  std::size_t refused = 0;
  bool stable = true;
  const std::size_t iterations = Iterations();
  for (std::size_t i = 0; i < iterations; ++i) {
    std::string bytes = samples[rng.Below(samples.size())];
    const std::size_t mutations = 1 + rng.Below(4);
    for (std::size_t m = 0; m < mutations; ++m) Mutate(rng, samples, &bytes);
    const DecodeLimits& limits = (i % 4 == 3) ? tight : DecodeLimits{};
    const sdk::Status status = DecodeAny(bytes, limits, &stable);
    if (status.ok()) {
      ++decoded;
    } else {
      ++refused;
      ASSERT_TRUE(IsDecoderError(status.code())) << "iteration " << i << ": " << status.ToString();
    }
    const sdk::Status typed = DecodeAs(i, bytes, limits);
    ASSERT_FALSE(typed.code() == sdk::StatusCode::kInternal &&
                 typed.message().find("peer") == std::string::npos)
        << "iteration " << i << ": " << typed.ToString();
    ASSERT_TRUE(stable) << "iteration " << i << " decoded a value that did not round-trip";
  }
  // Both outcomes must occur, or the mutations are too weak (or too strong)
  // to test anything.
  EXPECT_GT(decoded, iterations / 100);
  EXPECT_GT(refused, iterations / 2);
  std::printf("%zu iterations: %zu decoded, %zu refused\n", iterations, decoded, refused);
}

}  // namespace
}  // namespace scaleout::core::protocol
