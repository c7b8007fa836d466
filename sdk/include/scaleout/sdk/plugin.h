// The plugin descriptor, the ABI rules and the one export macro.
//
// Every plugin library exports exactly one `extern "C"` function,
// `scaleout_plugin_descriptor`, that returns a pointer to a static,
// standard-layout PluginDescriptor. The host reads the descriptor without
// creating anything (`scaleout plugins list`), checks the ABI version and the
// build fingerprint, and only then calls create().
//
// ABI rules (checked by the host, in this order):
//   - abi_major must equal the host's kAbiMajor (a major bump breaks layouts);
//   - abi_minor must be <= the host's kAbiMinor (a plugin built against a
//     newer SDK may use what this host does not have);
//   - struct_size must be at least the size the host knows for that minor;
//   - fingerprint must equal the host's BuildFingerprint(): the interfaces
//     are C++ classes with std::string members, so the standard library ABI
//     must match exactly.
//
// A plugin author writes:
//
//   class MyExecutor final : public scaleout::sdk::Executor {
//    public:
//     static scaleout::sdk::Result<std::unique_ptr<MyExecutor>> Create(
//         const scaleout::sdk::PluginContext& context);
//     ...
//   };
//   SCALEOUT_PLUGIN(kExecutor, "my", "1.0.0", "Runs my packages", MyExecutor)
#ifndef SCALEOUT_SDK_PLUGIN_H_
#define SCALEOUT_SDK_PLUGIN_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/version.h"

#if defined(_WIN32)
#define SCALEOUT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SCALEOUT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

namespace scaleout::sdk {

inline constexpr std::uint32_t kAbiMajor = 1;
inline constexpr std::uint32_t kAbiMinor = 0;

// Name of the single exported entry point.
inline constexpr const char* kEntryPointName = "scaleout_plugin_descriptor";

enum class PluginKind : std::uint32_t { kTransport = 1, kStorage = 2, kExecutor = 3 };

constexpr std::string_view PluginKindName(PluginKind kind) noexcept {
  switch (kind) {
    case PluginKind::kTransport: return "transport";
    case PluginKind::kStorage: return "storage";
    case PluginKind::kExecutor: return "executor";
  }
  return "unknown";
}

// What the host hands to create(). Borrowed for the duration of create();
// `logger` outlives the instance (the host guarantees it), `config` does not.
struct PluginContext {
  const ConfigView* config;  // never null; the plugin's own section
  Logger* logger;            // never null
};

// The build fingerprint: the facts that must match between host and plugin
// for C++ objects to cross the boundary safely. Computed from predefined
// macros, so it describes the translation unit that expands it.
#define SCALEOUT_STRINGIFY_INNER_(x) #x
#define SCALEOUT_STRINGIFY_(x) SCALEOUT_STRINGIFY_INNER_(x)
#if defined(_GLIBCXX_RELEASE)
#define SCALEOUT_STDLIB_ID_                                                           \
  "libstdc++" SCALEOUT_STRINGIFY_(_GLIBCXX_RELEASE) ";cxx11abi=" SCALEOUT_STRINGIFY_( \
      _GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define SCALEOUT_STDLIB_ID_ "libc++" SCALEOUT_STRINGIFY_(_LIBCPP_ABI_VERSION)
#else
#define SCALEOUT_STDLIB_ID_ "unknown-stdlib"
#endif
#if defined(_GLIBCXX_DEBUG)
#define SCALEOUT_STDLIB_DEBUG_ ";debug-containers"
#else
#define SCALEOUT_STDLIB_DEBUG_ ""
#endif
#define SCALEOUT_BUILD_FINGERPRINT                                               \
  ("sdk=" SCALEOUT_STRINGIFY_(                                                   \
      SCALEOUT_SDK_VERSION_MAJOR) ";" SCALEOUT_STDLIB_ID_ SCALEOUT_STDLIB_DEBUG_ \
                                  ";ptr=" SCALEOUT_STRINGIFY_(__SIZEOF_POINTER__))

}  // namespace scaleout::sdk

extern "C" {

// Standard layout; fields are only ever appended (bump kAbiMinor when you do).
struct scaleout_plugin_descriptor_v1 {
  std::uint32_t abi_major;
  std::uint32_t abi_minor;
  std::uint32_t struct_size;  // sizeof(scaleout_plugin_descriptor_v1) as the plugin saw it
  std::uint32_t kind;         // a scaleout::sdk::PluginKind
  const char* name;           // "sqlite"; [a-z0-9_-]+, unique per kind
  const char* version;        // the plugin's own version, "1.2.0"
  const char* description;    // one line for `scaleout plugins list`
  const char* fingerprint;    // SCALEOUT_BUILD_FINGERPRINT as the plugin was built

  // Creates an instance: a Transport*, Storage* or Executor* per `kind`, as a
  // void*. On failure returns nullptr and writes a NUL-terminated reason of at
  // most `error_capacity` bytes into `error`. Never throws.
  void* (*create)(const scaleout::sdk::PluginContext* context, char* error,
                  std::size_t error_capacity) noexcept;
  // Destroys what create() returned. Never throws. Accepts nullptr.
  void (*destroy)(void* instance) noexcept;
};

}  // extern "C"

namespace scaleout::sdk {

using PluginDescriptor = scaleout_plugin_descriptor_v1;
static_assert(std::is_standard_layout_v<PluginDescriptor>);
using PluginEntryPoint = const PluginDescriptor* (*)() noexcept;

namespace detail {

inline void CopyError(std::string_view message, char* error, std::size_t capacity) noexcept {
  if (error == nullptr || capacity == 0) return;
  std::size_t n = message.size() < capacity - 1 ? message.size() : capacity - 1;
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// The body of every create(): calls `Impl::Create`, converts failures and
// exceptions into an error string, and upcasts to the kind's interface so the
// void* the host receives is exactly an `Interface*`.
template <typename Interface, typename Impl>
void* CreateInstance(const PluginContext* context, char* error, std::size_t capacity) noexcept {
  try {
    if (context == nullptr || context->config == nullptr || context->logger == nullptr) {
      CopyError("create() called without a complete PluginContext", error, capacity);
      return nullptr;
    }
    Result<std::unique_ptr<Impl>> made = Impl::Create(*context);
    if (!made.ok()) {
      CopyError(made.status().ToString(), error, capacity);
      return nullptr;
    }
    if (!made.value()) {
      CopyError("Create() returned an empty instance", error, capacity);
      return nullptr;
    }
    Interface* instance = made.value().release();
    return static_cast<void*>(instance);
  } catch (const std::exception& e) {
    CopyError(std::string("create() threw: ") + e.what(), error, capacity);
  } catch (...) {
    CopyError("create() threw a non-standard exception", error, capacity);
  }
  return nullptr;
}

template <typename Interface>
void DestroyInstance(void* instance) noexcept {
  delete static_cast<Interface*>(instance);  // virtual destructor runs the Impl's
}

}  // namespace detail
}  // namespace scaleout::sdk

// Maps a PluginKind enumerator to its interface type (declared in the kind's header).
#define SCALEOUT_INTERFACE_OF_kTransport ::scaleout::sdk::Transport
#define SCALEOUT_INTERFACE_OF_kStorage ::scaleout::sdk::Storage
#define SCALEOUT_INTERFACE_OF_kExecutor ::scaleout::sdk::Executor

// Declares the plugin's single entry point. Use once per library, at namespace
// scope, after including the header of the kind's interface.
//   KIND: kTransport, kStorage or kExecutor
//   NAME, VERSION, DESCRIPTION: string literals
//   IMPL: the class; it must derive from the kind's interface and have
//         `static Result<std::unique_ptr<IMPL>> Create(const PluginContext&)`.
#define SCALEOUT_PLUGIN(KIND, NAME, VERSION, DESCRIPTION, IMPL)                         \
  static_assert(std::is_base_of_v<SCALEOUT_INTERFACE_OF_##KIND, IMPL>,                  \
                "SCALEOUT_PLUGIN: " #IMPL " must derive from the interface of " #KIND); \
  extern "C" SCALEOUT_PLUGIN_EXPORT const ::scaleout::sdk::PluginDescriptor*            \
  scaleout_plugin_descriptor() noexcept {                                               \
    static const ::scaleout::sdk::PluginDescriptor descriptor = {                       \
        ::scaleout::sdk::kAbiMajor,                                                     \
        ::scaleout::sdk::kAbiMinor,                                                     \
        static_cast<std::uint32_t>(sizeof(::scaleout::sdk::PluginDescriptor)),          \
        static_cast<std::uint32_t>(::scaleout::sdk::PluginKind::KIND),                  \
        NAME,                                                                           \
        VERSION,                                                                        \
        DESCRIPTION,                                                                    \
        SCALEOUT_BUILD_FINGERPRINT,                                                     \
        &::scaleout::sdk::detail::CreateInstance<SCALEOUT_INTERFACE_OF_##KIND, IMPL>,   \
        &::scaleout::sdk::detail::DestroyInstance<SCALEOUT_INTERFACE_OF_##KIND>,        \
    };                                                                                  \
    return &descriptor;                                                                 \
  }

#endif  // SCALEOUT_SDK_PLUGIN_H_
