#include "layers/embedding.h"

#include "autograd/functions.h"

namespace strata {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions options) {
  if (num_embeddings <= 0 || embedding_dim <= 0) {
    fail("Embedding", "sizes must be positive, got {} x {}", num_embeddings, embedding_dim);
  }
  Tensor w = empty({num_embeddings, embedding_dim}, {options.dtype, options.device});
  normal_(w, 0.0, 1.0, options.generator);
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& index) { return embedding(weight, index); }

}  // namespace strata
