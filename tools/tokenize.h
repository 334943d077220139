#pragma once
// `strata tokenize`: text files to GPT-2 token shards (data/token_shard.h).
//
//   strata tokenize --vocab PATH --in TEXT... --out FILE
//                   [--val-out FILE --val-fraction F] [--threads N]
//   strata tokenize --vocab PATH --dataset wikitext103 --root DIR [--out-dir DIR]
//
//   --vocab PATH       any vocabulary form data/gpt2_tokenizer.h loads
//                      (default deps/gpt2/gpt2.tiktoken, fetched by
//                      scripts/install-deps.sh)
//   --in TEXT...       input files; each file is one document
//   --out FILE         the token shard
//   --val-out FILE     with --val-fraction F in (0, 0.5]: every k-th
//                      document (k = round(1/F); documents k-1, 2k-1, ...
//                      counted from 0 in input order) goes to this shard
//                      instead of --out
//   --dataset wikitext103 --root DIR
//                      reads DIR/wiki.{train,valid,test}.raw, where each
//                      article (from a " = Title = " line to the next) is a
//                      document, and writes wikitext103_{train,val,test}.bin
//                      into --out-dir (default: DIR/..)
//   --threads N        encoding threads (default: all cores)
//
// Documents: each one is preceded by <|endoftext|> (50256), as in llm.c's
// shards, so a shard starts with it and documents are separated by it. The
// text itself is encoded with encode_ordinary: a literal "<|endoftext|>" in
// a corpus stays text and cannot forge a boundary.
//
// Streaming: files are read in blocks and encoded in parts cut at safe
// points (Gpt2Tokenizer::safe_cut), so memory stays bounded whatever the
// corpus size and the ids equal those of encoding each document whole.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strata::tools {

struct TokenizeCommandOptions {
  std::string vocab = "deps/gpt2/gpt2.tiktoken";
  std::vector<std::string> inputs;
  std::string out;
  std::string val_out;
  double val_fraction = 0.0;
  std::string dataset;  // "" or "wikitext103"
  std::string root;
  std::string out_dir;
  int threads = 0;  // 0: all cores
};

// Adds the subcommand to `app`; returns it (for parsed() checks).
CLI::App* add_tokenize_command(CLI::App& app, TokenizeCommandOptions& options);
int run_tokenize(const TokenizeCommandOptions& options);

}  // namespace strata::tools
