#include "env/size_text.h"

#include <limits>

namespace uringfs {
namespace {

constexpr uint64_t kMaxUnsigned = std::numeric_limits<uint64_t>::max();

// The power of two that a size suffix stands for, or -1 for no suffix.
int SuffixShift(char c) {
  switch (c) {
    case 'k':
    case 'K':
      return 10;
    case 'm':
    case 'M':
      return 20;
    case 'g':
    case 'G':
      return 30;
    case 't':
    case 'T':
      return 40;
    default:
      return -1;
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Accumulates the leading digits of `text` into `*value`; returns how many
// there were, or npos if they overflow 64 bits.
size_t ReadDigits(const std::string& text, uint64_t* value) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (v > (kMaxUnsigned - digit) / 10) return std::string::npos;
    v = v * 10 + digit;
  }
  *value = v;
  return i;
}

}  // namespace

const char* ParseUnsigned(const std::string& text, bool size_suffix,
                          uint64_t* out) {
  if (text.empty()) return "is empty";
  if (text[0] == '-') return "is negative";
  uint64_t v = 0;
  const size_t digits = ReadDigits(text, &v);
  if (digits == std::string::npos) return "is too large (more than 64 bits)";
  const char* malformed = size_suffix
                              ? "is not a size (digits and an optional K, "
                                "M, G or T)"
                              : "is not a whole decimal number";
  if (digits == 0) return malformed;
  if (digits < text.size()) {
    const int shift = size_suffix && digits + 1 == text.size()
                          ? SuffixShift(text[digits])
                          : -1;
    if (shift < 0) return malformed;
    if (v > (kMaxUnsigned >> shift)) return "is too large (more than 64 bits)";
    v <<= shift;
  }
  *out = v;
  return nullptr;
}

std::string FormatSize(uint64_t bytes) {
  static const struct {
    int shift;
    char suffix;
  } kSuffixes[] = {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}};
  for (const auto& s : kSuffixes) {
    const uint64_t unit = uint64_t{1} << s.shift;
    if (bytes != 0 && bytes % unit == 0) {
      return std::to_string(bytes / unit) + s.suffix;
    }
  }
  return std::to_string(bytes);
}

}  // namespace uringfs
