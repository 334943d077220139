#pragma once
// `strata info CONFIG [--set key=value]... [--json]`
// `strata info --devices`: the CUDA devices this build sees, or why none.
//
// Builds the model a run config describes and prints one row per layer:
// name, structure, shape, parameters and forward FLOPs per sample (2 x
// multiply-adds of the matrix products; models/image_classifier.h), the
// FLOPs as a fraction of the same layer dense, then totals and their ratio
// to the same model with every linear dense.
//
// Only the `model:` and `data:` sections are read (other sections are not
// checked: `strata train` does that). The data section, when present,
// supplies image_size, in_channels and num_classes where the model leaves
// them out (cifar10 32x32x3/10, cifar100 32x32x3/100 or 20, fashion_mnist
// and mnist 28x28x1/10, image_folder from its keys); without one the model
// section must give them. Config errors exit 2.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strata::tools {

struct InfoCommandOptions {
  std::string config;  // required unless `devices`
  std::vector<std::string> overrides;
  bool json = false;     // one JSON object per layer, then one with the totals
  bool devices = false;  // list the CUDA devices (name, memory, compute capability) instead
};

// Adds the subcommand to `app`; returns it.
CLI::App* add_info_command(CLI::App& app, InfoCommandOptions& options);
int run_info(const InfoCommandOptions& options);

}  // namespace strata::tools
