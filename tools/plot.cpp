#include "tools/plot.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tools/gnuplot.h"

namespace strata::tools {

namespace fs = std::filesystem;

namespace {

struct Curves {
  std::string name;                           // the run folder's name
  std::vector<std::pair<double, double>> train, test;  // (step, train loss), (step, test metric)
};

Curves read_curves(const std::string& run, const std::string& metric) {
  const fs::path path = fs::path(run) / "metrics.jsonl";
  std::ifstream in(path);
  if (!in) fail("plot", "{}: no metrics.jsonl (is {} a run folder?)", path.string(), run);
  Curves c;
  c.name = fs::path(run).lexically_normal().filename().string();
  if (c.name.empty()) c.name = fs::path(run).lexically_normal().parent_path().filename().string();
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      continue;  // a cut-off last line of a killed run
    }
    const std::string split = j.value("split", "");
    const double step = j.value("step", 0.0);
    if (split == "train" && j.contains("loss")) c.train.emplace_back(step, j["loss"].get<double>());
    if (split == "test" && j.contains(metric)) c.test.emplace_back(step, j[metric].get<double>());
  }
  if (c.train.empty() && c.test.empty()) fail("plot", "{}: no train or test records", path.string());
  return c;
}

std::pair<int, int> parse_size(const std::string& text) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream in(text);
  if (!(in >> w >> x >> h) || x != 'x' || w < 100 || h < 100 || w > 10000 || h > 10000) {
    fail("--size", "expected WIDTHxHEIGHT in pixels (100 to 10000), e.g. 1200x450; got '{}'", text);
  }
  return {w, h};
}

// Blocks in order: run 0 train, run 0 test, run 1 train, ...; an empty
// block holds one NaN row so the indices stay aligned.
std::string data_blocks(const std::vector<Curves>& runs, double test_scale) {
  std::string text;
  auto block = [&](const std::string& title, const std::vector<std::pair<double, double>>& points, double scale) {
    text += "# " + title + "\n";
    for (const auto& [step, value] : points) text += fmt::format("{:.0f} {:.6g}\n", step, value * scale);
    if (points.empty()) text += "NaN NaN\n";
    text += "\n\n";
  };
  for (const Curves& c : runs) {
    block(c.name + " train loss", c.train, 1.0);
    block(c.name + " test", c.test, test_scale);
  }
  return text;
}

}  // namespace

CLI::App* add_plot_command(CLI::App& app, PlotCommandOptions& o) {
  CLI::App* plot = app.add_subcommand("plot", "Plot training curves (train loss, test metric vs step) of runs to a PNG");
  plot->add_option("runs", o.runs, "run folders (each with a metrics.jsonl)")->required()->check(CLI::ExistingDirectory);
  plot->add_option("--out", o.out, "PNG to write (default: RUN_DIR/curves.png of the first run)");
  plot->add_option("--metric", o.metric, "test metric of the right panel")
      ->check(CLI::IsMember({"accuracy", "loss"}))
      ->capture_default_str();
  plot->add_option("--size", o.size, "WIDTHxHEIGHT in pixels")->capture_default_str();
  return plot;
}

int run_plot(const PlotCommandOptions& o) {
  const auto [width, height] = parse_size(o.size);
  std::vector<Curves> runs;
  for (const std::string& run : o.runs) runs.push_back(read_curves(run, o.metric));
  const std::string png = !o.out.empty() ? o.out : (fs::path(o.runs.front()) / "curves.png").string();
  const bool accuracy = o.metric == "accuracy";
  const std::string data = fs::path(png).replace_extension(".dat").string();
  std::ofstream(data) << data_blocks(runs, accuracy ? 100.0 : 1.0);

  std::vector<std::string> train_plots, test_plots;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string title = gnuplot_quote(runs[i].name);
    // Points too where there are few records (a short run logs one line; a lone point has no line).
    const char* style = runs[i].train.size() < 30 ? "linespoints pt 7 ps 0.6" : "lines";
    train_plots.push_back(fmt::format("{} index {} using 1:2 with {} lw 1.5 lc {} title {}", gnuplot_quote(data),
                                      2 * i, style, i + 1, title));
    test_plots.push_back(fmt::format("{} index {} using 1:2 with linespoints lw 1.5 pt 7 lc {} title {}",
                                     gnuplot_quote(data), 2 * i + 1, i + 1, title));
  }
  std::string commands = "set multiplot layout 1,2\nset grid\nset key top right\nset xlabel 'step'\n";
  commands += "set title 'train loss'\nset ylabel 'loss (running mean between log lines)'\n";
  commands += "plot " + fmt::format("{}", fmt::join(train_plots, ", \\\n     ")) + "\n";
  commands += fmt::format("set title {}\nset ylabel {}\nset key {} right\n", gnuplot_quote("test " + o.metric),
                          gnuplot_quote(accuracy ? "accuracy (%)" : "loss"), accuracy ? "bottom" : "top");
  commands += "plot " + fmt::format("{}", fmt::join(test_plots, ", \\\n     ")) + "\n";
  commands += "unset multiplot\n";
  run_gnuplot(GnuplotFigure{png, width, height}, commands);
  fmt::print("wrote {}\n", png);
  return 0;
}

}  // namespace strata::tools
