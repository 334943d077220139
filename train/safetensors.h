#pragma once
// safetensors (Hugging Face), the format of Strata's checkpoints:
//
//   [ u64 little-endian N ][ N bytes of UTF-8 JSON header ][ data section ]
//
// The header maps each tensor name to
//   {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
// with offsets in bytes relative to the start of the data section, plus an
// optional "__metadata__": {string: string}. Tensor bytes are row-major,
// little-endian, and the tensors tile the data section exactly (no gaps, no
// overlaps). Our writer pads the header with spaces to a multiple of 8 bytes,
// as the reference writer does, so every tensor starts 8-byte aligned in the
// file.
//
// DType names: F32, F64, BF16, I32, I64, U8. Other safetensors dtypes (F16,
// I8, BOOL, ...) are refused by name: Strata has no such tensors.
#include <map>
#include <string>
#include <vector>

#include "layers/state_dict.h"

namespace strata {

struct SafetensorsFile {
  std::vector<NamedTensor> tensors;             // in file order, CPU, contiguous
  std::map<std::string, std::string> metadata;  // the "__metadata__" map
};

// Readers refuse headers larger than this (the reference limit).
inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

// Writes atomically: to "<path>.tmp", fsync, rename over path, fsync the
// directory. Tensors must be CPU tensors with distinct, non-empty names;
// any strides are fine (they are written row-major).
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Validates everything (header size <= 100 MB and within the file, JSON,
// dtypes, shapes against byte ranges, offsets in range, non-overlapping and
// covering the data section) and throws strata::Error naming the file and
// what is wrong. "File order" is the order of the tensors' bytes.
SafetensorsFile read_safetensors(const std::string& path);

// "F32", "BF16", ... for a dtype.
std::string safetensors_dtype_name(DType dtype);

}  // namespace strata
