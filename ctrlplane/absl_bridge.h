// Conversions between std::string_view and absl::string_view.
//
// Debian's Abseil is built with its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0), so Abseil's string functions do not take std::string_view, and fmt cannot
// format absl::string_view. These two functions bridge the types without copying.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace sensor {

inline std::string_view ToStd(absl::string_view text) { return {text.data(), text.size()}; }
inline absl::string_view ToAbsl(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace sensor
