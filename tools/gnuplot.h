#pragma once
// Drives gnuplot (Debian: gnuplot-nox) for the PNG figures of `strata sweep`
// and `strata plot`: the caller writes the data files and the plot commands,
// this module adds the terminal, writes the script beside the PNG (so a user
// can restyle a figure and rerun `gnuplot FILE.gp`) and runs it.
//
//   GnuplotFigure figure{"runs/x/results.png", 900, 600};
//   run_gnuplot(figure, "set xlabel 'step'\nplot 'data.dat' using 1:2 with lines\n");
//
// The terminal is pngcairo (antialiased) where this gnuplot has it, else the
// libgd png terminal; both give a PNG of exactly width x height pixels. Text
// is not "enhanced" (underscores in names stay underscores). A missing
// gnuplot, or a script gnuplot refuses, is a strata::Error naming the script.
#include <string>

namespace strata::tools {

struct GnuplotFigure {
  std::string png;  // output file; the script goes to the same path with .gp
  int width = 900;
  int height = 600;
};

// Writes <png without extension>.gp (terminal and output lines, then
// `commands`) and runs gnuplot on it.
void run_gnuplot(const GnuplotFigure& figure, const std::string& commands);

// A string as a gnuplot single-quoted literal ('it''s').
std::string gnuplot_quote(const std::string& text);

}  // namespace strata::tools
