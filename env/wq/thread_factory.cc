#include "env/wq/thread_factory.h"

#include <cerrno>
#include <system_error>
#include <utility>

namespace uringfs {
namespace wq {
namespace {

class StdThreadFactory final : public ThreadFactory {
 public:
  int Start(std::function<void()> body, std::thread* thread) override {
    try {
      *thread = std::thread(std::move(body));
      return 0;
    } catch (const std::system_error& e) {
      return e.code().value() > 0 ? -e.code().value() : -EAGAIN;
    } catch (...) {
      return -EAGAIN;
    }
  }
};

}  // namespace

ThreadFactory* ThreadFactory::Default() {
  static ThreadFactory* const factory = new StdThreadFactory();  // Never freed.
  return factory;
}

}  // namespace wq
}  // namespace uringfs
