#include "env/file_class.h"

#include "env/option_table.h"

namespace uringfs {
namespace {

bool EndsWith(const std::string& s, const char* suffix) {
  const std::string tail(suffix);
  return s.size() > tail.size() &&
         s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

uint32_t FileClassOf(const std::string& fname) {
  if (EndsWith(fname, ".sst") || EndsWith(fname, ".ldb")) {
    return internal::kSstFiles;
  }
  if (EndsWith(fname, ".blob")) return internal::kBlobFiles;
  return 0;
}

}  // namespace uringfs
