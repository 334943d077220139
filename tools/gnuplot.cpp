#include "tools/gnuplot.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace strata::tools {

namespace fs = std::filesystem;

namespace {

struct Output {
  int exit_code = -1;
  std::string text;  // stdout and stderr
};

// Runs a shell command line, capturing its output.
Output run_command(const std::string& line) {
  FILE* pipe = popen((line + " 2>&1").c_str(), "r");
  if (!pipe) fail("gnuplot", "cannot start: {}", line);
  Output out;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) out.text.append(buffer, n);
  const int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// A path as one shell word.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

constexpr int kCommandNotFound = 127;

// "pngcairo" when this gnuplot has it, else "png"; asked once per process.
const std::string& png_terminal() {
  static const std::string terminal = [] {
    const Output probe = run_command("gnuplot -e 'set terminal pngcairo'");
    if (probe.exit_code == kCommandNotFound) {
      fail("gnuplot", "not found on PATH: the PNG figures need it (Debian: apt-get install gnuplot-nox, "
           "or scripts/install-deps.sh)");
    }
    const bool cairo = probe.exit_code == 0 && probe.text.find("unknown") == std::string::npos;
    return std::string(cairo ? "pngcairo" : "png");
  }();
  return terminal;
}

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

void run_gnuplot(const GnuplotFigure& figure, const std::string& commands) {
  const std::string terminal = png_terminal();
  const std::string script = fs::path(figure.png).replace_extension(".gp").string();
  {
    std::ofstream out(script);
    if (!out) fail("gnuplot", "{}: cannot write the plot script", script);
    out << "# Written by strata; rerun with: gnuplot " << script << "\n";
    out << fmt::format("set terminal {} size {},{} noenhanced font 'sans,10'\n", terminal, figure.width,
                       figure.height);
    out << "set output " << gnuplot_quote(figure.png) << "\n";
    out << commands;
    out << "unset output\n";
  }
  const Output result = run_command(fmt::format("gnuplot {}", shell_quote(script)));
  if (result.exit_code == kCommandNotFound) {
    fail("gnuplot", "not found on PATH: install gnuplot-nox (scripts/install-deps.sh)");
  }
  if (result.exit_code != 0) fail("gnuplot", "{}: gnuplot failed (exit {}):\n{}", script, result.exit_code, result.text);
  if (!fs::exists(figure.png)) fail("gnuplot", "{}: gnuplot wrote no {}:\n{}", script, figure.png, result.text);
}

}  // namespace strata::tools
