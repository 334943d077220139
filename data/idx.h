#pragma once
// MNIST and Fashion-MNIST in IDX format, gzipped (.gz) or not.
//
// IDX is big-endian. Images: magic 0x00000803 (u8 data, 3 dims), count, rows,
// cols, then count*rows*cols pixel bytes. Labels: magic 0x00000801 (u8, 1
// dim), count, then count label bytes. The image and label files of a split
// must hold the same count; labels must be in 0..9; a file with fewer or more
// bytes than its header announces is refused, naming the file.
//
// Files in `root`: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally with ".gz"
// (Debian's dataset-fashion-mnist package installs the .gz files in
// kDebianFashionMnistRoot).
//
// Result: Dataset with images u8 (N, 1, rows, cols) and labels i64 (N).
#include <string>
#include <string_view>

#include "data/dataset.h"

namespace strata::data {

inline constexpr const char* kDebianFashionMnistRoot = "/usr/share/datasets/fashion-mnist";

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;

// One IDX file each; `who` prefixes errors. Labels must be < num_classes.
Tensor read_idx_images(const std::string& path, std::string_view who = "idx");
Tensor read_idx_labels(const std::string& path, int64_t num_classes, std::string_view who = "idx");

// An image file and a label file with matching counts.
Dataset read_idx_dataset(const std::string& images_path, const std::string& labels_path, std::string name,
                         std::vector<std::string> class_names);

Dataset read_fashion_mnist(const std::string& root = kDebianFashionMnistRoot, Split split = Split::train);
Dataset read_mnist(const std::string& root, Split split);

// root/stem if it exists, else root/stem.gz; an error naming both when neither does.
std::string find_idx_file(const std::string& root, const std::string& stem, std::string_view who);

}  // namespace strata::data
