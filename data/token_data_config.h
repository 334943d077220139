#pragma once
// The `data:` section of a language-model run config (model.name: gpt2):
// token shards written by `strata tokenize` (data/token_shard.h).
//
//   data:
//     train: data/wikitext103_train.bin     # one shard or a list of shards (required to train;
//                                           # a config without data, e.g. of an imported
//                                           # model, still samples and compresses)
//     val: data/wikitext103_val.bin         # optional; evaluated during training
//     test: data/wikitext103_test.bin       # optional; `strata eval --split test`
//     vocab: deps/gpt2/gpt2.tiktoken        # the tokenizer the shards were written with
//                                           # (for `strata sample`); any form Gpt2Tokenizer loads
//     batch_size: 8                         # sequences per micro-batch, per rank
//     eval_batch_size: 0                    # 0 = batch_size
//     context: 0                            # tokens per sequence; 0 = model.context
//     sampling: random                      # random windows | sequential (non-overlapping blocks)
//     eval_batches: 0                       # evaluations during training read the first N
//                                           # batches (0 = all); the final one reads all
//
// Evaluation always reads the split as consecutive non-overlapping blocks
// of `context` tokens (each token predicted once, from the tokens before it
// in its block), and reports the mean loss per token and exp of it, the
// perplexity. Relative paths are relative to the working directory.
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"

namespace strata::data {

struct TokenDataConfig {
  std::vector<std::string> train, val, test;
  std::string vocab = "deps/gpt2/gpt2.tiktoken";
  int64_t batch_size = 8;
  int64_t eval_batch_size = 0;
  int64_t context = 0;
  std::string sampling = "random";
  int64_t eval_batches = 0;

  int64_t eval_batch() const { return eval_batch_size > 0 ? eval_batch_size : batch_size; }
};

// Reads and checks the section (calls section.finish()). `model_context`
// is the model's longest sequence: context 0 becomes it, and a longer one
// is refused.
TokenDataConfig read_token_data_config(config::Section& section, int64_t model_context);

}  // namespace strata::data
