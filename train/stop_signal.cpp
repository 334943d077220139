#include "train/stop_signal.h"

#include <atomic>

namespace strata {

namespace {

// Lock-free, so writing it from a signal handler is well defined.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int signal_number) { g_stop_signal.store(signal_number); }

void install(int signal_number, struct sigaction& old) {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(signal_number, &action, &old);
}

}  // namespace

StopSignalScope::StopSignalScope() {
  clear_stop_request();
  install(SIGINT, old_int_);
  install(SIGTERM, old_term_);
}

StopSignalScope::~StopSignalScope() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int stop_signal_received() { return g_stop_signal.load(); }
void request_stop(int signal_number) { g_stop_signal.store(signal_number); }
void clear_stop_request() { g_stop_signal.store(0); }

}  // namespace strata
