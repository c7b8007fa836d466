// Byte buffers that cross the plugin boundary.
//
// Owned bytes are a std::string (binary-safe, cheap to move, and what
// Boost.Beast, ZeroMQ and msgpack-c buffers convert to without a copy);
// borrowed bytes are a std::string_view. Neither implies text.
#ifndef SCALEOUT_SDK_BYTES_H_
#define SCALEOUT_SDK_BYTES_H_

#include <string>
#include <string_view>

namespace scaleout::sdk {

using Bytes = std::string;          // owned, binary-safe
using ByteView = std::string_view;  // borrowed; valid as long as its owner says

}  // namespace scaleout::sdk

#endif  // SCALEOUT_SDK_BYTES_H_
