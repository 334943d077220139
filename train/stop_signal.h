#pragma once
// Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM (a scheduler's
// pre-emption). While a StopSignalScope is alive the two signals only set a
// flag; the training loop polls it after each optimizer step, writes a
// checkpoint and returns, and `strata train` then exits with 128 + the
// signal number (130 for SIGINT, 143 for SIGTERM), the shell's convention
// for "stopped by a signal", so scripts and sweeps can tell an interrupted
// run from a finished one (0) and resume it.
//
// The handlers are one-shot (SA_RESETHAND): a second Ctrl-C, e.g. while a
// large checkpoint is being written, kills the process at once. That is
// safe, since checkpoints are written to a temporary file and renamed.
#include <csignal>

namespace strata {

class StopSignalScope {
 public:
  StopSignalScope();   // installs the handlers, clears the flag
  ~StopSignalScope();  // restores the previous handlers
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;

 private:
  struct sigaction old_int_, old_term_;
};

// The signal that asked the run to stop, or 0.
int stop_signal_received();
// Sets the flag as the handler would (tests, or a stop from inside the program).
void request_stop(int signal_number);
void clear_stop_request();

}  // namespace strata
