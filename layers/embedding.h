#pragma once
// Embedding: a lookup table (torch.nn.Embedding).
//   index (...) integer in [0, num_embeddings) -> weight[index] (..., dim),
// weight (num_embeddings, dim) ~ N(0, 1) at init.
#include "core/random.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace strata {

struct EmbeddingOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
  Generator* generator = nullptr;
};

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions options = {});

  Tensor forward(const Tensor& index);
  int64_t num_embeddings() const { return weight.size(0); }
  int64_t embedding_dim() const { return weight.size(1); }

  Tensor weight;  // (num_embeddings, dim)
};

}  // namespace strata
