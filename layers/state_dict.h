#pragma once
// StateDict: an ordered name -> Tensor map, like PyTorch's OrderedDict
// state_dict. Keys are dotted paths ("blocks.0.attn.qkv.weight") in the
// order the module registered them; lookups are by exact key.
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace strata {

using NamedTensor = std::pair<std::string, Tensor>;

class StateDict {
 public:
  StateDict() = default;

  // Appends a key; a key that is already present is an error (naming it).
  void insert(std::string key, Tensor value);
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  // The tensor for `key`, or nullptr.
  const Tensor* find(const std::string& key) const;
  // The tensor for `key`; an error naming the key when it is absent.
  const Tensor& at(const std::string& key) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<std::string> keys() const;
  const std::vector<NamedTensor>& entries() const { return entries_; }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  std::vector<NamedTensor> entries_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace strata
