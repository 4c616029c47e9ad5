#pragma once
namespace warren::broker {
inline constexpr const char* kVersion = WARREN_VERSION;
}
