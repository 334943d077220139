#pragma once
// Runs the built `strata` binary as a user does, through the shell, for
// the command-line tests: its exit code and what it printed.
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace strata::testing {

struct Command {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// `strata <arguments> 2>&1`; the arguments are shell words (quote paths).
inline Command run_strata(const std::string& arguments) {
  const std::string line = fmt::format("'{}' {} 2>&1", STRATA_BINARY, arguments);
  FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + line);
  Command c;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) c.output.append(buffer, n);
  const int status = pclose(pipe);
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return c;
}

}  // namespace strata::testing
