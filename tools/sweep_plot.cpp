#include "tools/sweep_plot.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "core/error.h"
#include "tools/gnuplot.h"

namespace strata::tools {

namespace fs = std::filesystem;

namespace {

// One point of a line: the cells that differ only in their seed.
struct Point {
  std::vector<double> x, y;
  double mean_x() const { return mean(x); }
  double mean_y() const { return mean(y); }
  static double mean(const std::vector<double>& v) {
    double s = 0.0;
    for (double e : v) s += e;
    return v.empty() ? 0.0 : s / double(v.size());
  }
};

struct Series {
  std::string title;
  bool dense = false;
  std::vector<std::string> order;  // point keys in first-seen order
  std::map<std::string, Point> points;
};

// "low_rank", or "low_rank lr=0.001" when there are further axes.
std::string series_title(const SweepCell& cell) {
  std::string title = cell.structure;
  for (const auto& [key, value] : cell.axes) title += " " + key + "=" + value;
  return title;
}

std::vector<Series> group(const std::vector<SweepResult>& results, double scale) {
  std::vector<Series> series;
  for (const SweepResult& r : results) {
    if (r.status != "finished" || !r.final) continue;
    const std::string title = series_title(r.cell);
    auto it = std::find_if(series.begin(), series.end(), [&](const Series& s) { return s.title == title; });
    if (it == series.end()) {
      series.push_back(Series{title, r.cell.dense, {}, {}});
      it = series.end() - 1;
    }
    const std::string key = r.cell.spec;
    if (!it->points.count(key)) it->order.push_back(key);
    it->points[key].x.push_back(r.relative_flops);
    it->points[key].y.push_back(*r.final * scale);
  }
  return series;
}

// One data block per series (gnuplot `index`): x, mean y, min y, max y.
std::string data_blocks(const std::vector<Series>& series) {
  std::string text;
  for (const Series& s : series) {
    text += "# " + s.title + "\n# relative_flops mean min max\n";
    std::vector<const Point*> points;
    for (const std::string& key : s.order) points.push_back(&s.points.at(key));
    std::sort(points.begin(), points.end(), [](const Point* a, const Point* b) { return a->mean_x() < b->mean_x(); });
    for (const Point* p : points) {
      text += fmt::format("{:.6f} {:.6f} {:.6f} {:.6f}\n", p->mean_x(), p->mean_y(),
                          *std::min_element(p->y.begin(), p->y.end()), *std::max_element(p->y.begin(), p->y.end()));
    }
    text += "\n\n";
  }
  return text;
}

size_t max_seeds(const std::vector<Series>& series) {
  size_t n = 0;
  for (const Series& s : series) {
    for (const auto& [key, p] : s.points) n = std::max(n, p.y.size());
  }
  return n;
}

}  // namespace

void plot_sweep(const SweepConfig& sweep, const std::vector<SweepResult>& results, const std::string& png) {
  const bool accuracy = sweep.metric == "accuracy";
  const std::vector<Series> series = group(results, accuracy ? 100.0 : 1.0);
  if (series.empty()) fail("sweep", "no finished cell to plot");
  const std::string data = fs::path(png).replace_extension(".dat").string();
  std::ofstream(data) << data_blocks(series);

  const size_t seeds = max_seeds(series);
  std::string commands;
  commands += fmt::format("set title {}\n", gnuplot_quote(fmt::format(
      "{}: test {} vs FLOPs (mean over {} seed{}, bars: min to max)", fs::path(sweep.file).stem().string(),
      sweep.metric, seeds, seeds == 1 ? "" : "s")));
  commands += "set xlabel 'forward FLOPs relative to the dense model'\n";
  commands += fmt::format("set ylabel {}\n", gnuplot_quote(accuracy ? "test accuracy (%)" : "test loss"));
  commands += "set key outside right top box\n";  // outside: a legend inside may hide a point
  commands += "set grid\nset offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08\n";
  std::vector<std::string> plots;
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    if (s.dense) {
      const Point& p = s.points.begin()->second;
      plots.push_back(fmt::format("{:.6f} with lines dt 2 lw 1.5 lc rgb 'black' title {}", p.mean_y(),
                                  gnuplot_quote(s.title + " (reference)")));
      plots.push_back(fmt::format("{} index {} using 1:2:3:4 with yerrorbars pt 9 ps 2 lc rgb 'black' notitle",
                                  gnuplot_quote(data), i));
    } else {
      // Okabe-Ito colours: distinguishable for colour-blind readers, none too pale on white.
      static const char* colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999"};
      plots.push_back(fmt::format("{} index {} using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.2 lc rgb '{}' title {}",
                                  gnuplot_quote(data), i, colours[i % std::size(colours)], gnuplot_quote(s.title)));
    }
  }
  commands += "plot " + fmt::format("{}", fmt::join(plots, ", \\\n     ")) + "\n";
  run_gnuplot(GnuplotFigure{png, kSweepPlotWidth, kSweepPlotHeight}, commands);
}

}  // namespace strata::tools
