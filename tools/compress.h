#pragma once
// `strata compress --checkpoint FILE --spec SPEC [--roles qkv,mlp_in,...] --out FILE`
//
// Compresses a trained model: every linear of the chosen roles is replaced
// by the best approximation of its dense weight in the SPEC structure
// (from_dense: SVD for low-rank, block-wise rank-1 SVD for Monarch, block
// extraction for block-diagonal, PrecGD for BLAST, the GBLR procedure; the
// bias is kept). Prints one row per projected layer (layer, role, shape,
// structure, params, FLOPs, relative Frobenius error ||W - W_hat|| / ||W||)
// and the model's totals before and after, then writes a checkpoint
// (atomically) whose stored config has the new per-role model.linear specs
// and whose model tensors are the projected ones (every other tensor
// copied). It has no optimizer state and step 0, so that
//
//   strata eval --checkpoint OUT                      # accuracy right after compression
//   strata train --init OUT --set train.epochs=1      # re-train (the stored config; --out to choose the folder)
//
// SPEC is a linear spec as YAML, e.g. '{type: blast, blocks: 3, flops_ratio: 0.5}'.
// --roles defaults to the transformer blocks' linears: qkv, attn_out, mlp_in, mlp_out.
// Exit codes: 0; 2 bad usage, spec, role or checkpoint (the message names it); 1 internal.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strata::tools {

struct CompressCommandOptions {
  std::string checkpoint;
  std::string spec;
  std::vector<std::string> roles{"qkv", "attn_out", "mlp_in", "mlp_out"};
  std::string out;
};

CLI::App* add_compress_command(CLI::App& app, CompressCommandOptions& options);
int run_compress(const CompressCommandOptions& options);

}  // namespace strata::tools
